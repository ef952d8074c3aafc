// This module is browser compatible.

import type {
  BytesNotification,
  BytesOp,
  Contract,
  NotificationName,
  NotificationValue,
  OpInput,
  OpName,
  OpResult,
  UntypedNotification,
  UntypedOp,
} from "./contract.ts";

/**
 * A heartbeat received from the remote.
 *
 * @example Watching the remote's heartbeats
 * ```ts
 * import { type Heartbeat, Peer, pipePair } from "@gotalk/gotalk";
 * import assert from "node:assert/strict";
 *
 * const [a, b] = pipePair();
 * const server = new Peer(a, { heartbeatIntervalMs: 10, heartbeatLoad: () => 7 });
 * const first = Promise.withResolvers<Heartbeat>();
 * const client = new Peer(b, { onHeartbeat: first.resolve });
 * const keepAlive = setTimeout(() => {}, 60_000); // heartbeat timers never keep a process alive
 * assert.equal((await first.promise).load, 7);
 * clearTimeout(keepAlive);
 * client.abort();
 * server.abort();
 * ```
 */
export interface Heartbeat {
  /** The remote's load, 0 to 0xffff. */
  load: number;
  /** The remote's clock, in UTC seconds since the epoch. */
  time: number;
  /** When it arrived, in milliseconds since the epoch (local clock). */
  receivedAt: number;
}

/**
 * Options for one request.
 *
 * @example A timeout for one request
 * ```ts
 * import { Handlers, Peer, pipePair, type RequestOptions } from "@gotalk/gotalk";
 * import assert from "node:assert/strict";
 *
 * const [a, b] = pipePair();
 * const server = new Peer(a, { handlers: new Handlers().handle("slow", () => new Promise(() => {})) });
 * const client = new Peer(b);
 * const options: RequestOptions = { timeoutMs: 20 };
 * await assert.rejects(client.request("slow", null, options), { name: "TimeoutError" });
 * client.abort();
 * server.abort();
 * ```
 */
export interface RequestOptions {
  /**
   * Aborts the request: it rejects with the signal's reason and a late answer is dropped.
   *
   * @default {undefined}
   */
  signal?: AbortSignal;
  /**
   * Rejects with a `TimeoutError` `DOMException` after this many milliseconds (0: none).
   *
   * @default {PeerOptions.requestTimeoutMs}
   */
  timeoutMs?: number;
  /**
   * How many times to resend after a RetryResult (buffer requests only).
   *
   * @default {PeerOptions.maxRetries}
   */
  maxRetries?: number;
}

/**
 * Options for one streaming request: {@linkcode RequestOptions} but `maxRetries` (streaming
 * requests are never retried).
 *
 * @example A streaming request that times out
 * ```ts
 * import { Peer, pipePair, type StreamOptions } from "@gotalk/gotalk";
 * import assert from "node:assert/strict";
 *
 * const [a, b] = pipePair();
 * const server = new Peer(a);
 * const client = new Peer(b);
 * const options: StreamOptions = { timeoutMs: 1000 };
 * const { readable } = client.streamRequest("nothing", options);
 * await assert.rejects(readable.getReader().read());
 * client.abort();
 * server.abort();
 * ```
 */
export type StreamOptions = Omit<RequestOptions, "maxRetries">;

/**
 * A streaming request in flight: write the request parts to `writable` (closing it ends the
 * request), read the result parts from `readable` (a single result arrives as one part; an
 * ErrorResult errors it with a {@linkcode RemoteError}).
 *
 * @example Writing a request in parts, reading the result in parts
 * ```ts
 * import { Handlers, Peer, pipePair } from "@gotalk/gotalk";
 * import assert from "node:assert/strict";
 *
 * const [a, b] = pipePair();
 * const upper = new TransformStream<Uint8Array, Uint8Array>({
 *   transform: (part, out) => out.enqueue(new TextEncoder().encode(new TextDecoder().decode(part).toUpperCase())),
 * });
 * const server = new Peer(a, { handlers: new Handlers().handleStream("upper", (parts) => parts.pipeThrough(upper)) });
 * const client = new Peer(b);
 * const { writable, readable } = client.streamRequest("upper");
 * ReadableStream.from([new TextEncoder().encode("ab"), new TextEncoder().encode("c")]).pipeTo(writable);
 * const parts = await Array.fromAsync(readable, (part) => new TextDecoder().decode(part));
 * assert.deepEqual(parts, ["AB", "C"]);
 * client.abort();
 * server.abort();
 * ```
 */
export interface StreamRequest {
  /** Request parts; `close()` ends the request, `abort()` cancels it. */
  readonly writable: WritableStream<Uint8Array>;
  /** Result parts. Cancelling it cancels the request. */
  readonly readable: ReadableStream<Uint8Array>;
}

/**
 * Options for {@linkcode Peer.close}.
 *
 * @example Closing without waiting long for a request that never ends
 * ```ts
 * import { type CloseOptions, ConnectionClosedError, Handlers, Peer, pipePair } from "@gotalk/gotalk";
 * import assert from "node:assert/strict";
 *
 * const [a, b] = pipePair();
 * const server = new Peer(a, { handlers: new Handlers().handle("slow", () => new Promise(() => {})) });
 * const client = new Peer(b);
 * const answer = client.request("slow");
 * const options: CloseOptions = { timeoutMs: 20 };
 * await client.close(options);
 * await assert.rejects(answer, ConnectionClosedError);
 * server.abort();
 * ```
 */
export interface CloseOptions {
  /**
   * How long in-flight work (requests both ways, streams) may take to finish before the
   * connection is closed anyway, in milliseconds.
   *
   * @default {5000}
   */
  timeoutMs?: number;
}

/**
 * What a session offers, whatever carries it: a {@linkcode Peer} on one connection, or a
 * {@linkcode ReconnectingPeer} across many. Handlers see the peer a request came from as one
 * (`context.peer`), so they can call back, notify, or close it.
 *
 * @example A handler that calls back the peer it serves
 * ```ts
 * import { Handlers, Peer, pipePair, type Session } from "@gotalk/gotalk";
 * import assert from "node:assert/strict";
 *
 * const [a, b] = pipePair();
 * const ask = (peer: Session) => peer.request<string>("name");
 * const server = new Peer(a, { handlers: new Handlers().handle("hello", (_v, ctx) => ask(ctx.peer)) });
 * const client = new Peer(b, { handlers: new Handlers().handle("name", () => "Ada") });
 * assert.equal(await client.request("hello"), "Ada");
 * client.abort();
 * server.abort();
 * ```
 *
 * @typeParam Local What this side serves (a {@linkcode Contract}; untyped by default).
 * @typeParam Remote What the other side serves: it types `request` and `notify`.
 */
export interface Session<Local extends Contract = Contract, Remote extends Contract = Contract> {
  /** Type only, never set: the contracts, for inference (`remote(peer)` reads `Remote`). */
  readonly "~contract"?: { readonly local: Local; readonly remote: Remote };
  /**
   * The connection's data (see `PeerOptions.data`; a `Server` sets it from `onConnect`). For a
   * `ReconnectingPeer`, its own `data` option, which every connection's peer gets.
   */
  readonly data: unknown;
  /** Whether requests can be sent now (not closing or closed; for a reconnecting peer: connected). */
  readonly isOpen: boolean;
  /** Resolves when the session is closed for good (see {@linkcode Peer.closed}). Never rejects. */
  readonly closed: Promise<Error | undefined>;
  /** Sends a request for an op of the remote's contract, typed by it (see {@linkcode Peer.request}). */
  request<K extends OpName<Remote>>(
    op: K,
    ...args: RequestArgs<Remote, K>
  ): Promise<OpResult<Remote, K>>;
  /** Sends a JSON request and resolves with the JSON result (see {@linkcode Peer.request}). */
  request<T = unknown>(
    op: UntypedOp<Remote>,
    value?: unknown,
    options?: RequestOptions,
  ): Promise<T>;
  /** Sends a request with a raw payload (see {@linkcode Peer.bufferRequest}). */
  bufferRequest(
    op: BytesOp<Remote, "buffer">,
    payload: Uint8Array,
    options?: RequestOptions,
  ): Promise<Uint8Array>;
  /** Starts a streaming request (see {@linkcode Peer.streamRequest}). */
  streamRequest(op: BytesOp<Remote, "stream">, options?: StreamOptions): StreamRequest;
  /** Sends a notification of the remote's contract, typed by it (see {@linkcode Peer.notify}). */
  notify<K extends NotificationName<Remote>>(
    name: K,
    ...args: NotifyArgs<Remote, K>
  ): Promise<void>;
  /** Sends a JSON notification (see {@linkcode Peer.notify}). */
  notify(name: UntypedNotification<Remote>, value?: unknown): Promise<void>;
  /** Sends a notification with a raw payload (see {@linkcode Peer.bufferNotify}). */
  bufferNotify(name: BytesNotification<Remote>, payload: Uint8Array): Promise<void>;
  /** Closes gracefully (see {@linkcode Peer.close}). */
  close(options?: CloseOptions): Promise<void>;
  /** Closes at once (see {@linkcode Peer.abort}). */
  abort(reason?: unknown): void;
}

/**
 * The arguments after the op of a typed `request`: the op's input (optional when it may be
 * `undefined`) and the request's options.
 *
 * @typeParam C The remote's contract.
 * @typeParam K The op.
 *
 * @example Usage
 * ```ts
 * import type { RequestArgs } from "@gotalk/gotalk";
 * import assert from "node:assert/strict";
 *
 * type Api = { ops: { join: { input: { room: string } }; rooms: { output: string[] } } };
 * const join: RequestArgs<Api, "join"> = [{ room: "general" }, { timeoutMs: 100 }];
 * const rooms: RequestArgs<Api, "rooms"> = [];
 * assert.deepEqual([join.length, rooms.length], [2, 0]);
 * ```
 */
export type RequestArgs<C, K extends PropertyKey> = undefined extends OpInput<C, K>
  ? [value?: OpInput<C, K>, options?: RequestOptions]
  : [value: OpInput<C, K>, options?: RequestOptions];

/**
 * The arguments after the name of a typed `notify`: the value (optional when it may be
 * `undefined`).
 *
 * @typeParam C The remote's contract.
 * @typeParam K The notification.
 *
 * @example Usage
 * ```ts
 * import type { NotifyArgs } from "@gotalk/gotalk";
 * import assert from "node:assert/strict";
 *
 * const args: NotifyArgs<{ notifications: { typing: { room: string } } }, "typing"> = [{ room: "a" }];
 * assert.equal(args.length, 1);
 * ```
 */
export type NotifyArgs<C, K extends PropertyKey> = undefined extends NotificationValue<C, K>
  ? [value?: NotificationValue<C, K>]
  : [value: NotificationValue<C, K>];
