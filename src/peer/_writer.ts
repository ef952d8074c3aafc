// This module is browser compatible.
// The peer's outgoing side: coalesces the frames produced in one microtask into one write,
// writes large payloads without copying them, and accounts every byte handed to the transport
// so that producers can wait for the backlog to drain (no unbounded queue).

import {
  encodedMessageLength,
  encodeHeader,
  encodeMessageInto,
  type Message,
} from "../protocol/mod.ts";

/** Payloads at least this large are written as their own chunk, never copied. */
const ZERO_COPY_BYTES = 64 * 1024;

/** Writes Gotalk frames to a transport's writable. */
export class FrameWriter {
  readonly #writer: WritableStreamDefaultWriter<Uint8Array>;
  readonly #highWater: number;
  /** Messages waiting for the microtask flush. */
  #queue: Message[] = [];
  /** Encoded bytes of #queue. */
  #queuedBytes = 0;
  /** Bytes handed to the writer and not yet written. */
  #inFlight = 0;
  #scheduled = false;
  #drainWaiters: Array<() => void> = [];
  #error: unknown = undefined;
  #failed = false;
  #onError: (error: unknown) => void;

  constructor(
    writable: WritableStream<Uint8Array>,
    highWaterBytes: number,
    onError: (error: unknown) => void,
  ) {
    this.#writer = writable.getWriter();
    this.#highWater = highWaterBytes;
    this.#onError = onError;
  }

  /** Bytes queued or handed to the transport and not yet written. */
  get backlog(): number {
    return this.#queuedBytes + this.#inFlight;
  }

  /** Whether the backlog is below the high-water mark. */
  get writable(): boolean {
    return this.#queuedBytes + this.#inFlight < this.#highWater;
  }

  /** Queues `msg`; it is written with the others queued in the same microtask. */
  send(msg: Message): void {
    if (this.#failed) return;
    this.#queue.push(msg);
    this.#queuedBytes += encodedMessageLength(msg);
    if (!this.#scheduled) {
      this.#scheduled = true;
      queueMicrotask(this.#flush);
    }
  }

  /** Queues raw bytes (the handshake). */
  sendRaw(bytes: Uint8Array): void {
    if (this.#failed) return;
    this.#flush();
    this.#write(bytes);
  }

  /** Resolves once the backlog is below the high-water mark (at once if it is). */
  drained(): Promise<void> {
    if (this.writable || this.#failed) return Promise.resolve();
    return new Promise((resolve) => this.#drainWaiters.push(resolve));
  }

  /** Writes everything queued now. */
  readonly #flush = (): void => {
    this.#scheduled = false;
    const queue = this.#queue;
    if (queue.length === 0 || this.#failed) return;
    this.#queue = [];
    const total = this.#queuedBytes;
    this.#queuedBytes = 0;
    let buf = new Uint8Array(Math.min(total, 256 * 1024));
    let pos = 0;
    for (const msg of queue) {
      const payload = "payload" in msg ? msg.payload : undefined;
      if (payload !== undefined && payload.length >= ZERO_COPY_BYTES) {
        if (pos > 0) this.#write(buf.subarray(0, pos));
        this.#write(encodeHeader(msg));
        this.#write(payload);
        buf = buf.subarray(pos);
        pos = 0;
        continue;
      }
      const n = encodedMessageLength(msg);
      if (pos + n > buf.length) {
        if (pos > 0) this.#write(buf.subarray(0, pos));
        buf = new Uint8Array(Math.max(n, Math.min(total, 256 * 1024)));
        pos = 0;
      }
      pos += encodeMessageInto(msg, buf, pos);
    }
    if (pos > 0) this.#write(buf.subarray(0, pos));
  };

  #write(chunk: Uint8Array): void {
    const n = chunk.length;
    this.#inFlight += n;
    this.#writer.write(chunk).then(() => {
      this.#inFlight -= n;
      if (this.#drainWaiters.length > 0 && this.writable) {
        const waiters = this.#drainWaiters;
        this.#drainWaiters = [];
        for (const w of waiters) w();
      }
    }, (error) => this.#fail(error));
  }

  #fail(error: unknown): void {
    if (this.#failed) return;
    this.#failed = true;
    this.#error = error;
    this.#queue = [];
    this.#queuedBytes = 0;
    const waiters = this.#drainWaiters;
    this.#drainWaiters = [];
    for (const w of waiters) w();
    this.#onError(error);
  }

  /** The write error, if a write failed. */
  get error(): unknown {
    return this.#error;
  }

  /** Flushes what is queued, then closes the writable (waiting at most until `signal`). */
  async close(): Promise<void> {
    this.#flush();
    if (this.#failed) return;
    this.#failed = true;
    try {
      await this.#writer.close();
    } catch {
      // The transport is gone: nothing left to flush to.
    }
  }

  /** Drops what is queued and aborts the writable. */
  abort(reason?: unknown): void {
    this.#failed = true;
    this.#queue = [];
    this.#queuedBytes = 0;
    this.#writer.abort(reason).catch(() => {});
    const waiters = this.#drainWaiters;
    this.#drainWaiters = [];
    for (const w of waiters) w();
  }
}
