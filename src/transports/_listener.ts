// This module is browser compatible.

/**
 * The one {@linkcode Listener} of every listening transport: a queue of accepted connections
 * that `accept()` and `for await` take from. Internal: not part of the public API.
 *
 * @module
 */

import type { ListenAddr, Listener, Transport } from "../peer/transport.ts";

/** Accepted connections a listener holds for `accept()` before it refuses more. */
export const MAX_PENDING_ACCEPTS = 128;

/**
 * A {@linkcode Listener} fed in one of two ways:
 *
 * - push (Node, Bun, the WebSocket servers): the runtime's connection handler calls
 *   {@linkcode AcceptQueue.push}. The queue is bounded: past {@linkcode MAX_PENDING_ACCEPTS} a
 *   new connection is closed at once, as a full kernel backlog would refuse it.
 * - pull (Deno): `accept()` calls the `pull` function, one call at a time (Deno allows one
 *   pending accept per listener), so connections wait in the kernel's backlog meanwhile. An
 *   error `pull` throws rejects that `accept()`, unless the listener is closed by then.
 *
 * Closing it resolves waiting `accept()` calls with `null`, closes the connections still queued,
 * then calls `onClose` (which stops the runtime's server).
 */
export class AcceptQueue implements Listener {
  #addr: ListenAddr;
  #onClose: (() => void) | undefined;
  #pull: (() => Promise<Transport>) | undefined;
  #tail: Promise<unknown> = Promise.resolve();
  #ready: Transport[] = [];
  #waiters: ((transport: Transport | null) => void)[] = [];
  #closed = false;
  /** The kind of connection (`tcp`, `tls`, `websocket`), set by the runtime adapter. */
  kind: string | undefined;

  constructor(
    addr: ListenAddr = { hostname: "", port: 0 },
    onClose?: () => void,
    pull?: () => Promise<Transport>,
  ) {
    this.#addr = addr;
    this.#onClose = onClose;
    this.#pull = pull;
  }

  get addr(): ListenAddr {
    return this.#addr;
  }

  /** Whether {@linkcode AcceptQueue.close} was called. */
  get closed(): boolean {
    return this.#closed;
  }

  /** Records where the runtime's server listens once it does, and how to stop it. */
  listening(addr: ListenAddr, onClose: () => void): void {
    this.#addr = addr;
    this.#onClose = onClose;
  }

  /** Hands a new connection to a waiting `accept()`, or queues it (or closes it, see above). */
  push(transport: Transport): void {
    const waiter = this.#waiters.shift();
    if (waiter) {
      waiter(transport);
    } else if (!this.#closed && this.#ready.length < MAX_PENDING_ACCEPTS) {
      this.#ready.push(transport);
    } else {
      transport.close();
    }
  }

  accept(): Promise<Transport | null> {
    if (this.#pull) {
      const next = this.#tail.then(() => this.#pullOne(this.#pull!));
      this.#tail = next.catch(() => {});
      return next;
    }
    const ready = this.#ready.shift();
    if (ready) return Promise.resolve(ready);
    if (this.#closed) return Promise.resolve(null);
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  async #pullOne(pull: () => Promise<Transport>): Promise<Transport | null> {
    if (this.#closed) return null;
    let transport: Transport;
    try {
      transport = await pull();
    } catch (error) {
      if (this.#closed) return null;
      throw error;
    }
    if (this.#closed) {
      transport.close();
      return null;
    }
    return transport;
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const waiter of this.#waiters.splice(0)) waiter(null);
    for (const transport of this.#ready.splice(0)) transport.close();
    this.#onClose?.();
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<Transport, void, undefined> {
    while (true) {
      const transport = await this.accept();
      if (transport === null) return;
      yield transport;
    }
  }
}
