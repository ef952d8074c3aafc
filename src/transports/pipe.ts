// This module is browser compatible.

import { ConnectionClosedError } from "../peer/errors.ts";
import type { Transport } from "../peer/transport.ts";

/**
 * Options for {@linkcode pipePair}.
 *
 * @example A small queue: writers wait for the reader, and large payloads still get through
 * ```ts
 * import { Handlers, Peer, pipePair, type PipeOptions } from "@gotalk/gotalk";
 * import assert from "node:assert/strict";
 *
 * const options: PipeOptions = { highWaterMark: 16 };
 * const [a, b] = pipePair(options);
 * const server = new Peer(a, { handlers: new Handlers().handleBuffer("echo", (bytes) => bytes) });
 * const client = new Peer(b);
 * const big = new Uint8Array(100_000).fill(7);
 * assert.deepEqual(await client.bufferRequest("echo", big), big);
 * client.abort();
 * server.abort();
 * ```
 */
export interface PipeOptions {
  /**
   * How many bytes each direction queues for its reader before a writer has to wait. A writer
   * blocked on a full queue holds at most one more chunk.
   *
   * @default {65536}
   */
  highWaterMark?: number;
}

const DEFAULT_HIGH_WATER_MARK = 64 * 1024;

/**
 * Creates two connected in-memory {@linkcode Transport}s: bytes written to one's `writable` come
 * out of the other's `readable`, in order. Each direction queues at most `highWaterMark` bytes;
 * past that a writer waits (`writer.ready` and `write()` stay pending) until the reader reads.
 * Every written chunk is copied, so the writer may reuse its buffer and the reader gets fresh
 * ones.
 *
 * Closing one side's `writable` ends the other side's `readable` once it has read what was
 * queued; aborting it errors the other side's `readable`; cancelling a `readable` makes the other
 * side's writes fail. `close()` on either side ends both directions at once: both readers see
 * end-of-stream after what was already queued, and writes still waiting for room, or made later,
 * reject with a {@linkcode ConnectionClosedError}.
 *
 * @param options Queue size.
 * @returns The two ends of the pipe.
 * @throws {RangeError} If `highWaterMark` is not a positive finite number.
 *
 * @example Two peers in one process, for tests or workers
 * ```ts
 * import { Handlers, Peer, pipePair } from "@gotalk/gotalk";
 * import assert from "node:assert/strict";
 *
 * const [serverSide, clientSide] = pipePair();
 * const server = new Peer(serverSide, { handlers: new Handlers().handle("ping", () => "pong") });
 * const client = new Peer(clientSide);
 * assert.equal(await client.request("ping"), "pong");
 * assert.equal(client.remoteAddr, "pipe");
 * await client.close();
 * await server.closed;
 * ```
 */
export function pipePair(options?: PipeOptions): [Transport, Transport] {
  const highWaterMark = (options === undefined ? {} : options).highWaterMark ??
    DEFAULT_HIGH_WATER_MARK;
  if (!(highWaterMark > 0) || !Number.isFinite(highWaterMark)) {
    throw new RangeError(
      `highWaterMark must be a positive finite number, got ${highWaterMark}`,
    );
  }
  const aToB = new Channel(highWaterMark);
  const bToA = new Channel(highWaterMark);
  return [new PipeEnd(bToA, aToB), new PipeEnd(aToB, bToA)];
}

/** One end of a pipe: reads one channel, writes the other. */
class PipeEnd implements Transport {
  readonly readable: ReadableStream<Uint8Array>;
  readonly writable: WritableStream<Uint8Array>;
  readonly remoteAddr = "pipe";
  readonly localAddr = "pipe";
  #in: Channel;
  #out: Channel;

  constructor(input: Channel, output: Channel) {
    this.#in = input;
    this.#out = output;
    this.readable = input.readable;
    this.writable = output.writable;
  }

  close(): void {
    this.#out.shut();
    this.#in.shut();
  }
}

interface Waiter {
  resolve(): void;
  reject(error: Error): void;
}

/** One direction of a pipe: a writable feeding a bounded readable. */
class Channel {
  readonly readable: ReadableStream<Uint8Array>;
  readonly writable: WritableStream<Uint8Array>;
  #readController!: ReadableStreamDefaultController<Uint8Array>;
  #writeController!: WritableStreamDefaultController;
  #readOpen = true;
  #broken: Error | undefined;
  #waiter: Waiter | undefined;

  constructor(highWaterMark: number) {
    this.readable = new ReadableStream<Uint8Array>(
      {
        start: (controller) => {
          this.#readController = controller;
        },
        pull: () => this.#wake(),
        cancel: (reason) => {
          this.#readOpen = false;
          this.#break(new ConnectionClosedError("The remote stopped reading", { cause: reason }));
        },
      },
      new ByteLengthQueuingStrategy({ highWaterMark }),
    );
    this.writable = new WritableStream<Uint8Array>({
      start: (controller) => {
        this.#writeController = controller;
        // An abort waits for the write in flight: fail a write that waits for room at once.
        // (Erroring the controller here would make `abort()` reject.)
        controller.signal.addEventListener("abort", () => {
          this.#broken ??= new ConnectionClosedError("The writer aborted", {
            cause: controller.signal.reason,
          });
          this.#rejectWaiter(this.#broken);
        });
      },
      write: (chunk) => this.#write(chunk),
      close: () => this.#endRead(),
      abort: (reason) => {
        this.#break(new ConnectionClosedError("The writer aborted", { cause: reason }));
        if (this.#readOpen) {
          this.#readOpen = false;
          this.#readController.error(this.#broken);
        }
      },
    });
  }

  /** Ends the channel: pending and later writes reject, the reader gets end-of-stream. */
  shut(): void {
    this.#break(new ConnectionClosedError("The connection was closed"));
    this.#endRead();
  }

  async #write(chunk: Uint8Array): Promise<void> {
    if (!ArrayBuffer.isView(chunk)) {
      throw new TypeError("A pipe only accepts Uint8Array chunks");
    }
    while (!this.#broken && (this.#readController.desiredSize ?? 0) <= 0) {
      await new Promise<void>((resolve, reject) => this.#waiter = { resolve, reject });
    }
    if (this.#broken) throw this.#broken;
    if (chunk.byteLength === 0) return;
    const copy = new Uint8Array(chunk.byteLength);
    copy.set(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength));
    this.#readController.enqueue(copy);
  }

  #wake(): void {
    const waiter = this.#waiter;
    this.#waiter = undefined;
    waiter?.resolve();
  }

  #break(error: Error): void {
    if (this.#broken) return;
    this.#broken = error;
    this.#rejectWaiter(error);
    this.#writeController.error(error);
  }

  #rejectWaiter(error: Error): void {
    const waiter = this.#waiter;
    this.#waiter = undefined;
    waiter?.reject(error);
  }

  #endRead(): void {
    if (!this.#readOpen) return;
    this.#readOpen = false;
    this.#readController.close();
  }
}
