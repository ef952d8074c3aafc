// This module is browser compatible.
// The state of a peer: open, closing (no new work), closed; the `ready` and `closed` promises;
// and waiting for in-flight work to finish.

import { ConnectionClosedError } from "./errors.ts";
import type { Lifecycle } from "./_seams.ts";

/** A peer's state, as its parts see it ({@linkcode Lifecycle}) and as the peer drives it. */
export class PeerState implements Lifecycle {
  #state: "open" | "closing" | "closed" = "open";
  /** Why it closed (undefined: a normal close). */
  #error: Error | undefined;
  readonly #isIdle: () => boolean;
  #idleWaiters: Array<() => void> = [];
  readonly ready: Promise<void>;
  #resolveReady!: () => void;
  #rejectReady!: (error: unknown) => void;
  readonly closedPromise: Promise<Error | undefined>;
  #resolveClosed!: (error: Error | undefined) => void;

  /** @param isIdle Whether no work is in flight (nothing pending, handled or uploading). */
  constructor(isIdle: () => boolean) {
    this.#isIdle = isIdle;
    this.ready = new Promise((resolve, reject) => {
      this.#resolveReady = resolve;
      this.#rejectReady = reject;
    });
    this.ready.catch(() => {});
    this.closedPromise = new Promise((resolve) => this.#resolveClosed = resolve);
  }

  get open(): boolean {
    return this.#state === "open";
  }

  get closed(): boolean {
    return this.#state === "closed";
  }

  closedError(): ConnectionClosedError {
    return new ConnectionClosedError(
      this.#state === "closing" ? "The connection is closing" : "The connection is closed",
      this.#error ? { cause: this.#error } : undefined,
    );
  }

  idleChanged(): void {
    if (this.#idleWaiters.length > 0 && this.#isIdle()) this.#wakeIdle();
  }

  /** The remote's handshake arrived. */
  handshaken(): void {
    this.#resolveReady();
  }

  /**
   * Stops taking new work and resolves once in-flight work is done or after `timeoutMs`.
   * Resolves `false` at once if the peer was not open.
   */
  async drain(timeoutMs: number): Promise<boolean> {
    if (this.#state !== "open") return false;
    this.#state = "closing";
    if (this.#isIdle()) return true;
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([
      new Promise<void>((resolve) => this.#idleWaiters.push(resolve)),
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
    if (this.#state === "closed") return undefined;
    this.#state = "closed";
    this.#error = error;
    const closedError = new ConnectionClosedError(
      error ? `The connection closed: ${error.message}` : "The connection closed",
      error ? { cause: error } : reason !== undefined ? { cause: reason } : undefined,
    );
    this.#rejectReady(closedError);
    this.#wakeIdle();
    return closedError;
  }

  /** The transport is released: `closed` resolves. */
  released(): void {
    this.#resolveClosed(this.#error);
  }

  #wakeIdle(): void {
    const waiters = this.#idleWaiters;
    this.#idleWaiters = [];
    for (const w of waiters) w();
  }
}
