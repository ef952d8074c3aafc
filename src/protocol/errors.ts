// This module is browser compatible.

import type { ProtocolErrorCodeValue } from "./constants.ts";

/**
 * Options for {@linkcode ProtocolError}.
 *
 * @example Your own check, reported to the remote as a ProtocolError frame
 * ```ts
 * import { encodeMessage, ProtocolError, ProtocolErrorCode, type ProtocolErrorOptions } from "@gotalk/gotalk/protocol";
 * import assert from "node:assert/strict";
 *
 * const options: ProtocolErrorOptions = { code: ProtocolErrorCode.InvalidMessage, offset: 5 };
 * const error = new ProtocolError("An op name must not be empty", options);
 * assert.equal(error.offset, 5);
 * assert.equal(new TextDecoder().decode(encodeMessage({ type: "f", code: error.code })), "f00000002");
 * ```
 */
export interface ProtocolErrorOptions extends ErrorOptions {
  /** The ProtocolError code (0 abnormal, 1 unsupported version, 2 invalid message, 3 timeout). */
  code: ProtocolErrorCodeValue | number;
  /**
   * The absolute byte offset in the decoded stream at which the problem was found, or
   * `undefined` when the error did not come from decoding (for example, a `f` message the
   * remote peer sent).
   *
   * @default {undefined}
   */
  offset?: number;
  /**
   * `true` when the remote peer reported this error to us with a ProtocolError (`f`) message.
   *
   * @default {false}
   */
  remote?: boolean;
}

/**
 * A Gotalk protocol error: invalid input found by the decoder (code 2, or 1 for an unsupported
 * version), or a ProtocolError message (`f`) received from the remote peer (`remote: true`).
 *
 * @example Catching a decoding error
 * ```ts
 * import { MessageDecoder, ProtocolError } from "@gotalk/gotalk/protocol";
 * import assert from "node:assert/strict";
 *
 * const decoder = new MessageDecoder();
 * assert.throws(
 *   () => decoder.push(new TextEncoder().encode("x"), () => {}),
 *   (e) => e instanceof ProtocolError && e.code === 2 && e.offset === 0,
 * );
 * ```
 */
export class ProtocolError extends Error {
  /** The ProtocolError code (see {@linkcode ProtocolErrorCode}). */
  readonly code: number;
  /** Where in the decoded byte stream the problem was found, if it came from decoding. */
  readonly offset: number | undefined;
  /** `true` when the remote peer sent this error as a `f` message. */
  readonly remote: boolean;

  /**
   * Creates a protocol error.
   *
   * @param message What went wrong, starting with a capital letter.
   * @param options The code, and where it was found.
   */
  constructor(message: string, options: ProtocolErrorOptions) {
    super(message, options);
    this.name = "ProtocolError";
    this.code = options.code;
    this.offset = options.offset;
    this.remote = options.remote ?? false;
  }
}
