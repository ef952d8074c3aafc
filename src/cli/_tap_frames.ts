// What `gotalk tap` and `gotalk replay` see in a byte stream: each direction is decoded from a
// copy of the bytes with the protocol's MessageDecoder, fed chunk by chunk; a decode error turns
// the rest of that direction into raw bytes, shown and flagged. Internal to the command.

import { MessageDecoder } from "../protocol/decoder.ts";
import { encodedHeaderLength } from "../protocol/encoder.ts";
import { MessageType, ProtocolErrorCode } from "../protocol/constants.ts";
import { type Message, requestIdToBytes } from "../protocol/message.ts";

/** Which way bytes travel: client to server, or server to client. */
export type Direction = "c2s" | "s2c";

/** One thing seen in a direction: a frame, the point where decoding failed, or raw bytes. */
export type TapEvent =
  | { kind: "frame"; message: Message; headerBytes: number; payloadBytes: number }
  | { kind: "malformed"; error: string; bytes: Uint8Array }
  | { kind: "raw"; bytes: Uint8Array };

/** The largest payload the tap decodes; a larger one is shown as malformed and passed on. */
const MAX_DECODED_PAYLOAD = 256 * 1024 * 1024;

/** Decodes one direction of a conversation, chunk by chunk. */
export class FrameWatcher {
  readonly #decoder = new MessageDecoder({
    handshake: true,
    maxPayloadBytes: MAX_DECODED_PAYLOAD,
  });
  #failed = false;
  /** The stream offset just after the last complete frame. */
  #framed = 0;

  /** The events in `chunk` (which is only read, never kept). */
  feed(chunk: Uint8Array): TapEvent[] {
    if (this.#failed) return [{ kind: "raw", bytes: chunk.slice() }];
    const out: TapEvent[] = [];
    const start = this.#decoder.offset;
    try {
      this.#decoder.push(chunk, (message) => {
        const ev = frameEvent(message);
        this.#framed += ev.headerBytes + ev.payloadBytes;
        out.push(ev);
      });
    } catch (e) {
      this.#failed = true;
      // From the start of the frame that failed (or of this chunk, if it began earlier).
      const at = Math.max(0, Math.min(chunk.length, this.#framed - start));
      out.push({
        kind: "malformed",
        error: e instanceof Error ? e.message : String(e),
        bytes: chunk.slice(at),
      });
    }
    return out;
  }

  /** Whether the stream ended inside a frame (call when the direction closes). */
  get partial(): boolean {
    return !this.#failed && this.#decoder.partial;
  }
}

function frameEvent(message: Message): TapEvent & { kind: "frame" } {
  if (message.type === "handshake") {
    return { kind: "frame", message, headerBytes: 2, payloadBytes: 0 };
  }
  const payloadBytes = "payload" in message ? message.payload.length : 0;
  // A payload may be a view into the chunk: keep a copy for whoever holds the event.
  const kept = "payload" in message ? { ...message, payload: message.payload.slice() } : message;
  return { kind: "frame", message: kept, headerBytes: encodedHeaderLength(message), payloadBytes };
}

const TYPE_NAMES: Record<string, string> = Object.fromEntries(
  Object.entries(MessageType).map(([name, code]) => [code, name]),
);
const ERROR_NAMES: Record<number, string> = Object.fromEntries(
  Object.entries(ProtocolErrorCode).map(([name, code]) => [code, name]),
);

/** The name of a message type (`r` is `SingleRequest`). */
export function typeName(message: Message): string {
  return message.type === "handshake" ? "Handshake" : TYPE_NAMES[message.type] ?? message.type;
}

/** A request id as it is on the wire: its four bytes as text when printable, else hex. */
export function formatId(id: number): string {
  const b = requestIdToBytes(id);
  return b.every((c) => c >= 0x21 && c < 0x7f)
    ? String.fromCharCode(...b)
    : `0x${id.toString(16).padStart(8, "0")}`;
}

const utf8 = new TextDecoder("utf-8", { fatal: true });

/** A payload preview: compact JSON, quoted text, or hex. */
export function preview(
  payload: Uint8Array,
  max = 80,
): { kind: "json" | "text" | "hex" | "empty"; text: string } {
  if (payload.length === 0) return { kind: "empty", text: "" };
  const cut = (s: string): string => s.length > max ? `${s.slice(0, max - 1)}…` : s;
  let text: string | undefined;
  try {
    text = utf8.decode(payload.subarray(0, Math.min(payload.length, 64 * 1024)));
  } catch {
    text = undefined;
  }
  if (text !== undefined && payload.length <= 64 * 1024) {
    try {
      return { kind: "json", text: cut(JSON.stringify(JSON.parse(text))) };
    } catch {
      // not JSON
    }
  }
  // deno-lint-ignore no-control-regex -- control characters make it binary
  if (text !== undefined && !/[\x00-\x08\x0e-\x1f\x7f]/.test(text)) {
    return { kind: "text", text: cut(JSON.stringify(text)) };
  }
  const n = Math.min(payload.length, Math.floor(max / 3));
  const hex = [...payload.subarray(0, n)].map((b) => b.toString(16).padStart(2, "0")).join(" ");
  return { kind: "hex", text: payload.length > n ? `${hex} …` : hex };
}

/** The fields of a frame shown by `tap`: id, op or name, and what else its type carries. */
export function frameFields(message: Message): Record<string, string | number> {
  switch (message.type) {
    case "handshake":
      return { version: message.version };
    case "h":
      return { load: message.load, time: message.time };
    case "f":
      return { code: message.code, error: ERROR_NAMES[message.code] ?? "unknown" };
    case "n":
      return { name: message.name };
    case "r":
    case "s":
      return { id: formatId(message.id), op: message.name };
    case "e":
      return { id: formatId(message.id), wait: message.wait };
    default:
      return { id: formatId(message.id) };
  }
}

/** Times each request until its result: requests in one direction, results in the other. */
export class RoundTrips {
  readonly #pending: Record<Direction, Map<number, number>> = {
    c2s: new Map(),
    s2c: new Map(),
  };

  /** The round-trip time in ms if `message` is a result, else `undefined`; records requests. */
  see(dir: Direction, message: Message, now: number): number | undefined {
    switch (message.type) {
      case "r":
      case "s":
        this.#pending[dir].set(message.id, now);
        return undefined;
      case "R":
      case "E":
      case "e":
      case "S": {
        const requests = this.#pending[dir === "c2s" ? "s2c" : "c2s"];
        const t = requests.get(message.id);
        if (t === undefined) return undefined;
        if (message.type !== "S" || message.payload.length === 0) requests.delete(message.id);
        return now - t;
      }
      default:
        return undefined;
    }
  }
}
