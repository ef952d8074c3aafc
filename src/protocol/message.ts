// This module is browser compatible.

import { checkUint } from "./_util.ts";

/**
 * A request id: the four opaque id bytes of a request, read big-endian as an unsigned 32-bit
 * integer. It is a key, never a count: ids round-trip byte for byte whatever they hold (Go's raw
 * little-endian counters, gotalk.js's base-36 text). Convert with {@linkcode requestIdToBytes}
 * and {@linkcode requestIdFromBytes}.
 *
 * @example Usage
 * ```ts
 * import { type RequestId, requestIdFromBytes } from "@gotalk/gotalk/protocol";
 * import assert from "node:assert/strict";
 *
 * const id: RequestId = requestIdFromBytes(new TextEncoder().encode("0001"));
 * assert.equal(id, 0x30303031);
 * ```
 */
export type RequestId = number;

/**
 * A request: `r` (single payload) or `s` (the first part of a streaming request).
 *
 * @example Usage
 * ```ts
 * import { type RequestMessage, encodeMessage } from "@gotalk/gotalk/protocol";
 * import assert from "node:assert/strict";
 *
 * const m: RequestMessage = { type: "r", id: 0x30303031, name: "echo", payload: new Uint8Array(0) };
 * assert.equal(new TextDecoder().decode(encodeMessage(m)), "r0001004echo00000000");
 * ```
 */
export interface RequestMessage {
  /** `r` or `s`. */
  type: "r" | "s";
  /** The request id. */
  id: RequestId;
  /** The operation, as UTF-8 text of at most 4095 bytes. */
  name: string;
  /** The payload. A decoded payload may be a view into the transport's chunk (see {@linkcode MessageDecoder}). */
  payload: Uint8Array;
}

/**
 * A message with a request id and a payload: `p` (stream request part), `R` (single result),
 * `S` (stream result part) or `E` (error result, plain text).
 *
 * @example Usage
 * ```ts
 * import { type PayloadMessage, encodeMessage } from "@gotalk/gotalk/protocol";
 * import assert from "node:assert/strict";
 *
 * const m: PayloadMessage = { type: "R", id: 0x30303031, payload: new TextEncoder().encode("hi") };
 * assert.equal(new TextDecoder().decode(encodeMessage(m)), "R000100000002hi");
 * ```
 */
export interface PayloadMessage {
  /** `p`, `R`, `S` or `E`. */
  type: "p" | "R" | "S" | "E";
  /** The id of the request this belongs to. */
  id: RequestId;
  /** The payload (empty `p`/`S` ends a stream). May be a view into the transport's chunk. */
  payload: Uint8Array;
}

/**
 * A RetryResult (`e`): the responder asks the requestor to retry after `wait` milliseconds.
 *
 * @example Usage
 * ```ts
 * import { type RetryMessage, encodeMessage } from "@gotalk/gotalk/protocol";
 * import assert from "node:assert/strict";
 *
 * const m: RetryMessage = { type: "e", id: 0x30303031, wait: 5000, payload: new Uint8Array(0) };
 * assert.equal(new TextDecoder().decode(encodeMessage(m)), "e00010000138800000000");
 * ```
 */
export interface RetryMessage {
  /** `e`. */
  type: "e";
  /** The id of the request to retry. */
  id: RequestId;
  /** How long to wait before retrying, in milliseconds (0 to 0xffffffff). */
  wait: number;
  /** A plain-text reason. May be a view into the transport's chunk. */
  payload: Uint8Array;
}

/**
 * A notification (`n`): a named one-way message.
 *
 * @example Usage
 * ```ts
 * import { type NotificationMessage, encodeMessage } from "@gotalk/gotalk/protocol";
 * import assert from "node:assert/strict";
 *
 * const m: NotificationMessage = { type: "n", name: "hi", payload: new Uint8Array(0) };
 * assert.equal(new TextDecoder().decode(encodeMessage(m)), "n002hi00000000");
 * ```
 */
export interface NotificationMessage {
  /** `n`. */
  type: "n";
  /** The notification name, as UTF-8 text of at most 4095 bytes. */
  name: string;
  /** The payload. May be a view into the transport's chunk. */
  payload: Uint8Array;
}

/**
 * A heartbeat (`h`): the sender's load and its clock.
 *
 * @example Usage
 * ```ts
 * import { type HeartbeatMessage, encodeMessage } from "@gotalk/gotalk/protocol";
 * import assert from "node:assert/strict";
 *
 * const m: HeartbeatMessage = { type: "h", load: 1, time: 0x5f5e1000 };
 * assert.equal(new TextDecoder().decode(encodeMessage(m)), "h00015f5e1000");
 * ```
 */
export interface HeartbeatMessage {
  /** `h`. */
  type: "h";
  /** The sender's load, 0 to 0xffff (Go sends 0 to 0xffff scaled from 0.0 to 1.0). */
  load: number;
  /** The sender's time in UTC seconds since the Unix epoch (0 to 0xffffffff). */
  time: number;
}

/**
 * A ProtocolError message (`f`): the sender is about to close the connection.
 *
 * @example Usage
 * ```ts
 * import { type ProtocolErrorMessage, encodeMessage } from "@gotalk/gotalk/protocol";
 * import assert from "node:assert/strict";
 *
 * const m: ProtocolErrorMessage = { type: "f", code: 1 };
 * assert.equal(new TextDecoder().decode(encodeMessage(m)), "f00000001");
 * ```
 */
export interface ProtocolErrorMessage {
  /** `f`. */
  type: "f";
  /** The code (see {@linkcode ProtocolErrorCode}). */
  code: number;
}

/**
 * The handshake: the protocol version each side sends first. Only produced by a decoder made
 * with `handshake: true`, and only as its first message.
 *
 * @example Usage
 * ```ts
 * import { type HandshakeMessage, encodeMessage } from "@gotalk/gotalk/protocol";
 * import assert from "node:assert/strict";
 *
 * const m: HandshakeMessage = { type: "handshake", version: 1 };
 * assert.equal(new TextDecoder().decode(encodeMessage(m)), "01");
 * ```
 */
export interface HandshakeMessage {
  /** `handshake` (not a wire type byte: the handshake has none). */
  type: "handshake";
  /** The protocol version, 0 to 255. */
  version: number;
}

/**
 * Any Gotalk message, discriminated by `type`.
 *
 * @example Handling each kind of decoded message
 * ```ts
 * import { type Message, MessageDecoder } from "@gotalk/gotalk/protocol";
 * import assert from "node:assert/strict";
 *
 * const describe = (m: Message): string => {
 *   switch (m.type) {
 *     case "r": return `request ${m.name}`;
 *     case "n": return `notification ${m.name}`;
 *     case "f": return `protocol error ${m.code}`;
 *     default: return m.type;
 *   }
 * };
 * const seen: string[] = [];
 * new MessageDecoder().push(new TextEncoder().encode("n002hi00000000f00000003"), (m) => seen.push(describe(m)));
 * assert.deepEqual(seen, ["notification hi", "protocol error 3"]);
 * ```
 */
export type Message =
  | RequestMessage
  | PayloadMessage
  | RetryMessage
  | NotificationMessage
  | HeartbeatMessage
  | ProtocolErrorMessage
  | HandshakeMessage;

/**
 * Reads four id bytes as a {@linkcode RequestId}.
 *
 * @param bytes Exactly four bytes.
 * @returns The id.
 * @throws {RangeError} If `bytes` is not four bytes long.
 *
 * @example Usage
 * ```ts
 * import { requestIdFromBytes } from "@gotalk/gotalk/protocol";
 * import assert from "node:assert/strict";
 *
 * assert.equal(requestIdFromBytes(new Uint8Array([1, 0, 0, 0])), 0x01000000);
 * ```
 */
export function requestIdFromBytes(bytes: Uint8Array): RequestId {
  if (bytes.length !== 4) throw new RangeError(`A request id is 4 bytes, got ${bytes.length}`);
  return ((bytes[0] << 24) | (bytes[1] << 16) | (bytes[2] << 8) | bytes[3]) >>> 0;
}

/**
 * Writes a {@linkcode RequestId} as its four wire bytes.
 *
 * @param id The id, an unsigned 32-bit integer.
 * @returns Four bytes.
 * @throws {RangeError} If `id` is not an unsigned 32-bit integer.
 *
 * @example Usage
 * ```ts
 * import { requestIdToBytes } from "@gotalk/gotalk/protocol";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual(requestIdToBytes(0x30303031), new TextEncoder().encode("0001"));
 * ```
 */
export function requestIdToBytes(id: RequestId): Uint8Array {
  checkUint(id, 0xffffffff, "A request id");
  return new Uint8Array([id >>> 24, (id >>> 16) & 0xff, (id >>> 8) & 0xff, id & 0xff]);
}
