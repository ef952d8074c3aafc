// This module is browser compatible.

import { MAX_NAME_BYTES, MAX_WIRE_PAYLOAD_BYTES, PROTOCOL_VERSION } from "./constants.ts";
import type { Message } from "./message.ts";
import { checkUint, utf8IfNotAscii, writeHex } from "./_util.ts";

const EMPTY = new Uint8Array(0);

/** Header length by type for the fixed-size headers. */
function fixedHeaderLength(type: string): number {
  switch (type) {
    case "p":
    case "R":
    case "S":
    case "E":
    case "h":
      return 13;
    case "e":
      return 21;
    case "f":
      return 9;
    case "handshake":
      return 2;
  }
  throw new TypeError(`Unknown message type ${JSON.stringify(type)}`);
}

function nameBytesLength(name: string, utf8: Uint8Array | null): number {
  const n = utf8 === null ? name.length : utf8.length;
  if (n > MAX_NAME_BYTES) {
    throw new RangeError(`A name is at most ${MAX_NAME_BYTES} bytes of UTF-8, got ${n}`);
  }
  return n;
}

function payloadOf(msg: Message): Uint8Array {
  switch (msg.type) {
    case "h":
    case "f":
    case "handshake":
      return EMPTY;
    default:
      return msg.payload;
  }
}

function headerLength(msg: Message, nameUtf8: Uint8Array | null): number {
  switch (msg.type) {
    case "r":
    case "s":
      return 16 + nameBytesLength(msg.name, nameUtf8);
    case "n":
      return 12 + nameBytesLength(msg.name, nameUtf8);
    default:
      return fixedHeaderLength(msg.type);
  }
}

function writeId(buf: Uint8Array, pos: number, id: number): void {
  checkUint(id, 0xffffffff, "A request id");
  buf[pos] = id >>> 24;
  buf[pos + 1] = (id >>> 16) & 0xff;
  buf[pos + 2] = (id >>> 8) & 0xff;
  buf[pos + 3] = id & 0xff;
}

function writeName(buf: Uint8Array, pos: number, name: string, utf8: Uint8Array | null): number {
  if (utf8 !== null) {
    writeHex(buf, pos, utf8.length, 3);
    buf.set(utf8, pos + 3);
    return pos + 3 + utf8.length;
  }
  const n = name.length;
  writeHex(buf, pos, n, 3);
  pos += 3;
  for (let i = 0; i < n; i++) buf[pos + i] = name.charCodeAt(i);
  return pos + n;
}

/** Writes the header of `msg` at `buf[pos]`; returns the position after it. */
function writeHeader(
  msg: Message,
  buf: Uint8Array,
  pos: number,
  nameUtf8: Uint8Array | null,
): number {
  const type = msg.type;
  if (type === "handshake") {
    checkUint(msg.version, 0xff, "A protocol version");
    writeHex(buf, pos, msg.version, 2);
    return pos + 2;
  }
  buf[pos] = type.charCodeAt(0);
  pos += 1;
  switch (type) {
    case "r":
    case "s":
      writeId(buf, pos, msg.id);
      pos = writeName(buf, pos + 4, msg.name, nameUtf8);
      break;
    case "n":
      pos = writeName(buf, pos, msg.name, nameUtf8);
      break;
    case "p":
    case "R":
    case "S":
    case "E":
      writeId(buf, pos, msg.id);
      pos += 4;
      break;
    case "e":
      writeId(buf, pos, msg.id);
      checkUint(msg.wait, 0xffffffff, "A retry wait");
      writeHex(buf, pos + 4, msg.wait, 8);
      pos += 12;
      break;
    case "h":
      checkUint(msg.load, 0xffff, "A heartbeat load");
      checkUint(msg.time, 0xffffffff, "A heartbeat time");
      writeHex(buf, pos, msg.load, 4);
      writeHex(buf, pos + 4, msg.time, 8);
      return pos + 12;
    case "f":
      checkUint(msg.code, 0xffffffff, "A protocol error code");
      writeHex(buf, pos, msg.code, 8);
      return pos + 8;
  }
  const size = payloadOf(msg).length;
  if (size > MAX_WIRE_PAYLOAD_BYTES) {
    throw new RangeError(`A payload is at most ${MAX_WIRE_PAYLOAD_BYTES} bytes, got ${size}`);
  }
  writeHex(buf, pos, size, 8);
  return pos + 8;
}

function nameUtf8Of(msg: Message): Uint8Array | null {
  return msg.type === "r" || msg.type === "s" || msg.type === "n" ? utf8IfNotAscii(msg.name) : null;
}

/**
 * The number of bytes {@linkcode encodeMessage} produces for `msg`: its header plus its payload.
 *
 * @param msg The message.
 * @returns The encoded length in bytes.
 * @throws {RangeError} If a name is longer than 4095 bytes of UTF-8.
 * @throws {TypeError} If the message type is unknown.
 *
 * @example Usage
 * ```ts
 * import { encodedMessageLength } from "@gotalk/gotalk/protocol";
 * import assert from "node:assert/strict";
 *
 * const payload = new Uint8Array(5);
 * assert.equal(encodedMessageLength({ type: "r", id: 1, name: "echo", payload }), 25);
 * ```
 */
export function encodedMessageLength(msg: Message): number {
  return headerLength(msg, nameUtf8Of(msg)) + payloadOf(msg).length;
}

/**
 * The number of header bytes of `msg`: everything {@linkcode encodeMessage} writes except the
 * payload.
 *
 * @param msg The message.
 * @returns The header length in bytes.
 * @throws {RangeError} If a name is longer than 4095 bytes of UTF-8.
 * @throws {TypeError} If the message type is unknown.
 *
 * @example Usage
 * ```ts
 * import { encodedHeaderLength } from "@gotalk/gotalk/protocol";
 * import assert from "node:assert/strict";
 *
 * assert.equal(encodedHeaderLength({ type: "R", id: 1, payload: new Uint8Array(9) }), 13);
 * ```
 */
export function encodedHeaderLength(msg: Message): number {
  return headerLength(msg, nameUtf8Of(msg));
}

/**
 * Encodes `msg` (header, then payload) into `target` at `offset`. Hex digits are lowercase.
 *
 * @param msg The message.
 * @param target Where to write; it must have {@linkcode encodedMessageLength} bytes free.
 * @param offset Where in `target` to start.
 * @returns The number of bytes written.
 * @throws {RangeError} If a field is out of range or `target` is too small.
 * @throws {TypeError} If the message type is unknown.
 *
 * @example Usage
 * ```ts
 * import { encodeMessageInto } from "@gotalk/gotalk/protocol";
 * import assert from "node:assert/strict";
 *
 * const buf = new Uint8Array(64);
 * const n = encodeMessageInto({ type: "f", code: 3 }, buf, 2);
 * assert.equal(new TextDecoder().decode(buf.subarray(2, 2 + n)), "f00000003");
 * ```
 */
export function encodeMessageInto(msg: Message, target: Uint8Array, offset?: number): number {
  offset ??= 0;
  const nameUtf8 = nameUtf8Of(msg);
  const payload = payloadOf(msg);
  const total = headerLength(msg, nameUtf8) + payload.length;
  if (offset < 0 || offset + total > target.length) {
    throw new RangeError(`The target has no room for ${total} bytes at offset ${offset}`);
  }
  const pos = writeHeader(msg, target, offset, nameUtf8);
  if (payload.length > 0) target.set(payload, pos);
  return total;
}

/**
 * Encodes `msg` into one new `Uint8Array`: its header (lowercase hex) followed by its payload.
 *
 * @param msg The message.
 * @returns The wire bytes.
 * @throws {RangeError} If a field is out of range (a name over 4095 bytes, an id, wait, load,
 * time or code that does not fit its field).
 * @throws {TypeError} If the message type is unknown.
 *
 * @example Usage
 * ```ts
 * import { encodeMessage } from "@gotalk/gotalk/protocol";
 * import assert from "node:assert/strict";
 *
 * const payload = new TextEncoder().encode("world");
 * const bytes = encodeMessage({ type: "r", id: 0x30303031, name: "hello", payload });
 * assert.equal(new TextDecoder().decode(bytes), "r0001005hello00000005world");
 * ```
 */
export function encodeMessage(msg: Message): Uint8Array {
  const nameUtf8 = nameUtf8Of(msg);
  const payload = payloadOf(msg);
  const buf = new Uint8Array(headerLength(msg, nameUtf8) + payload.length);
  const pos = writeHeader(msg, buf, 0, nameUtf8);
  if (payload.length > 0) buf.set(payload, pos);
  return buf;
}

/**
 * Encodes only the header of `msg` (its declared size is still `msg.payload.length`), so that a
 * large payload can be written after it without being copied.
 *
 * @param msg The message.
 * @returns The header bytes.
 * @throws {RangeError} If a field is out of range.
 * @throws {TypeError} If the message type is unknown.
 *
 * @example Usage
 * ```ts
 * import { encodeHeader } from "@gotalk/gotalk/protocol";
 * import assert from "node:assert/strict";
 *
 * const header = encodeHeader({ type: "R", id: 0x30303031, payload: new Uint8Array(65536) });
 * assert.equal(new TextDecoder().decode(header), "R000100010000");
 * ```
 */
export function encodeHeader(msg: Message): Uint8Array {
  const nameUtf8 = nameUtf8Of(msg);
  const buf = new Uint8Array(headerLength(msg, nameUtf8));
  writeHeader(msg, buf, 0, nameUtf8);
  return buf;
}

/**
 * Encodes only the header of `msg` into `target` at `offset` (its declared size is still
 * `msg.payload.length`), so that a large payload can be written after it without being copied.
 *
 * @param msg The message.
 * @param target Where to write; it must have {@linkcode encodedHeaderLength} bytes free.
 * @param offset Where in `target` to start.
 * @returns The number of bytes written.
 * @throws {RangeError} If a field is out of range or `target` is too small.
 * @throws {TypeError} If the message type is unknown.
 *
 * @example Usage
 * ```ts
 * import { encodeHeaderInto } from "@gotalk/gotalk/protocol";
 * import assert from "node:assert/strict";
 *
 * const buf = new Uint8Array(16);
 * const n = encodeHeaderInto({ type: "R", id: 0x30303031, payload: new Uint8Array(65536) }, buf);
 * assert.equal(new TextDecoder().decode(buf.subarray(0, n)), "R000100010000");
 * ```
 */
export function encodeHeaderInto(msg: Message, target: Uint8Array, offset?: number): number {
  offset ??= 0;
  const nameUtf8 = nameUtf8Of(msg);
  const total = headerLength(msg, nameUtf8);
  if (offset < 0 || offset + total > target.length) {
    throw new RangeError(`The target has no room for ${total} bytes at offset ${offset}`);
  }
  writeHeader(msg, target, offset, nameUtf8);
  return total;
}

/**
 * The handshake bytes for a protocol version: two lowercase hex digits.
 *
 * @param version The version.
 * @returns Two bytes.
 * @throws {RangeError} If `version` is not 0 to 255.
 *
 * @example Usage
 * ```ts
 * import { encodeHandshake } from "@gotalk/gotalk/protocol";
 * import assert from "node:assert/strict";
 *
 * assert.equal(new TextDecoder().decode(encodeHandshake()), "01");
 * ```
 */
export function encodeHandshake(version?: number): Uint8Array {
  return encodeMessage({ type: "handshake", version: version ?? PROTOCOL_VERSION });
}
