// This module is browser compatible.

import { MessageDecoder, type MessageDecoderOptions } from "./decoder.ts";
import { encodeHandshake, encodeMessage } from "./encoder.ts";
import type { Message } from "./message.ts";

/**
 * A `TransformStream` from bytes to Gotalk messages, wrapping {@linkcode MessageDecoder}.
 * It errors with a {@linkcode ProtocolError} on invalid input and when the input ends inside a
 * frame. Backpressure comes from the stream machinery. Payloads may be views into the input
 * chunks (see {@linkcode MessageDecoder}).
 *
 * @example Usage
 * ```ts
 * import { MessageDecoderStream } from "@gotalk/gotalk/protocol";
 * import assert from "node:assert/strict";
 *
 * const bytes = new TextEncoder().encode("01R000100000002hi");
 * const messages = await Array.fromAsync(
 *   ReadableStream.from([bytes.subarray(0, 4), bytes.subarray(4)])
 *     .pipeThrough(new MessageDecoderStream({ handshake: true })),
 * );
 * assert.deepEqual(messages.map((m) => m.type), ["handshake", "R"]);
 * ```
 */
export class MessageDecoderStream extends TransformStream<Uint8Array, Message> {
  /**
   * Creates a decoding stream.
   *
   * @param options Limits, and whether a handshake comes first.
   */
  constructor(options?: MessageDecoderOptions) {
    const decoder = new MessageDecoder(options);
    super({
      transform(chunk, controller) {
        decoder.push(chunk, (m) => controller.enqueue(m));
      },
      flush() {
        decoder.end();
      },
    });
  }
}

/**
 * Options for {@linkcode MessageEncoderStream}.
 *
 * @example Encoding and decoding streams, handshake first
 * ```ts
 * import { MessageDecoderStream, MessageEncoderStream, type MessageEncoderStreamOptions } from "@gotalk/gotalk/protocol";
 * import assert from "node:assert/strict";
 *
 * const options: MessageEncoderStreamOptions = { handshake: true };
 * const decoded = await Array.fromAsync(
 *   ReadableStream.from([{ type: "n" as const, name: "hi", payload: new Uint8Array(0) }])
 *     .pipeThrough(new MessageEncoderStream(options))
 *     .pipeThrough(new MessageDecoderStream({ handshake: true })),
 * );
 * assert.deepEqual(decoded.map((m) => m.type), ["handshake", "n"]);
 * ```
 */
export interface MessageEncoderStreamOptions {
  /**
   * Whether to write the protocol version (`01`) before the first message.
   *
   * @default {false}
   */
  handshake?: boolean;
}

/**
 * A `TransformStream` from Gotalk messages to bytes: one chunk per message, header and payload
 * together, lowercase hex.
 *
 * @example Usage
 * ```ts
 * import { MessageEncoderStream } from "@gotalk/gotalk/protocol";
 * import assert from "node:assert/strict";
 *
 * const chunks = await Array.fromAsync(
 *   ReadableStream.from([{ type: "f" as const, code: 2 }])
 *     .pipeThrough(new MessageEncoderStream({ handshake: true })),
 * );
 * assert.deepEqual(chunks.map((c) => new TextDecoder().decode(c)), ["01", "f00000002"]);
 * ```
 */
export class MessageEncoderStream extends TransformStream<Message, Uint8Array> {
  /**
   * Creates an encoding stream.
   *
   * @param options Whether to start with the handshake.
   */
  constructor(options?: MessageEncoderStreamOptions) {
    super({
      start(controller) {
        if (options?.handshake) controller.enqueue(encodeHandshake());
      },
      transform(message, controller) {
        controller.enqueue(encodeMessage(message));
      },
    });
  }
}
