// This module is browser compatible.

/**
 * The Gotalk protocol version this library speaks, sent as two lowercase hex digits (`01`) by
 * both sides at the start of a connection.
 *
 * @example The version a handshake carries
 * ```ts
 * import { type Message, MessageDecoder, PROTOCOL_VERSION } from "@gotalk/gotalk/protocol";
 * import assert from "node:assert/strict";
 *
 * const out: Message[] = [];
 * new MessageDecoder({ handshake: true }).push(new TextEncoder().encode("01"), (m) => out.push(m));
 * assert.equal(out[0].type === "handshake" && out[0].version, PROTOCOL_VERSION);
 * ```
 */
export const PROTOCOL_VERSION = 1;

/**
 * The ten Gotalk v1 message types, keyed by name, valued by their one-character wire code.
 *
 * | code | message |
 * |---|---|
 * | `r` | single-payload request |
 * | `s` | streaming request (first part) |
 * | `p` | streaming request part (an empty part ends the request) |
 * | `R` | single-payload result |
 * | `S` | streaming result part (an empty part ends the result) |
 * | `E` | error result (plain text) |
 * | `e` | retry result: retry after `wait` milliseconds |
 * | `n` | notification |
 * | `h` | heartbeat |
 * | `f` | protocol error |
 *
 * @example Telling decoded messages apart
 * ```ts
 * import { type Message, MessageDecoder, MessageType } from "@gotalk/gotalk/protocol";
 * import assert from "node:assert/strict";
 *
 * const out: Message[] = [];
 * new MessageDecoder().push(new TextEncoder().encode("r0001004echo00000000f00000002"), (m) => out.push(m));
 * assert.equal(out[0].type, MessageType.SingleRequest);
 * assert.equal(out[1].type, MessageType.ProtocolError);
 * ```
 */
export const MessageType = {
  /** `r`: a single-payload request. */
  SingleRequest: "r",
  /** `s`: a streaming request, carrying the operation and its first part. */
  StreamRequest: "s",
  /** `p`: a further part of a streaming request; an empty part ends the request. */
  StreamRequestPart: "p",
  /** `R`: a single-payload result. */
  SingleResult: "R",
  /** `S`: a streaming result part; an empty part ends the result. */
  StreamResult: "S",
  /** `E`: an error result; the payload is plain text. */
  ErrorResult: "E",
  /** `e`: a retry result; retry after `wait` milliseconds. */
  RetryResult: "e",
  /** `n`: a notification. */
  Notification: "n",
  /** `h`: a heartbeat carrying load and time. */
  Heartbeat: "h",
  /** `f`: a protocol error; the connection closes after it. */
  ProtocolError: "f",
} as const;

/**
 * A Gotalk message type code: one of the values of {@linkcode MessageType}.
 *
 * @example The type bytes of a stream of frames
 * ```ts
 * import { MessageDecoder, type MessageTypeCode } from "@gotalk/gotalk/protocol";
 * import assert from "node:assert/strict";
 *
 * const types: MessageTypeCode[] = [];
 * const bytes = new TextEncoder().encode("r0001004echo00000000R000100000000");
 * new MessageDecoder().push(bytes, (m) => void (m.type !== "handshake" && types.push(m.type)));
 * assert.deepEqual(types, ["r", "R"]);
 * ```
 */
export type MessageTypeCode = typeof MessageType[keyof typeof MessageType];

/**
 * The codes a ProtocolError (`f`) message carries.
 *
 * @example The code of a decoding error
 * ```ts
 * import { MessageDecoder, ProtocolError, ProtocolErrorCode } from "@gotalk/gotalk/protocol";
 * import assert from "node:assert/strict";
 *
 * assert.throws(
 *   () => new MessageDecoder().push(new TextEncoder().encode("?"), () => {}),
 *   (e) => e instanceof ProtocolError && e.code === ProtocolErrorCode.InvalidMessage,
 * );
 * ```
 */
export const ProtocolErrorCode = {
  /** 0: closed because of an abnormal condition. */
  Abnormal: 0,
  /** 1: the other side does not support the caller's protocol version. */
  UnsupportedProtocol: 1,
  /** 2: an invalid message was transmitted. */
  InvalidMessage: 2,
  /** 3: the other side closed the connection because communicating took too long. */
  Timeout: 3,
} as const;

/**
 * A ProtocolError code: one of the values of {@linkcode ProtocolErrorCode}, or any other
 * number a remote peer sent.
 *
 * @example Sending a protocol error
 * ```ts
 * import { encodeMessage, ProtocolErrorCode, type ProtocolErrorCodeValue } from "@gotalk/gotalk/protocol";
 * import assert from "node:assert/strict";
 *
 * const code: ProtocolErrorCodeValue = ProtocolErrorCode.Timeout;
 * assert.equal(new TextDecoder().decode(encodeMessage({ type: "f", code })), "f00000003");
 * ```
 */
export type ProtocolErrorCodeValue = typeof ProtocolErrorCode[keyof typeof ProtocolErrorCode];

/**
 * The default upper bound on one payload, in bytes (16 MiB). A header declaring more is a
 * protocol error (code 2) and nothing is allocated for it.
 *
 * @example A header announcing more is refused before anything is allocated
 * ```ts
 * import { DEFAULT_MAX_PAYLOAD_BYTES, MessageDecoder, ProtocolError } from "@gotalk/gotalk/protocol";
 * import assert from "node:assert/strict";
 *
 * const size = (DEFAULT_MAX_PAYLOAD_BYTES + 1).toString(16).padStart(8, "0");
 * const header = new TextEncoder().encode(`R0001${size}`);
 * assert.throws(() => new MessageDecoder().push(header, () => {}), ProtocolError);
 * ```
 */
export const DEFAULT_MAX_PAYLOAD_BYTES = 16 * 1024 * 1024;

/**
 * The longest operation or notification name the wire format can carry (`fff` = 4095 bytes),
 * which is also the decoder's default name limit.
 *
 * @example A longer op name cannot be encoded
 * ```ts
 * import { encodeMessage, MAX_NAME_BYTES } from "@gotalk/gotalk/protocol";
 * import assert from "node:assert/strict";
 *
 * const payload = new Uint8Array(0);
 * assert.ok(encodeMessage({ type: "r", id: 1, name: "x".repeat(MAX_NAME_BYTES), payload }));
 * assert.throws(
 *   () => encodeMessage({ type: "r", id: 1, name: "x".repeat(MAX_NAME_BYTES + 1), payload }),
 *   RangeError,
 * );
 * ```
 */
export const MAX_NAME_BYTES = 0xfff;

/**
 * The largest payload size the wire format can declare (`ffffffff`).
 *
 * @example No decoder limit can be higher
 * ```ts
 * import { MAX_WIRE_PAYLOAD_BYTES, MessageDecoder } from "@gotalk/gotalk/protocol";
 * import assert from "node:assert/strict";
 *
 * assert.ok(new MessageDecoder({ maxPayloadBytes: MAX_WIRE_PAYLOAD_BYTES }));
 * assert.throws(() => new MessageDecoder({ maxPayloadBytes: MAX_WIRE_PAYLOAD_BYTES + 1 }), RangeError);
 * ```
 */
export const MAX_WIRE_PAYLOAD_BYTES = 0xffffffff;
