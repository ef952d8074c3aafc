// This module is browser compatible.

import { ConnectionClosedError } from "./errors.ts";
import { Peer } from "./peer.ts";
import type { CloseOptions, RequestOptions, Session, StreamRequest } from "./session.ts";
import { CallQueue } from "./_call_queue.ts";
import type { ReconnectingPeerOptions } from "./reconnecting_options.ts";

export type { ReconnectingPeerOptions };

/**
 * A connection that comes back: it opens a {@linkcode Peer} with `connect`, and whenever the
 * connection closes it connects again after an exponential backoff with jitter, until
 * {@linkcode ReconnectingPeer.close} is called. In browsers it waits for the `online` event
 * while `navigator.onLine` is false, and reconnects at once when the browser comes back online.
 *
 * Policy for calls while disconnected: requests and notifications wait in a bounded queue
 * (`maxQueued`, each for at most `queueTimeoutMs`) and are sent when the next connection
 * opens; past the bound they reject at once
 * with {@linkcode ConnectionClosedError}. Requests in flight when a connection drops reject
 * with {@linkcode ConnectionClosedError} and are not resent (they may have run).
 *
 * Streaming requests made while disconnected wait too: their streams are connected to the
 * next connection's. `onOpen` and `onClose` (options, as a {@linkcode Peer}'s `onHeartbeat`
 * and `onError`) tell when connections come and go.
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
 *   onOpen: () => servers.length === 2 && reopened.resolve(),
 * });
 * const reopened = Promise.withResolvers<void>();
 * assert.equal(await client.request("ping"), "pong");
 * servers[0].abort();
 * await reopened.promise;
 * assert.equal(await client.request("ping"), "pong");
 * await client.close();
 * for (const s of servers) s.abort();
 * ```
 */
export class ReconnectingPeer implements Session {
  readonly #options: ReconnectingPeerOptions;
  readonly #minDelay: number;
  readonly #maxDelay: number;
  readonly #stop = new AbortController();
  #peer: Peer | undefined;
  readonly #queue: CallQueue<Peer>;
  /** Backoff steps taken since the last connection that answered its handshake. */
  #attempt = 0;
  /** Connect attempts since a connection was last up (or since the start). */
  #attempts = 0;
  #lastError: unknown;
  #closed = false;
  #wake: (() => void) | undefined;
  readonly #loop: Promise<void>;
  readonly #done: Promise<undefined>;

  /**
   * Starts connecting.
   *
   * @param options How to connect, the backoff, the queue bound, and the options of each
   * {@linkcode Peer}.
   * @throws {RangeError} If a delay or the queue bound is negative or the delays are inverted.
   */
  constructor(options: ReconnectingPeerOptions) {
    this.#options = options;
    this.#minDelay = options.minDelayMs ?? 250;
    this.#maxDelay = options.maxDelayMs ?? 30_000;
    const maxQueued = options.maxQueued ?? 100;
    const timeoutMs = options.queueTimeoutMs ?? 30_000;
    if (
      !(this.#minDelay >= 0 && this.#maxDelay >= this.#minDelay && maxQueued >= 0 &&
        timeoutMs >= 0)
    ) {
      throw new RangeError(
        "Need 0 <= minDelayMs <= maxDelayMs, maxQueued >= 0 and queueTimeoutMs >= 0",
      );
    }
    this.#queue = new CallQueue({ maxQueued, timeoutMs, lastError: () => this.#lastError });
    const g = globalThis as {
      addEventListener?: (type: string, fn: () => void, options?: { signal: AbortSignal }) => void;
    };
    // Browsers: come back as soon as the network does.
    g.addEventListener?.("online", () => this.#wake?.(), { signal: this.#stop.signal });
    this.#loop = this.#run();
    this.#done = this.#loop.then(() => undefined, () => undefined);
  }

  /**
   * The current connection's peer, or `undefined` while disconnected.
   *
   * @returns The peer.
   *
   * @example The peer of the connection that is up
   * ```ts
   * import { Handlers, Peer, pipePair, ReconnectingPeer } from "@gotalk/gotalk";
   * import assert from "node:assert/strict";
   *
   * const [a, b] = pipePair();
   * const server = new Peer(a, { handlers: new Handlers().handle("ping", () => "pong") });
   * const client = new ReconnectingPeer({ connect: () => Promise.resolve(b) });
   *
   * const before = client.peer;
   * assert.equal(before, undefined); // not connected yet
   * assert.equal(await client.request("ping"), "pong");
   * assert.equal(client.peer?.isOpen, true);
   * await client.close();
   * server.abort();
   * ```
   */
  get peer(): Peer | undefined {
    return this.#peer;
  }

  /**
   * Resolves (with `undefined`) once {@linkcode close} or {@linkcode abort} stopped it and its
   * last connection is closed. Never rejects.
   *
   * @returns A promise.
   *
   * @example Usage
   * ```ts
   * import { ReconnectingPeer } from "@gotalk/gotalk";
   * import assert from "node:assert/strict";
   *
   * const client = new ReconnectingPeer({ connect: () => Promise.reject(new Error("offline")) });
   * client.abort();
   * assert.equal(await client.closed, undefined);
   * ```
   */
  get closed(): Promise<undefined> {
    return this.#done;
  }

  /**
   * The `data` option: every connection's peer gets it as its `data`.
   *
   * @returns The data.
   *
   * @example Usage
   * ```ts
   * import { ReconnectingPeer } from "@gotalk/gotalk";
   * import assert from "node:assert/strict";
   *
   * const client = new ReconnectingPeer({ connect: () => Promise.reject(new Error("offline")), data: 7 });
   * assert.equal(client.data, 7);
   * await client.close();
   * ```
   */
  get data(): unknown {
    return this.#options.data;
  }

  /**
   * Whether a connection is up and takes requests (as {@linkcode Peer.isOpen}); calls made
   * while it is not wait in the queue.
   *
   * @returns `true` while connected.
   *
   * @example Usage
   * ```ts
   * import { ReconnectingPeer } from "@gotalk/gotalk";
   * import assert from "node:assert/strict";
   *
   * const client = new ReconnectingPeer({ connect: () => Promise.reject(new Error("offline")) });
   * assert.equal(client.isOpen, false);
   * await client.close();
   * ```
   */
  get isOpen(): boolean {
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
   * @example A request made before the connection is up waits for it
   * ```ts
   * import { Handlers, Peer, pipePair, ReconnectingPeer } from "@gotalk/gotalk";
   * import assert from "node:assert/strict";
   *
   * const [a, b] = pipePair();
   * const server = new Peer(a, { handlers: new Handlers().handle("rooms", () => ["general"]) });
   * const client = new ReconnectingPeer({ connect: () => Promise.resolve(b) });
   *
   * assert.deepEqual(await client.request<string[]>("rooms"), ["general"]);
   * await client.close();
   * server.abort();
   * ```
   */
  request<T = unknown>(op: string, value?: unknown, options?: RequestOptions): Promise<T> {
    return this.#call(op, (peer) => peer.request<T>(op, value, options), options?.signal);
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
   * ```ts
   * import { Handlers, Peer, pipePair, ReconnectingPeer } from "@gotalk/gotalk";
   * import assert from "node:assert/strict";
   *
   * const [a, b] = pipePair();
   * const server = new Peer(a, { handlers: new Handlers().handleBuffer("echo", (bytes) => bytes) });
   * const client = new ReconnectingPeer({ connect: () => Promise.resolve(b) });
   *
   * assert.deepEqual(await client.bufferRequest("echo", new Uint8Array([1])), new Uint8Array([1]));
   * await client.close();
   * server.abort();
   * ```
   */
  bufferRequest(op: string, payload: Uint8Array, options?: RequestOptions): Promise<Uint8Array> {
    return this.#call(op, (peer) => peer.bufferRequest(op, payload, options), options?.signal);
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
   * ```ts
   * import { Handlers, Peer, pipePair, ReconnectingPeer } from "@gotalk/gotalk";
   * import assert from "node:assert/strict";
   *
   * const [a, b] = pipePair();
   * const got = Promise.withResolvers<{ room: string }>();
   * const server = new Peer(a, { handlers: new Handlers().handleNotification("typing", got.resolve) });
   * const client = new ReconnectingPeer({ connect: () => Promise.resolve(b) });
   * await client.notify("typing", { room: "general" });
   * assert.deepEqual(await got.promise, { room: "general" });
   * await client.close();
   * server.abort();
   * ```
   */
  notify(name: string, value?: unknown): Promise<void> {
    return this.#call(name, (peer) => peer.notify(name, value));
  }

  /**
   * Starts a streaming request on the current connection, or (its streams waiting) on the
   * next one (see {@linkcode Peer.streamRequest}). A queued request whose call is refused
   * (the queue is full, the peer closed) errors both streams.
   *
   * @param op The operation.
   * @param options A signal and a timeout.
   * @returns The request's writable and the result's readable.
   *
   * @example Usage
   * ```ts
   * import { Handlers, Peer, pipePair, ReconnectingPeer } from "@gotalk/gotalk";
   * import assert from "node:assert/strict";
   *
   * const [a, b] = pipePair();
   * const server = new Peer(a, { handlers: new Handlers().handleStream("echo", (parts) => parts) });
   * const client = new ReconnectingPeer({ connect: () => Promise.resolve(b) });
   * const { writable, readable } = client.streamRequest("echo");
   * const writer = writable.getWriter();
   * await writer.write(new Uint8Array([7]));
   * await writer.close();
   * const parts: Uint8Array[] = [];
   * for await (const part of readable) parts.push(part);
   * assert.deepEqual(parts, [new Uint8Array([7])]);
   * await client.close();
   * server.abort();
   * ```
   */
  streamRequest(op: string, options?: Omit<RequestOptions, "maxRetries">): StreamRequest {
    const peer = this.#peer;
    if (peer !== undefined && peer.isOpen) return peer.streamRequest(op, options);
    // Disconnected: hand out the ends of two pipes, joined to the real streams on connect.
    const parts = new TransformStream<Uint8Array, Uint8Array>();
    const result = new TransformStream<Uint8Array, Uint8Array>();
    this.#call(op, (p) => {
      const s = p.streamRequest(op, options);
      parts.readable.pipeTo(s.writable).catch(() => {});
      return s.readable.pipeTo(result.writable);
    }, options?.signal).catch((e) => {
      parts.readable.cancel(e).catch(() => {});
      result.writable.abort(e).catch(() => {});
    });
    return { writable: parts.writable, readable: result.readable };
  }

  /**
   * Sends a notification with a raw payload now, or when the next connection opens.
   *
   * @param name The notification name.
   * @param payload The payload.
   * @returns Resolves when it is queued for writing on a connection.
   * @throws {ConnectionClosedError} When the queue is full or the peer is closed.
   *
   * @example Usage
   * ```ts
   * import { Handlers, Peer, pipePair, ReconnectingPeer } from "@gotalk/gotalk";
   * import assert from "node:assert/strict";
   *
   * const [a, b] = pipePair();
   * const got = Promise.withResolvers<Uint8Array>();
   * const server = new Peer(a, {
   *   handlers: new Handlers().handleBufferNotification("blob", got.resolve),
   * });
   * const client = new ReconnectingPeer({ connect: () => Promise.resolve(b) });
   * await client.bufferNotify("blob", new Uint8Array([1, 2]));
   * assert.deepEqual(await got.promise, new Uint8Array([1, 2]));
   * await client.close();
   * server.abort();
   * ```
   */
  bufferNotify(name: string, payload: Uint8Array): Promise<void> {
    return this.#call(name, (peer) => peer.bufferNotify(name, payload));
  }

  /**
   * Stops reconnecting, rejects queued calls, and closes the current connection gracefully.
   *
   * @returns Resolves when everything is closed.
   *
   * @example Closing lets a request in flight finish
   * ```ts
   * import { Handlers, Peer, pipePair, ReconnectingPeer } from "@gotalk/gotalk";
   * import assert from "node:assert/strict";
   *
   * const [a, b] = pipePair();
   * const server = new Peer(a, { handlers: new Handlers().handle("ok", () => true) });
   * const client = new ReconnectingPeer({ connect: () => Promise.resolve(b) });
   * assert.equal(await client.request("ok"), true); // connected
   * const answer = client.request("ok");
   * await client.close();
   * assert.equal(await answer, true);
   * assert.equal(client.isOpen, false);
   * server.abort();
   * ```
   */
  async close(options?: CloseOptions): Promise<void> {
    if (this.#stopReconnecting()) await this.#peer?.close({ timeoutMs: 1000, ...options });
    await this.#loop;
  }

  /**
   * Stops reconnecting, rejects queued calls, and closes the current connection at once (see
   * {@linkcode Peer.abort}).
   *
   * @param reason Why (passed to the current peer's `abort`).
   *
   * @example Usage
   * ```ts
   * import { ConnectionClosedError, ReconnectingPeer } from "@gotalk/gotalk";
   * import assert from "node:assert/strict";
   *
   * const client = new ReconnectingPeer({ connect: () => Promise.reject(new Error("offline")) });
   * const queued = client.request("later");
   * client.abort();
   * await assert.rejects(queued, ConnectionClosedError);
   * ```
   */
  abort(reason?: unknown): void {
    if (this.#stopReconnecting()) this.#peer?.abort(reason);
  }

  /** Stops the loop and rejects queued calls; `false` if it was stopped already. */
  #stopReconnecting(): boolean {
    if (this.#closed) return false;
    this.#closed = true;
    const error = new ConnectionClosedError("The reconnecting peer was closed");
    this.#stop.abort(error);
    this.#wake?.();
    this.#queue.failAll(error);
    return true;
  }

  #call<T>(op: string, fn: (peer: Peer) => Promise<T>, signal?: AbortSignal): Promise<T> {
    if (this.#closed) return Promise.reject(new ConnectionClosedError());
    if (signal?.aborted) return Promise.reject(signal.reason);
    const peer = this.#peer;
    if (peer !== undefined && peer.isOpen) return fn(peer);
    return this.#queue.add(op, fn, signal);
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
      const attempt = ++this.#attempts;
      try {
        this.#options.onConnecting?.(attempt);
        const transport = await this.#options.connect(this.#stop.signal);
        if (this.#closed) {
          transport.close();
          return;
        }
        peer = new Peer(transport, this.#options);
      } catch (error) {
        if (this.#closed) return;
        this.#lastError = error;
        this.#options.onConnectFailed?.(error, attempt);
        await this.#backoff();
        continue;
      }
      // Back off from scratch only once the remote answered the handshake: a server that accepts
      // and drops at once must not cause a tight loop.
      peer.ready.then(() => this.#attempt = 0, () => {});
      this.#peer = peer;
      this.#attempts = 0;
      this.#options.onOpen?.(peer);
      this.#queue.runAll(peer);
      const reason = await peer.closed;
      this.#peer = undefined;
      this.#options.onClose?.(reason);
      if (!this.#closed) await this.#backoff();
    }
  }

  #backoff(): Promise<void> {
    const ceiling = Math.min(this.#maxDelay, this.#minDelay * 2 ** this.#attempt);
    this.#attempt = Math.min(this.#attempt + 1, 30);
    return this.#sleep(ceiling / 2 + Math.random() * ceiling / 2);
  }
}
