// This module is browser compatible.
// The options of `MessageDecoder` (decoder.ts exports them).

/**
 * Options for `MessageDecoder`.
 *
 * @example A lower payload limit
 * ```ts
 * import { MessageDecoder, type MessageDecoderOptions, ProtocolError } from "@gotalk/gotalk/protocol";
 * import assert from "node:assert/strict";
 *
 * const options: MessageDecoderOptions = { maxPayloadBytes: 4 };
 * const decoder = new MessageDecoder(options);
 * decoder.push(new TextEncoder().encode("R000100000004abcd"), (m) => assert.equal(m.type, "R"));
 * assert.throws(() => decoder.push(new TextEncoder().encode("R000100000005"), () => {}), ProtocolError);
 * ```
 */
export interface MessageDecoderOptions {
  /**
   * The largest payload accepted, in bytes. A header declaring more is a protocol error
   * (code 2) found before anything is allocated for it.
   *
   * @default {16777216}
   */
  maxPayloadBytes?: number;
  /**
   * The longest operation or notification name accepted, in bytes (at most 4095).
   *
   * @default {4095}
   */
  maxNameBytes?: number;
  /**
   * Whether the stream starts with the two-digit protocol version. When `true`, the first
   * message is a `HandshakeMessage`; a version other than 1 is a protocol error with
   * code 1.
   *
   * @default {false}
   */
  handshake?: boolean;
  /**
   * The stream offset of the first byte pushed, for a decoder that goes on where another left
   * off between two frames (the offsets that errors and `MessageDecoder.offset` give
   * count from it).
   *
   * @default {0}
   */
  offset?: number;
}
