// This module is browser compatible.
// The Peer: the public API over its parts, wired in _wiring.ts (each behind a narrow interface).

import { decodeValue, encodeValue } from "./codec.ts";
import type * as C from "./contract.ts";
import type { Interceptor } from "./middleware.ts";
import type { PeerOptions, ResolvedOptions } from "./options.ts";
import type * as S from "./session.ts";
import type { CloseOptions, Heartbeat, RequestOptions, Session } from "./session.ts";
import type { Transport } from "./transport.ts";
import { assemble, type PeerParts } from "./_wiring.ts";
import { type PeerSeam, reachPeerSeams } from "./_peer_seam.ts";
import { NO_OPTIONS, sharedOptions } from "./_shared_options.ts";

/** {@linkcode Peer}'s signatures typed by the remote's contract (the class has the untyped). */
export interface Peer<L extends C.Contract = C.Contract, R extends C.Contract = C.Contract> {
  /** A request for an op of the remote's contract: its value and result typed by it. */
  request<K extends C.OpName<R>>(op: K, ...args: S.RequestArgs<R, K>): Promise<C.OpResult<R, K>>;
  /** A notification of the remote's contract, its value typed by it. */
  notify<K extends C.NotificationName<R>>(name: K, ...args: S.NotifyArgs<R, K>): Promise<void>;
}

/**
 * One end of a Gotalk connection: it sends and serves requests, streams and notifications
 * over a {@linkcode Transport}, both ways at once.
 *
 * It writes the handshake as soon as it is created and does not wait for the remote's before
 * sending requests (as Go does). Every pending request settles exactly once: with its answer,
 * a typed error ({@linkcode RemoteError}, {@linkcode RetryLimitError},
 * {@linkcode ConnectionClosedError}), or its signal's reason. An abort or a timeout settles
 * only the caller's side: Gotalk has no cancel frame, so the remote handler runs on.
 *
 * @example A request between two peers over an in-memory pipe
 * ```ts
 * import { Handlers, Peer, pipePair } from "@gotalk/gotalk";
 * import assert from "node:assert/strict";
 *
 * const [a, b] = pipePair();
 * const server = new Peer(a, {
 *   handlers: new Handlers().handle("upper", (s: string) => s.toUpperCase()),
 * });
 * const client = new Peer(b);
 * assert.equal(await client.request("upper", "hello"), "HELLO");
 * await client.close();
 * await server.closed;
 * ```
 *
 * @typeParam L What this side serves (its handlers' {@linkcode Contract}; untyped by default).
 * @typeParam R What the other side serves: with one, `request` and `notify` take only its
 * names and are typed by it.
 */
export class Peer<L extends C.Contract = C.Contract, R extends C.Contract = C.Contract>
  implements Session<L, R> {
  /** Type only, never set: the contracts, for inference (see {@linkcode Session}). */
  declare readonly "~contract"?: { readonly local: L; readonly remote: R };
  /** The parts (the options and the transport among them), wired in one object. */
  readonly #p: PeerParts & PeerSeam;

  static {
    reachPeerSeams((peer) => #p in peer ? (peer as Peer).#p : undefined);
  }

  /**
   * Starts a peer on `transport`: sends the handshake and starts reading.
   *
   * @param transport The byte streams to talk over; the peer owns them from now on.
   * @param options Handlers, limits and timeouts.
   * @throws {RangeError} If an option is out of range.
   */
  constructor(transport: Transport, options?: PeerOptions<L, R>) {
    const o: ResolvedOptions = sharedOptions(
      options === undefined ? NO_OPTIONS : options as PeerOptions,
    );
    this.#p = assemble(this, transport, o);
  }

  /**
   * Resolves when the remote's handshake arrived with a supported version; rejects if the
   * connection closes first.
   *
   * @returns A promise.
   *
   * @example The other end goes away before its handshake
   * ```ts
   * import { ConnectionClosedError, Peer, pipePair } from "@gotalk/gotalk";
   * import assert from "node:assert/strict";
   *
   * const [a, b] = pipePair();
   * const p = new Peer(a);
   * b.close();
   * await assert.rejects(p.ready, ConnectionClosedError);
   * ```
   */
  get ready(): Promise<void> {
    return this.#p.state.ready;
  }

  /**
   * Resolves when the connection is closed: with `undefined` after a normal close, or with the
   * error that closed it (a {@linkcode ProtocolError}, remote or local, or a
   * {@linkcode ConnectionClosedError} with the transport's error as its cause). Never rejects.
   *
   * @returns A promise.
   *
   * @example Usage
   * ```ts
   * import { Peer, pipePair } from "@gotalk/gotalk";
   * import assert from "node:assert/strict";
   *
   * const [a, b] = pipePair();
   * const p = new Peer(a);
   * const q = new Peer(b);
   * p.abort();
   * assert.equal(await p.closed, undefined);
   * await q.closed;
   * ```
   */
  get closed(): Promise<Error | undefined> {
    return this.#p.state.closedPromise;
  }

  /**
   * Whether the peer still takes new requests (it is neither closing nor closed).
   *
   * @returns `true` while open.
   *
   * @example Usage
   * ```ts
   * import { Peer, pipePair } from "@gotalk/gotalk";
   * import assert from "node:assert/strict";
   *
   * const [a, b] = pipePair();
   * const p = new Peer(a);
   * assert.equal(p.isOpen, true);
   * p.abort();
   * assert.equal(p.isOpen, false);
   * b.close();
   * ```
   */
  get isOpen(): boolean {
    return this.#p.state.open;
  }

  /**
   * The most recent heartbeat from the remote, if any.
   *
   * @returns The heartbeat, or `undefined`.
   *
   * @example Usage
   * ```ts
   * import { Peer, pipePair } from "@gotalk/gotalk";
   * import assert from "node:assert/strict";
   *
   * const [a, b] = pipePair();
   * const p = new Peer(a, { heartbeatIntervalMs: 0 });
   * assert.equal(p.lastHeartbeat, undefined);
   * p.abort();
   * b.close();
   * ```
   */
  get lastHeartbeat(): Heartbeat | undefined {
    return this.#p.liveness.lastHeartbeat;
  }

  /**
   * The remote end's address as the transport describes it (for example `127.0.0.1:4000`), if
   * it does.
   *
   * @returns The address, or `undefined`.
   *
   * @example Usage
   * ```ts
   * import { Peer } from "@gotalk/gotalk";
   * import assert from "node:assert/strict";
   *
   * const { readable, writable } = new TransformStream<Uint8Array, Uint8Array>();
   * const p = new Peer({ readable, writable, close() {}, remoteAddr: "10.0.0.2:4000" });
   * assert.equal(p.remoteAddr, "10.0.0.2:4000");
   * p.abort();
   * ```
   */
  get remoteAddr(): string | undefined {
    return this.#p.transport.remoteAddr;
  }

  /**
   * The local end's address as the transport describes it (for example `127.0.0.1:54321`), if
   * it does.
   *
   * @returns The address, or `undefined`.
   *
   * @example Usage
   * ```ts
   * import { Peer } from "@gotalk/gotalk";
   * import assert from "node:assert/strict";
   *
   * const { readable, writable } = new TransformStream<Uint8Array, Uint8Array>();
   * const p = new Peer({ readable, writable, close() {}, localAddr: "127.0.0.1:54321" });
   * assert.equal(p.localAddr, "127.0.0.1:54321");
   * p.abort();
   * ```
   */
  get localAddr(): string | undefined {
    return this.#p.transport.localAddr;
  }

  /**
   * The number of outgoing requests waiting for an answer.
   *
   * @returns The count.
   *
   * @example Usage
   * ```ts
   * import { Peer, pipePair } from "@gotalk/gotalk";
   * import assert from "node:assert/strict";
   *
   * const [a, b] = pipePair();
   * const p = new Peer(a);
   * assert.equal(p.pendingRequests, 0);
   * p.abort();
   * b.close();
   * ```
   */
  get pendingRequests(): number {
    return this.#p.outgoing.size;
  }

  /**
   * Sends a JSON request (or in the `codec` option's encoding) and resolves with the result.
   *
   * @typeParam T The result type (not checked).
   * @param op The operation.
   * @param value The request value (`JSON.stringify`-able; `undefined` sends an empty payload).
   * @param options A signal, a timeout, a retry budget.
   * @returns The parsed result (`undefined` for an empty result).
   * @throws {RemoteError} As {@linkcode Peer.bufferRequest} (a {@linkcode ValidationError} when
   * the remote's schema refused `value`), and so {@linkcode RetryLimitError} and others.
   * @throws {SyntaxError} When the result is not valid JSON.
   * @throws {TypeError} When JSON cannot carry `value` faithfully (`undefined` inside it,
   * functions, symbols, `Map`, `Set`, `BigInt`, cycles): nothing is sent.
   *
   * @example Usage
   * ```ts
   * import { Handlers, Peer, pipePair } from "@gotalk/gotalk";
   * import assert from "node:assert/strict";
   *
   * const [a, b] = pipePair();
   * const server = new Peer(a, { handlers: new Handlers().handle("add", ([x, y]: number[]) => x + y) });
   * const client = new Peer(b);
   * assert.equal(await client.request<number>("add", [1, 2]), 3);
   * client.abort();
   * server.abort();
   * ```
   */
  async request<T>(op: C.UntypedOp<R>, value?: unknown, options?: RequestOptions): Promise<T> {
    const codec = this.#p.o.codec;
    const payload = encodeValue(codec, value, "request", op);
    return decodeValue(codec, await this.#p.send.request(op, payload, options, "json")) as T;
  }

  /**
   * Sends a request with a raw payload and resolves with the raw result. A streaming result is
   * collected into one buffer (up to `maxPayloadBytes`).
   *
   * @param op The operation.
   * @param payload The request payload (do not modify it until the request settles).
   * @param options A signal, a timeout, a retry budget.
   * @returns The result payload.
   * @throws {RemoteError} When the remote answers with an ErrorResult.
   * @throws {RetryLimitError} When the remote keeps answering with RetryResults.
   * @throws {ConnectionClosedError} When the connection closes first.
   * @throws {RangeError} When the payload is larger than a Gotalk frame can carry.
   * @throws {PayloadTooLargeError} When the payload is larger than `maxPayloadBytes` (nothing is
   * sent), or a streaming result grows past it.
   *
   * @example Usage
   * ```ts
   * import { Handlers, Peer, pipePair } from "@gotalk/gotalk";
   * import assert from "node:assert/strict";
   *
   * const [a, b] = pipePair();
   * const server = new Peer(a, { handlers: new Handlers().handleBuffer("echo", (p) => p) });
   * const client = new Peer(b);
   * const out = await client.bufferRequest("echo", new Uint8Array([1, 2, 3]));
   * assert.deepEqual(out, new Uint8Array([1, 2, 3]));
   * client.abort();
   * server.abort();
   * ```
   */
  bufferRequest(
    op: C.BytesOp<R, "buffer">,
    payload: Uint8Array,
    options?: RequestOptions,
  ): Promise<Uint8Array> {
    return this.#p.send.request(op, payload, options, "buffer");
  }

  /**
   * Starts a streaming request: write its parts, read its result parts.
   *
   * Streaming requests are never retried: a RetryResult errors the result with a
   * {@linkcode RetryLimitError}.
   *
   * @param op The operation.
   * @param options A signal and a timeout.
   * @returns The request's writable and the result's readable.
   *
   * @example Usage
   * ```ts
   * import { Handlers, Peer, pipePair } from "@gotalk/gotalk";
   * import assert from "node:assert/strict";
   *
   * const [a, b] = pipePair();
   * const server = new Peer(a, { handlers: new Handlers().handleStream("echo", (parts) => parts) });
   * const client = new Peer(b);
   * const { writable, readable } = client.streamRequest("echo");
   * const writer = writable.getWriter();
   * await writer.write(new TextEncoder().encode("a"));
   * await writer.write(new TextEncoder().encode("b"));
   * await writer.close();
   * const parts: string[] = [];
   * for await (const part of readable) parts.push(new TextDecoder().decode(part));
   * assert.deepEqual(parts, ["a", "b"]);
   * client.abort();
   * server.abort();
   * ```
   */
  streamRequest(op: C.BytesOp<R, "stream">, options?: S.StreamOptions): S.StreamRequest {
    return this.#p.send.stream(op, options);
  }

  /**
   * Sends a JSON notification.
   *
   * @param name The notification name.
   * @param value The value (`JSON.stringify`-able; a `TypeError` if JSON cannot carry it
   * faithfully, as for {@linkcode Peer.request}).
   * @returns Resolves once the notification is queued for writing (waiting while the write
   * backlog is full).
   * @throws {ConnectionClosedError} When the connection is closed.
   *
   * @example Usage
   * ```ts
   * import { Handlers, Peer, pipePair } from "@gotalk/gotalk";
   * import assert from "node:assert/strict";
   *
   * const [a, b] = pipePair();
   * const got = Promise.withResolvers<string>();
   * const server = new Peer(a, { handlers: new Handlers().handleNotification("hi", got.resolve) });
   * const client = new Peer(b);
   * await client.notify("hi", "there");
   * assert.equal(await got.promise, "there");
   * client.abort();
   * server.abort();
   * ```
   */
  async notify(name: C.UntypedNotification<R>, value?: unknown): Promise<void> {
    const payload = encodeValue(this.#p.o.codec, value, "notification", name);
    return await this.bufferNotify(name, payload);
  }

  /**
   * Sends a notification with a raw payload.
   *
   * @param name The notification name.
   * @param payload The payload (do not modify it afterwards).
   * @returns Resolves once the notification is queued for writing.
   * @throws {ConnectionClosedError} When the connection is closed.
   * @throws {PayloadTooLargeError} When the payload is larger than `maxPayloadBytes`.
   *
   * @example Usage
   * ```ts
   * import { Handlers, Peer, pipePair } from "@gotalk/gotalk";
   * import assert from "node:assert/strict";
   *
   * const [a, b] = pipePair();
   * const got = Promise.withResolvers<Uint8Array>();
   * const server = new Peer(a, { handlers: new Handlers().handleBufferNotification("b", got.resolve) });
   * const client = new Peer(b);
   * await client.bufferNotify("b", new Uint8Array([1]));
   * assert.deepEqual(await got.promise, new Uint8Array([1]));
   * client.abort();
   * server.abort();
   * ```
   */
  bufferNotify(name: C.BytesNotification<R>, payload: Uint8Array): Promise<void> {
    return this.#p.send.notify(name, payload);
  }

  /**
   * Adds an outgoing interceptor (see {@linkcode Interceptor}), inside those added before.
   *
   * @param interceptor Runs around every later request and notification this peer sends.
   * @returns This peer.
   *
   * @example Logging every call a client makes
   * ```ts
   * import { Handlers, Peer, pipePair } from "@gotalk/gotalk";
   * import assert from "node:assert/strict";
   *
   * const [a, b] = pipePair();
   * const server = new Peer(a, { handlers: new Handlers().handle("ping", () => "pong") });
   * const log: string[] = [];
   * const client = new Peer(b).intercept((call, next) => (log.push(call.op), next()));
   * assert.equal(await client.request("ping"), "pong");
   * assert.deepEqual(log, ["ping"]);
   * client.abort();
   * server.abort();
   * ```
   */
  intercept(interceptor: Interceptor): this {
    this.#p.send.intercept(interceptor);
    return this;
  }

  /**
   * The connection's data: the `data` option, which a {@linkcode Server} sets to what its
   * `onConnect` returned. Handlers and middleware see it as `ctx.data`.
   *
   * @returns The data.
   *
   * @example Data of one's own
   * ```ts
   * import { Peer, pipePair } from "@gotalk/gotalk";
   * import assert from "node:assert/strict";
   *
   * const [a, b] = pipePair();
   * const p = new Peer(a, { data: { user: "ada" } });
   * assert.deepEqual(p.data, { user: "ada" });
   * p.abort();
   * b.close();
   * ```
   */
  get data(): unknown {
    return this.#p.o.data;
  }

  /**
   * Closes gracefully: stops taking new work (new outgoing requests reject, new incoming ones
   * get an ErrorResult), lets in-flight work finish for up to `timeoutMs`, then closes the
   * connection. Requests still pending then reject with {@linkcode ConnectionClosedError}.
   *
   * @param options The deadline.
   * @returns Resolves when the connection is closed.
   *
   * @example Usage
   * ```ts
   * import { Handlers, Peer, pipePair } from "@gotalk/gotalk";
   * import assert from "node:assert/strict";
   *
   * const [a, b] = pipePair();
   * const server = new Peer(a, { handlers: new Handlers().handle("ok", () => true) });
   * const client = new Peer(b);
   * const answer = client.request("ok");
   * await client.close();
   * assert.equal(await answer, true);
   * await server.closed;
   * ```
   */
  async close(options?: CloseOptions): Promise<void> {
    const state = this.#p.state;
    if (state.closed) return;
    if (await state.drain(options?.timeoutMs ?? 5000)) this.#p.closing.finish(undefined, true);
    await state.closedPromise;
  }

  /**
   * Closes at once: pending requests reject with {@linkcode ConnectionClosedError}, streams
   * error, the transport is torn down.
   *
   * @param reason Why (becomes the `cause` of the errors; `closed` resolves with it if it is an
   * `Error`).
   *
   * @example Usage
   * ```ts
   * import { ConnectionClosedError, Handlers, Peer, pipePair } from "@gotalk/gotalk";
   * import assert from "node:assert/strict";
   *
   * const [a, b] = pipePair();
   * const server = new Peer(a, { handlers: new Handlers().handle("never", () => new Promise(() => {})) });
   * const client = new Peer(b);
   * const answer = client.request("never");
   * client.abort();
   * await assert.rejects(answer, ConnectionClosedError);
   * server.abort();
   * ```
   */
  abort(reason?: unknown): void {
    this.#p.closing.finish(reason instanceof Error ? reason : undefined, false, reason);
  }
}
