// This module is browser compatible.
// Inbound flow control. Gotalk has no per-stream flow control, so the only lever is to stop
// reading the connection: while a stream's consumer is `streamBufferBytes` behind and still
// reading, the read loop waits; a consumer that reads nothing for `streamStallTimeoutMs` fails
// alone (StreamOverflowError) and reading resumes.

import type { TimerHandle } from "./_timer.ts";

/** The flow settings of a peer (see `PeerOptions`). */
export interface FlowOptions {
  readonly streamBufferBytes: number;
  readonly streamStallTimeoutMs: number;
}

/** An inbound stream whose consumer is behind. */
interface Pressured {
  controller: ReadableStreamDefaultController<Uint8Array>;
  /** Whether the stream can still receive parts. */
  active: () => boolean;
  /** Fails the stream with a StreamOverflowError. */
  fail: () => void;
}

/** What the flow sees of its peer. */
export interface FlowHost {
  /** Whether the peer is closed (waiting ends). */
  readonly life: { readonly closed: boolean };
  /**
   * The read loop waited on a consumer (the remote did not go quiet: liveness must not count it
   * as silence).
   */
  readPaused(): void;
}

/** Stream queues count bytes, so `desiredSize` tells how far a consumer is behind. */
const byteSize = (c: Uint8Array) => c.byteLength;

/** The inbound streams of one peer (streaming results, streaming requests' parts). */
export class InboundFlow {
  readonly #host: FlowHost;
  readonly #bufferBytes: number;
  readonly #stallMs: number;
  /** Streams whose consumer is `bufferBytes` behind: the read loop waits for them. */
  #pressured: Pressured[] | undefined;
  /** Woken by any inbound stream's `pull` (its consumer caught up below the limit). */
  #pullWaiter: (() => void) | undefined;
  /** Every inbound stream's `pull`; made with the first stream (an idle peer has none). */
  #onPull: (() => void) | undefined;

  constructor(host: FlowHost, options: FlowOptions) {
    this.#host = host;
    this.#bufferBytes = options.streamBufferBytes;
    this.#stallMs = options.streamStallTimeoutMs;
  }

  /** The per-stream buffer, in bytes. */
  get bufferBytes(): number {
    return this.#bufferBytes;
  }

  /** Whether a consumer is behind: the read loop must call {@linkcode relieve}. */
  get pressured(): boolean {
    return this.#pressured !== undefined;
  }

  /** A readable for an inbound stream, buffering up to `bufferBytes` for its consumer. */
  readable(
    start: (controller: ReadableStreamDefaultController<Uint8Array>) => void,
    cancel?: () => void,
  ): ReadableStream<Uint8Array> {
    return new ReadableStream<Uint8Array>(
      { start, pull: this.#onPull ??= () => this.#pulled(), cancel },
      { highWaterMark: this.#bufferBytes, size: byteSize },
    );
  }

  /**
   * Enqueues a part; if that puts the consumer `bufferBytes` behind, the read loop will wait
   * for it (while `active()`), or `fail()` it once it stalls.
   */
  enqueue(
    controller: ReadableStreamDefaultController<Uint8Array>,
    part: Uint8Array,
    active: () => boolean,
    fail: () => void,
  ): void {
    controller.enqueue(part);
    if ((controller.desiredSize ?? 1) <= 0) {
      (this.#pressured ??= []).push({ controller, active, fail });
    }
  }

  #pulled(): void {
    const w = this.#pullWaiter;
    this.#pullWaiter = undefined;
    w?.();
  }

  /** Waits while any consumer is behind and still reading; fails the ones that stall. */
  async relieve(): Promise<void> {
    const pressured = this.#pressured;
    if (pressured === undefined) return;
    this.#pressured = undefined;
    const host = this.#host;
    const check = Math.max(1, Math.min(100, this.#stallMs));
    for (const p of pressured) {
      let last = p.controller.desiredSize ?? 0;
      let progressAt = Date.now();
      while (!host.life.closed && p.active() && (p.controller.desiredSize ?? 1) <= 0) {
        let timer: TimerHandle | undefined;
        await new Promise<void>((resolve) => {
          this.#pullWaiter = resolve;
          timer = setTimeout(resolve, check);
        });
        clearTimeout(timer);
        host.readPaused();
        const now = p.controller.desiredSize ?? 0;
        if (now > last) {
          last = now;
          progressAt = Date.now();
        } else if (Date.now() - progressAt >= this.#stallMs) {
          p.fail();
          break;
        }
      }
    }
  }
}
