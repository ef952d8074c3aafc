/**
 * The shorthands the catalogue's sections are written in: wire bytes (`req`, `note`, `hb`,
 * ...), message patterns (`R`, `E`, `F`, ...), steps (`send`, `expect`, `oneOf`, ...), the
 * outcomes several sections share, and `build`, which numbers a section's cases.
 *
 * @module
 */

import { encodeMessage, type Message } from "../../src/protocol/mod.ts";
import type {
  Captures,
  Case,
  ClosedStep,
  Data,
  ExpectBytesStep,
  ExpectStep,
  MessagePattern,
  OneOfStep,
  Outcome,
  PauseStep,
  PayloadMatch,
  ReadStep,
  Section,
  SendStep,
  SilenceStep,
  Step,
} from "./_types.ts";

/** UTF-8 encoder. */
export const utf8: TextEncoder = new TextEncoder();

/** Latin1 bytes of `s` (every char must be < 256): raw wire text with `\xNN` escapes. */
export function lat(s: string): Uint8Array {
  const b = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c > 0xff) throw new RangeError(`Not a latin1 string: ${JSON.stringify(s)}`);
    b[i] = c;
  }
  return b;
}

/** Concatenates byte arrays and latin1 strings. */
export function cat(...parts: (Uint8Array | string)[]): Uint8Array {
  const bs = parts.map((p) => typeof p === "string" ? lat(p) : p);
  const out = new Uint8Array(bs.reduce((n, b) => n + b.length, 0));
  let o = 0;
  for (const b of bs) {
    out.set(b, o);
    o += b.length;
  }
  return out;
}

/** `n` as `digits` lowercase hex digits. */
export function hex(n: number, digits: number): string {
  return n.toString(16).padStart(digits, "0");
}

/** A request id (4 latin1 chars) as the codec's number. */
export function idNum(id: string): number {
  const b = lat(id);
  if (b.length !== 4) throw new RangeError(`An id is 4 bytes: ${JSON.stringify(id)}`);
  return ((b[0] << 24) | (b[1] << 16) | (b[2] << 8) | b[3]) >>> 0;
}

/** A codec request id as 4 latin1 chars. */
export function idStr(id: number): string {
  return String.fromCharCode(id >>> 24, (id >>> 16) & 0xff, (id >>> 8) & 0xff, id & 0xff);
}

/** UTF-8 bytes of text; bytes unchanged. */
export const bytesOf = (p: string | Uint8Array): Uint8Array =>
  typeof p === "string" ? utf8.encode(p) : p;
/** JSON text of `v` as UTF-8 bytes. */
export const json = (v: unknown): Uint8Array => utf8.encode(JSON.stringify(v));

/** `r`: a single-payload request (payload: UTF-8 text or bytes). */
export function req(id: string, op: string, payload: string | Uint8Array = ""): Uint8Array {
  return encodeMessage({ type: "r", id: idNum(id), name: op, payload: bytesOf(payload) });
}

/** `r` with a JSON payload. */
export function jreq(id: string, op: string, value: unknown): Uint8Array {
  return req(id, op, json(value));
}

/** `s`: a streaming request with its first part. */
export function sreq(id: string, op: string, payload: string | Uint8Array = ""): Uint8Array {
  return encodeMessage({ type: "s", id: idNum(id), name: op, payload: bytesOf(payload) });
}

/** A `p`, `R`, `S` or `E` message. */
export function msg(
  type: "p" | "R" | "S" | "E",
  id: string,
  payload: string | Uint8Array = "",
): Uint8Array {
  return encodeMessage({ type, id: idNum(id), payload: bytesOf(payload) });
}

/** `n`: a notification. */
export function note(name: string, payload: string | Uint8Array = ""): Uint8Array {
  return encodeMessage({ type: "n", name, payload: bytesOf(payload) });
}

/** `h`: a heartbeat. */
export function hb(load: number, time: number): Uint8Array {
  return encodeMessage({ type: "h", load, time });
}

/** Now, in UTC seconds. */
export const nowSec = (): number => Math.floor(Date.now() / 1000);

/** Pattern: `R` for `id` with `payload`. */
export function R(id: string, payload?: PayloadMatch): MessagePattern {
  return { type: "R", id, payload };
}

/** Pattern: `S` for `id` with `payload`. */
export function S(id: string, payload?: PayloadMatch): MessagePattern {
  return { type: "S", id, payload };
}

/** Pattern: `E` for `id` with `payload`. */
export function E(id: string, payload?: PayloadMatch): MessagePattern {
  return { type: "E", id, payload };
}

/** Pattern: `f` with `code`. */
export function F(code: number): MessagePattern {
  return { type: "f", code };
}

/** Pattern: `n` named `name` with `payload`. */
export function N(name: string, payload?: PayloadMatch): MessagePattern {
  return { type: "n", name, payload };
}

/** Payload predicate: plain, non-empty text (not a JSON object or string). */
export function plainText(p: Uint8Array): string | undefined {
  if (p.length === 0) return "the text is empty";
  const s = new TextDecoder().decode(p);
  if (/^\s*[{"]/.test(s)) return `the text looks like JSON: ${s.slice(0, 60)}`;
  return undefined;
}

/** Payload predicate factory: the text contains `part`. */
export function contains(part: string | Uint8Array): (p: Uint8Array) => string | undefined {
  const needle = bytesOf(part);
  return (p) => {
    outer: for (let i = 0; i + needle.length <= p.length; i++) {
      for (let j = 0; j < needle.length; j++) if (p[i + j] !== needle[j]) continue outer;
      return undefined;
    }
    return `the payload does not contain "${new TextDecoder().decode(needle).slice(0, 60)}"`;
  };
}

/** Test: a RetryResult's wait is within [min, max] ms and its text is plain and non-empty. */
export function retryWait(min: number, max: number): (m: Message) => string | undefined {
  return (m) => {
    if (m.type !== "e") return undefined;
    if (m.wait < min || m.wait > max) return `wait ${m.wait} ms is outside [${min}, ${max}]`;
    return m.payload.length === 0 ? "the RetryResult has no text" : undefined;
  };
}

/** Deterministic pseudo-random bytes. */
export function noise(n: number, seed = 1): Uint8Array {
  const b = new Uint8Array(n);
  let x = seed >>> 0;
  for (let i = 0; i < n; i++) {
    x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
    b[i] = x >>> 24;
  }
  return b;
}

// Step shorthands.
/** Latin1 text as bytes; bytes and functions unchanged. */
export const raw = (d: string | Data): Data => typeof d === "string" ? lat(d) : d;
/** Step: send (latin1 text, bytes or bytes from captures). */
export const send = (data: string | Data, extra: Partial<SendStep> = {}): SendStep => ({
  do: "send",
  data: raw(data),
  ...extra,
});
/** Step: expect one message, or several in any order. */
export const expect = (
  m: MessagePattern | MessagePattern[],
  extra: Partial<ExpectStep> = {},
): ExpectStep => ({
  do: "expect",
  msg: m,
  ...extra,
});
/** Step: expect exact bytes. */
export const expectBytes = (
  bytes: string | Data,
  extra: Partial<ExpectBytesStep> = {},
): ExpectBytesStep => ({
  do: "expectBytes",
  bytes: raw(bytes),
  ...extra,
});
/** Step: the server closes. */
export const closed = (extra: Partial<ClosedStep> = {}): ClosedStep => ({ do: "closed", ...extra });
/** Step: nothing arrives for `ms`. */
export const silence = (ms: number, extra: Partial<SilenceStep> = {}): SilenceStep => ({
  do: "silence",
  ms,
  ...extra,
});
/** Step: wait (pacing only). */
export const pause = (ms: number | ((c: Captures) => number)): PauseStep => ({ do: "pause", ms });
/** Step: the first outcome whose reads pass judges the case. */
export const oneOf = (...outcomes: Outcome[]): OneOfStep => ({ do: "oneOf", outcomes });
/** An OK outcome (`note` is shown when it is not the first). */
export const ok = (steps: ReadStep[], note = ""): Outcome => ({ verdict: "OK", note, steps });
/** A NON-STRICT outcome: the reference's deviation, named in `note`. */
export const nonStrict = (note: string, steps: ReadStep[]): Outcome => ({
  verdict: "NON-STRICT",
  note,
  steps,
});

/** An echo round trip on `conn`: proves the connection is still in sync. */
export const echoWorks = (id: string, conn?: string): Step[] => [
  send(req(id, "echo", `still here ${id}`), { conn }),
  expect(R(id, `still here ${id}`), { conn }),
];

/** The strict reaction to invalid input: f00000002, then the server closes. */
export const invalidMessage = (timeoutMs = 3000): Outcome =>
  ok([expect(F(2), { timeoutMs }), closed()], "ProtocolError 2 then close");

/** Go's reaction to most malformed input: it closes without a ProtocolError. */
export const goSilentClose = (what: string): Outcome =>
  nonStrict(
    `closes the connection without sending f00000002 (the reference does this on ${what})`,
    [closed()],
  );

// Where a case's `checks` text quotes from.
export const README = "rsms/gotalk README";
export const NOTES = "interop-notes";
export const CONTRACT = "conformance-peer contract";
export const GO = "go-peer README (reference quirks)";

/** A case as a section writes it: `build` adds the id and the section. */
export type CaseInput = Omit<Case, "id" | "section">;

/** Test: a ProtocolError with one of `codes`. */
export function codeIn(m: Message, codes: number[]): string | undefined {
  return m.type === "f" && codes.includes(m.code) ? undefined : `want code ${codes.join(" or ")}`;
}

/**
 * A slow consumer: the echo right after it must be answered within 1 s (the consumer takes
 * 2 s); `later` are the messages the consumer sends once it is done.
 */
export const notStalled = (id: string, what: string, later: MessagePattern[] = []): OneOfStep =>
  oneOf(
    ok([
      expect(R(id, "not stalled"), { timeoutMs: 1000 }),
      ...(later.length ? [expect(later, { timeoutMs: 3000 })] : []),
    ]),
    nonStrict(
      `${what} stalls the whole connection: the echo sent after it was answered only once it finished, about 2 s later`,
      [expect([R(id, "not stalled"), ...later], { timeoutMs: 3000 })],
    ),
  );

/** Payload: what `notes` answers after `count` notifications, the last `name` with `value`. */
export const notesIs = (count: number, name: string, value: unknown): PayloadMatch => ({
  json: { count, last: { name, value } },
});

/** Numbers a section's cases: `gotalk/<section>/1` on, in order. */
export function build(section: Section, inputs: CaseInput[]): Case[] {
  return inputs.map((c, i) => ({ id: `gotalk/${section}/${i + 1}`, section, ...c }));
}
