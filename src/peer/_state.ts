// This module is browser compatible.
// The state of a peer: open, closing (no new work), closed; the `ready` and `closed` promises;
// and waiting for in-flight work to finish. An idle peer holds none of its promises until
// someone asks for them (a server's peers are rarely asked for `ready`), nor a waiter list.

import { ConnectionClosedError } from "./errors.ts";
import type { Lifecycle } from "./_seams.ts";

const noop = (): void => {};

/** A promise and how to settle it, made on first use. */
interface Deferred<T> {
  readonly promise: Promise<T>;
  resolve(value: T): void;
  reject(error: unknown): void;
}

function deferred<T>(): Deferred<T> {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** What the state asks of the rest of the peer. */
export interface Work {
  /** Whether no work is in flight (nothing pending, handled or uploading). */
  isIdle(): boolean;
  /** The transport was released (after `closed` resolved). */
  released(): void;
}

// A peer's stage (the low bits of its state), and whether its transport was released.
const STAGE = 3;
const OPEN = 0;
const CLOSING = 1;
const CLOSED = 2;
const RELEASED = 4;

/** A peer's state, as its parts see it ({@linkcode Lifecycle}) and as the peer drives it. */
export class PeerState implements Lifecycle {
  /** {@linkcode OPEN}, {@linkcode CLOSING} or {@linkcode CLOSED}, and the {@linkcode RELEASED} bit. */
  #state = OPEN;
  /** Why it closed (undefined: a normal close). */
  #error: Error | undefined;
  readonly #work: Work;
  /** Woken when the peer goes idle while draining, or closes (made by `drain`). */
  #idleWaiters: Array<() => void> | undefined;
  /** `ready`'s outcome: `undefined` while pending, `true` (the handshake came) or the error. */
  #readyOutcome: true | ConnectionClosedError | undefined;
  /** `ready` once asked for: settled, or pending with how to settle it. */
  #ready: Promise<void> | Deferred<void> | undefined;
  /** `closed` once asked for (as `#ready`). */
  #closed: Promise<Error | undefined> | Deferred<Error | undefined> | undefined;

  /** @param work Tells whether no work is in flight (asked only while draining). */
  constructor(work: Work) {
    this.#work = work;
  }

  /** Resolves when the remote's handshake arrived; rejects if the peer closed first. */
  get ready(): Promise<void> {
    const r = this.#ready;
    if (r !== undefined) return r instanceof Promise ? r : r.promise;
    const outcome = this.#readyOutcome;
    if (outcome === true) return this.#ready = Promise.resolve();
    if (outcome !== undefined) {
      const rejected = Promise.reject(outcome);
      rejected.catch(noop);
      return this.#ready = rejected;
    }
    const d = this.#ready = deferred<void>();
    d.promise.catch(noop);
    return d.promise;
  }

  /** Resolves when the transport is released, with the error that closed the peer, if any. */
  get closedPromise(): Promise<Error | undefined> {
    const c = this.#closed;
    if (c !== undefined) return c instanceof Promise ? c : c.promise;
    if (this.#state & RELEASED) return this.#closed = Promise.resolve(this.#error);
    return (this.#closed = deferred<Error | undefined>()).promise;
  }

  get open(): boolean {
    return (this.#state & STAGE) === OPEN;
  }

  get closed(): boolean {
    return (this.#state & STAGE) === CLOSED;
  }

  closedError(): ConnectionClosedError {
    return new ConnectionClosedError(
      (this.#state & STAGE) === CLOSING ? "The connection is closing" : "The connection is closed",
      this.#error ? { cause: this.#error } : undefined,
    );
  }

  idleChanged(): void {
    if (this.#idleWaiters !== undefined && this.#idleWaiters.length > 0 && this.#work.isIdle()) {
      this.#wakeIdle();
    }
  }

  /** The remote's handshake arrived. */
  handshaken(): void {
    if (this.#readyOutcome !== undefined) return;
    this.#readyOutcome = true;
    const r = this.#ready;
    if (r !== undefined && !(r instanceof Promise)) {
      this.#ready = r.promise;
      r.resolve();
    }
  }

  /**
   * Stops taking new work and resolves once in-flight work is done or after `timeoutMs`.
   * Resolves `false` at once if the peer was not open.
   */
  async drain(timeoutMs: number): Promise<boolean> {
    if ((this.#state & STAGE) !== OPEN) return false;
    this.#state = CLOSING | (this.#state & RELEASED);
    if (this.#work.isIdle()) return true;
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([
      new Promise<void>((resolve) => (this.#idleWaiters ??= []).push(resolve)),
      new Promise<void>((resolve) => timer = setTimeout(resolve, timeoutMs)),
    ]);
    clearTimeout(timer);
    return true;
  }

  /**
   * Marks the peer closed because of `error` (undefined: a normal close) and returns the
   * error that pending work rejects with, or `undefined` if it was closed already. `ready`
   * rejects with it if the handshake had not arrived.
   */
  close(error: Error | undefined, reason: unknown): ConnectionClosedError | undefined {
    if ((this.#state & STAGE) === CLOSED) return undefined;
    this.#state = CLOSED | (this.#state & RELEASED);
    this.#error = error;
    const closedError = new ConnectionClosedError(
      error ? `The connection closed: ${error.message}` : "The connection closed",
      error ? { cause: error } : reason !== undefined ? { cause: reason } : undefined,
    );
    if (this.#readyOutcome === undefined) {
      this.#readyOutcome = closedError;
      const r = this.#ready;
      if (r !== undefined && !(r instanceof Promise)) {
        this.#ready = r.promise;
        r.reject(closedError);
      }
    }
    this.#wakeIdle();
    return closedError;
  }

  /** The transport is released: `closed` resolves. */
  released(): void {
    if (this.#state & RELEASED) return;
    this.#state |= RELEASED;
    const c = this.#closed;
    if (c !== undefined && !(c instanceof Promise)) {
      this.#closed = c.promise;
      c.resolve(this.#error);
    }
    this.#work.released();
  }

  /** Whether the transport was released. */
  get isReleased(): boolean {
    return (this.#state & RELEASED) !== 0;
  }

  #wakeIdle(): void {
    const waiters = this.#idleWaiters;
    if (waiters === undefined) return;
    this.#idleWaiters = undefined;
    for (const w of waiters) w();
  }
}
