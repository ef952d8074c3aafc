// This module is browser compatible.

import { ConnectionClosedError } from "./errors.ts";
import { Peer, type PeerOptions, type RequestOptions } from "./peer.ts";
import type { Transport } from "./transport.ts";

/**
 * Options for a {@linkcode ReconnectingPeer}.
 *
 * @example Usage
 * ```ts
 * import { pipePair, type ReconnectingPeerOptions } from "@gotalk/gotalk";
 * import assert from "node:assert/strict";
 *
 * const options: ReconnectingPeerOptions = {
 *   connect: () => Promise.resolve(pipePair()[0]),
 *   minDelayMs: 100,
 * };
 * assert.equal(options.minDelayMs, 100);
 * ```
 */
export interface ReconnectingPeerOptions extends PeerOptions {
  /**
   * Opens a new connection. Called at start and after every disconnection, with backoff; a
   * rejection counts as a failed attempt. The signal aborts when the peer is closed.
   */
  connect: (signal: AbortSignal) => Promise<Transport>;
  /**
   * The first retry delay, in milliseconds.
   *
   * @default {250}
   */
  minDelayMs?: number;
  /**
   * The longest retry delay, in milliseconds. Delays double from `minDelayMs` up to this, each
   * one drawn at random between half and all of it ("equal jitter"), so that many clients
   * cut off together do not come back together.
   *
   * @default {30000}
   */
  maxDelayMs?: number;
  /**
   * How many requests and notifications made while disconnected wait for the next connection;
   * further ones reject at once with {@linkcode ConnectionClosedError}. 0 rejects every call
   * made while disconnected. Waiting calls still honour their own `signal` and `timeoutMs`.
   *
   * @default {100}
   */
  maxQueued?: number;
}

/** A call made while disconnected, waiting for the next connection. */
interface Queued {
  run: (peer: Peer) => void;
  fail: (error: unknown) => void;
}

/**
 * A connection that comes back: it opens a {@linkcode Peer} with `connect`, and whenever the
 * connection closes it connects again after an exponential backoff with jitter, until
 * {@linkcode ReconnectingPeer.close} is called. In browsers it waits for the `online` event
 * while `navigator.onLine` is false, and reconnects at once when the browser comes back online.
 *
 * Policy for calls while disconnected: requests and notifications wait in a bounded queue
 * (`maxQueued`) and are sent when the next connection opens; past the bound they reject at once
 * with {@linkcode ConnectionClosedError}. Requests in flight when a connection drops reject
 * with {@linkcode ConnectionClosedError} and are not resent (they may have run).
 *
 * Events: `open` (a connection is up; `detail` is the new {@linkcode Peer}) and `close` (it
 * went down; `detail` is the reason or `undefined`).
 *
 * @example Reconnecting after the server drops the connection
 * ```ts
 * import { Handlers, Peer, pipePair, ReconnectingPeer } from "@gotalk/gotalk";
 * import assert from "node:assert/strict";
 *
 * const handlers = new Handlers().handle("ping", () => "pong");
 * const servers: Peer[] = [];
 * const client = new ReconnectingPeer({
 *   minDelayMs: 1,
 *   connect: () => {
 *     const [a, b] = pipePair();
 *     servers.push(new Peer(a, { handlers }));
 *     return Promise.resolve(b);
 *   },
 * });
 * assert.equal(await client.request("ping"), "pong");
 * servers[0].abort();
 * assert.equal(await client.request("ping"), "pong");
 * await client.close();
 * for (const s of servers) s.abort();
 * ```
 */
export class ReconnectingPeer extends EventTarget {
  readonly #options: ReconnectingPeerOptions;
  readonly #minDelay: number;
  readonly #maxDelay: number;
  readonly #maxQueued: number;
  readonly #stop = new AbortController();
  #peer: Peer | undefined;
  #queue: Queued[] = [];
  #attempt = 0;
  #closed = false;
  #wake: (() => void) | undefined;
  readonly #loop: Promise<void>;

  /**
   * Starts connecting.
   *
   * @param options How to connect, the backoff, the queue bound, and the options of each
   * {@linkcode Peer}.
   * @throws {RangeError} If a delay or the queue bound is negative or the delays are inverted.
   */
  constructor(options: ReconnectingPeerOptions) {
    super();
    this.#options = options;
    this.#minDelay = options.minDelayMs ?? 250;
    this.#maxDelay = options.maxDelayMs ?? 30_000;
    this.#maxQueued = options.maxQueued ?? 100;
    if (!(this.#minDelay >= 0 && this.#maxDelay >= this.#minDelay && this.#maxQueued >= 0)) {
      throw new RangeError("Need 0 <= minDelayMs <= maxDelayMs and maxQueued >= 0");
    }
    const g = globalThis as {
      addEventListener?: (type: string, fn: () => void, options?: { signal: AbortSignal }) => void;
    };
    // Browsers: come back as soon as the network does.
    g.addEventListener?.("online", () => this.#wake?.(), { signal: this.#stop.signal });
    this.#loop = this.#run();
  }

  /**
   * The current connection's peer, or `undefined` while disconnected.
   *
   * @returns The peer.
   *
   * @example Usage
   * ```ts ignore
   * client.peer?.lastHeartbeat;
   * ```
   */
  get peer(): Peer | undefined {
    return this.#peer;
  }

  /**
   * Whether a connection is up.
   *
   * @returns `true` while connected.
   *
   * @example Usage
   * ```ts ignore
   * if (!client.connected) showOfflineBanner();
   * ```
   */
  get connected(): boolean {
    return this.#peer !== undefined && this.#peer.isOpen;
  }

  /**
   * Sends a JSON request on the current connection, or on the next one (see the queue policy).
   *
   * @typeParam T The result type (not checked).
   * @param op The operation.
   * @param value The request value.
   * @param options A signal, a timeout, a retry budget.
   * @returns The result.
   * @throws {ConnectionClosedError} When the queue is full, the peer is closed, or the
   * connection drops while the request is in flight.
   *
   * @example Usage
   * ```ts ignore
   * const rooms = await client.request<string[]>("rooms");
   * ```
   */
  request<T = unknown>(op: string, value?: unknown, options?: RequestOptions): Promise<T> {
    return this.#call((peer) => peer.request<T>(op, value, options), options?.signal);
  }

  /**
   * Sends a request with a raw payload (see {@linkcode Peer.bufferRequest}).
   *
   * @param op The operation.
   * @param payload The payload.
   * @param options A signal, a timeout, a retry budget.
   * @returns The result payload.
   * @throws {ConnectionClosedError} When the queue is full or the connection drops.
   *
   * @example Usage
   * ```ts ignore
   * const bytes = await client.bufferRequest("echo", new Uint8Array([1]));
   * ```
   */
  bufferRequest(op: string, payload: Uint8Array, options?: RequestOptions): Promise<Uint8Array> {
    return this.#call((peer) => peer.bufferRequest(op, payload, options), options?.signal);
  }

  /**
   * Sends a JSON notification now, or when the next connection opens.
   *
   * @param name The notification name.
   * @param value The value.
   * @returns Resolves when it is queued for writing on a connection.
   * @throws {ConnectionClosedError} When the queue is full or the peer is closed.
   *
   * @example Usage
   * ```ts ignore
   * await client.notify("typing", { room: "general" });
   * ```
   */
  notify(name: string, value?: unknown): Promise<void> {
    return this.#call((peer) => peer.notify(name, value));
  }

  /**
   * Stops reconnecting, rejects queued calls, and closes the current connection gracefully.
   *
   * @returns Resolves when everything is closed.
   *
   * @example Usage
   * ```ts ignore
   * await client.close();
   * ```
   */
  async close(): Promise<void> {
    if (this.#closed) return this.#loop;
    this.#closed = true;
    this.#stop.abort(new ConnectionClosedError("The reconnecting peer was closed"));
    this.#wake?.();
    this.#flushQueue(new ConnectionClosedError("The reconnecting peer was closed"));
    await this.#peer?.close({ timeoutMs: 1000 });
    await this.#loop;
  }

  #call<T>(fn: (peer: Peer) => Promise<T>, signal?: AbortSignal): Promise<T> {
    if (this.#closed) return Promise.reject(new ConnectionClosedError());
    if (signal?.aborted) return Promise.reject(signal.reason);
    const peer = this.#peer;
    if (peer !== undefined && peer.isOpen) return fn(peer);
    if (this.#queue.length >= this.#maxQueued) {
      return Promise.reject(
        new ConnectionClosedError("Disconnected, and the queue of waiting calls is full"),
      );
    }
    return new Promise<T>((resolve, reject) => {
      const entry: Queued = {
        run: (p) => fn(p).then(resolve, reject),
        fail: reject,
      };
      this.#queue.push(entry);
      signal?.addEventListener("abort", () => {
        const i = this.#queue.indexOf(entry);
        if (i >= 0) {
          this.#queue.splice(i, 1);
          reject(signal.reason);
        }
      }, { once: true });
    });
  }

  #flushQueue(error: unknown): void {
    const queue = this.#queue;
    this.#queue = [];
    for (const q of queue) q.fail(error);
  }

  /** Waits `ms`, or until woken (online again, or closed). */
  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(done, ms);
      function done() {
        clearTimeout(t);
        resolve();
      }
      this.#wake = done;
    });
  }

  async #run(): Promise<void> {
    const nav = (globalThis as { navigator?: { onLine?: boolean } }).navigator;
    while (!this.#closed) {
      if (nav?.onLine === false) {
        await this.#sleep(this.#maxDelay); // until the "online" event (or a periodic retry)
        continue;
      }
      let peer: Peer;
      try {
        const transport = await this.#options.connect(this.#stop.signal);
        if (this.#closed) {
          transport.close?.();
          return;
        }
        peer = new Peer(transport, this.#options);
      } catch {
        // A failed attempt: back off and try again (the error has nowhere better to go).
        await this.#backoff();
        continue;
      }
      // Back off from scratch only once the remote answered the handshake: a server that accepts
      // and drops at once must not cause a tight loop.
      peer.ready.then(() => this.#attempt = 0, () => {});
      this.#peer = peer;
      this.dispatchEvent(new CustomEvent("open", { detail: peer }));
      const queued = this.#queue;
      this.#queue = [];
      for (const q of queued) q.run(peer);
      const reason = await peer.closed;
      this.#peer = undefined;
      this.dispatchEvent(new CustomEvent("close", { detail: reason }));
      if (!this.#closed) await this.#backoff();
    }
  }

  #backoff(): Promise<void> {
    const ceiling = Math.min(this.#maxDelay, this.#minDelay * 2 ** this.#attempt);
    this.#attempt = Math.min(this.#attempt + 1, 30);
    return this.#sleep(ceiling / 2 + Math.random() * ceiling / 2);
  }
}
