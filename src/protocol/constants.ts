// This module is browser compatible.

/**
 * The Gotalk protocol version this library speaks, sent as two lowercase hex digits (`01`) by
 * both sides at the start of a connection.
 *
 * @example Usage
 * ```ts
 * import { PROTOCOL_VERSION } from "@gotalk/gotalk/protocol";
 * import assert from "node:assert/strict";
 *
 * assert.equal(PROTOCOL_VERSION, 1);
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
 * @example Usage
 * ```ts
 * import { MessageType } from "@gotalk/gotalk/protocol";
 * import assert from "node:assert/strict";
 *
 * assert.equal(MessageType.SingleRequest, "r");
 * assert.equal(MessageType.ProtocolError, "f");
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
 * @example Usage
 * ```ts
 * import type { MessageTypeCode } from "@gotalk/gotalk/protocol";
 * import assert from "node:assert/strict";
 *
 * const t: MessageTypeCode = "R";
 * assert.equal(t, "R");
 * ```
 */
export type MessageTypeCode = typeof MessageType[keyof typeof MessageType];

/**
 * The codes a ProtocolError (`f`) message carries.
 *
 * @example Usage
 * ```ts
 * import { ProtocolErrorCode } from "@gotalk/gotalk/protocol";
 * import assert from "node:assert/strict";
 *
 * assert.equal(ProtocolErrorCode.InvalidMessage, 2);
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
 * @example Usage
 * ```ts
 * import { type ProtocolErrorCodeValue, ProtocolErrorCode } from "@gotalk/gotalk/protocol";
 * import assert from "node:assert/strict";
 *
 * const code: ProtocolErrorCodeValue = ProtocolErrorCode.Timeout;
 * assert.equal(code, 3);
 * ```
 */
export type ProtocolErrorCodeValue = typeof ProtocolErrorCode[keyof typeof ProtocolErrorCode];

/**
 * The default upper bound on one payload, in bytes (16 MiB). A header declaring more is a
 * protocol error (code 2) and nothing is allocated for it.
 *
 * @example Usage
 * ```ts
 * import { DEFAULT_MAX_PAYLOAD_BYTES } from "@gotalk/gotalk/protocol";
 * import assert from "node:assert/strict";
 *
 * assert.equal(DEFAULT_MAX_PAYLOAD_BYTES, 16 * 1024 * 1024);
 * ```
 */
export const DEFAULT_MAX_PAYLOAD_BYTES = 16 * 1024 * 1024;

/**
 * The longest operation or notification name the wire format can carry (`fff` = 4095 bytes),
 * which is also the decoder's default name limit.
 *
 * @example Usage
 * ```ts
 * import { MAX_NAME_BYTES } from "@gotalk/gotalk/protocol";
 * import assert from "node:assert/strict";
 *
 * assert.equal(MAX_NAME_BYTES, 4095);
 * ```
 */
export const MAX_NAME_BYTES = 0xfff;

/**
 * The largest payload size the wire format can declare (`ffffffff`).
 *
 * @example Usage
 * ```ts
 * import { MAX_WIRE_PAYLOAD_BYTES } from "@gotalk/gotalk/protocol";
 * import assert from "node:assert/strict";
 *
 * assert.equal(MAX_WIRE_PAYLOAD_BYTES, 0xffffffff);
 * ```
 */
export const MAX_WIRE_PAYLOAD_BYTES = 0xffffffff;
