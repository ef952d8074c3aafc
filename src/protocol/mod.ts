// This module is browser compatible.

/**
 * The Gotalk v1 wire codec: constants, a strict incremental decoder, an encoder, and
 * `TransformStream` wrappers. Pure and synchronous: no I/O and no runtime globals, so it runs
 * in every JavaScript runtime and in browsers.
 *
 * @example Round trip
 * ```ts
 * import { encodeMessage, type Message, MessageDecoder } from "@gotalk/gotalk/protocol";
 * import assert from "node:assert/strict";
 *
 * const bytes = encodeMessage({ type: "n", name: "chat", payload: new TextEncoder().encode("hi") });
 * const out: Message[] = [];
 * new MessageDecoder().push(bytes, (m) => out.push(m));
 * assert.equal(out[0].type === "n" && out[0].name, "chat");
 * ```
 *
 * @module
 */

export {
  DEFAULT_MAX_PAYLOAD_BYTES,
  MAX_NAME_BYTES,
  MAX_WIRE_PAYLOAD_BYTES,
  MessageType,
  PROTOCOL_VERSION,
  ProtocolErrorCode,
} from "./constants.ts";
export type { MessageTypeCode, ProtocolErrorCodeValue } from "./constants.ts";
export { ProtocolError } from "./errors.ts";
export type { ProtocolErrorOptions } from "./errors.ts";
export { requestIdFromBytes, requestIdToBytes } from "./message.ts";
export type {
  HandshakeMessage,
  HeartbeatMessage,
  Message,
  NotificationMessage,
  PayloadMessage,
  ProtocolErrorMessage,
  RequestId,
  RequestMessage,
  RetryMessage,
} from "./message.ts";
export {
  encodedHeaderLength,
  encodedMessageLength,
  encodeHandshake,
  encodeHeader,
  encodeHeaderInto,
  encodeMessage,
  encodeMessageInto,
} from "./encoder.ts";
export { MessageDecoder } from "./decoder.ts";
export type { MessageDecoderOptions } from "./decoder.ts";
export { MessageDecoderStream, MessageEncoderStream } from "./streams.ts";
export type { MessageEncoderStreamOptions } from "./streams.ts";
