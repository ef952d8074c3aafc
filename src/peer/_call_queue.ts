// This module is browser compatible.
// The calls a ReconnectingPeer holds while it is disconnected: bounded in number and in time,
// each honouring its own abort signal, run in order when a connection opens.

import { ConnectionClosedError } from "./errors.ts";

/** The bounds of a {@linkcode CallQueue}. */
export interface CallQueueOptions {
  /** How many calls may wait; more reject at once. */
  readonly maxQueued: number;
  /** How long one call may wait, in milliseconds; 0: as long as it takes. */
  readonly timeoutMs: number;
  /** Why the last connect attempt failed: the `cause` of a call that waited too long. */
  readonly lastError: () => unknown;
}

interface Entry<P> {
  run: (peer: P) => void;
  fail: (error: unknown) => void;
}

/** Calls waiting for a connection (`P`: what they run on). */
export class CallQueue<P> {
  readonly #options: CallQueueOptions;
  #entries: Entry<P>[] = [];

  constructor(options: CallQueueOptions) {
    this.#options = options;
  }

  /**
   * Holds `fn` until {@linkcode runAll}; rejects at once when the queue is full, later when
   * `signal` aborts (with its reason) or the wait passes `timeoutMs`.
   */
  add<T>(op: string, fn: (peer: P) => Promise<T>, signal?: AbortSignal): Promise<T> {
    const { maxQueued, timeoutMs, lastError } = this.#options;
    if (this.#entries.length >= maxQueued) {
      return Promise.reject(
        new ConnectionClosedError(
          `"${op}" was refused: disconnected, and ${maxQueued} calls already wait (maxQueued)`,
          { cause: lastError() },
        ),
      );
    }
    return new Promise<T>((resolve, reject) => {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const onAbort = () => settle(() => reject(signal!.reason));
      const settle = (then: () => void) => {
        const i = this.#entries.indexOf(entry);
        if (i >= 0) this.#entries.splice(i, 1);
        clearTimeout(timer);
        signal?.removeEventListener("abort", onAbort);
        then();
      };
      const entry: Entry<P> = {
        run: (peer) => settle(() => fn(peer).then(resolve, reject)),
        fail: (error) => settle(() => reject(error)),
      };
      this.#entries.push(entry);
      signal?.addEventListener("abort", onAbort, { once: true });
      if (timeoutMs > 0) {
        timer = setTimeout(() =>
          entry.fail(
            new ConnectionClosedError(
              `"${op}" waited ${timeoutMs} ms for a connection and none came (queueTimeoutMs)`,
              { cause: lastError() },
            ),
          ), timeoutMs);
      }
    });
  }

  /** Runs every waiting call on `peer`, in the order they came. */
  runAll(peer: P): void {
    for (const e of [...this.#entries]) e.run(peer);
  }

  /** Rejects every waiting call with `error`. */
  failAll(error: unknown): void {
    for (const e of [...this.#entries]) e.fail(error);
  }
}
