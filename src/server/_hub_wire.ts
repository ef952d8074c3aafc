// This module is browser compatible.
// What a Hub puts on its backplane: subject names, and the small envelopes around the Gotalk
// frames and payloads it carries (the frames themselves cross as opaque bytes).

const SAFE_TOKEN = /^[A-Za-z0-9_-]{1,128}$/;
const utf8 = new TextEncoder();

/** `s` as one NATS subject token: as it is when safe, else `~` and its UTF-8 as hex. */
export function subjectToken(s: string): string {
  if (SAFE_TOKEN.test(s)) return s;
  let hex = "~";
  for (const b of utf8.encode(s)) hex += b.toString(16).padStart(2, "0");
  return hex;
}

/** The subjects of one hub's cluster, under `prefix`. */
export interface Subjects {
  topic(name: string): string;
  op(op: string): string;
  peer(id: string): string;
  /** The queue group of the servers answering ops. */
  readonly opQueue: string;
}

/** Subjects under `prefix`: `prefix.t.NAME`, `prefix.op.OP`, `prefix.p.ID`. */
export function subjects(prefix: string): Subjects {
  return {
    topic: (name) => `${prefix}.t.${subjectToken(name)}`,
    op: (op) => `${prefix}.op.${subjectToken(op)}`,
    peer: (id) => `${prefix}.p.${subjectToken(id)}`,
    opQueue: `${prefix}.ops`,
  };
}

/** A random node or peer id: 16 hex digits. */
export function randomId(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(8));
  let s = "";
  for (const b of bytes) s += b.toString(16).padStart(2, "0");
  return s;
}

/** A topic message: the origin node's id (to skip its own echo), then the frame. */
export function wrapTopicFrame(origin: Uint8Array, frame: Uint8Array): Uint8Array {
  const out = new Uint8Array(1 + origin.length + frame.length);
  out[0] = origin.length;
  out.set(origin, 1);
  out.set(frame, 1 + origin.length);
  return out;
}

/** The frame of a topic message, or `undefined` if it came from `self` (or is malformed). */
export function unwrapTopicFrame(data: Uint8Array, self: Uint8Array): Uint8Array | undefined {
  const n = data[0];
  if (data.length < 1 + n) return undefined;
  if (n === self.length) {
    let same = true;
    for (let i = 0; i < n && same; i++) same = data[1 + i] === self[i];
    if (same) return undefined;
  }
  return data.slice(1 + n);
}

/** A cluster op's reply: a status byte (0 result, 1 ErrorResult payload), then the bytes. */
export function wrapReply(ok: boolean, bytes: Uint8Array): Uint8Array {
  const out = new Uint8Array(1 + bytes.length);
  out[0] = ok ? 0 : 1;
  out.set(bytes, 1);
  return out;
}

/** Reads a reply made by {@linkcode wrapReply}. */
export function unwrapReply(data: Uint8Array): { ok: boolean; bytes: Uint8Array } {
  return { ok: data.length > 0 && data[0] === 0, bytes: data.subarray(1) };
}
