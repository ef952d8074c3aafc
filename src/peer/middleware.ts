// This module is browser compatible.

/**
 * The types of middleware (around every incoming request and notification, see
 * `Handlers.use`) and of outgoing interceptors (around every request and notification a
 * `Peer` sends, see `PeerOptions.interceptors` and `Peer.intercept`).
 *
 * @module
 */

import type { HandlerResult } from "./handler_types.ts";
import type { RequestOptions, Session } from "./session.ts";

/**
 * What a request or notification is: a JSON request (`handle`), a buffer request
 * (`handleBuffer`, and fallbacks), a streaming request (`handleStream`; for outgoing calls:
 * `streamRequest`), or a notification (either kind).
 *
 * @example Telling kinds apart in middleware
 * ```ts
 * import { Handlers, Peer, pipePair, type RequestKind } from "@gotalk/gotalk";
 * import assert from "node:assert/strict";
 *
 * const kinds: RequestKind[] = [];
 * const handlers = new Handlers()
 *   .use((ctx, next) => (kinds.push(ctx.kind), next()))
 *   .handle("json", () => 1)
 *   .handleBuffer("bytes", (b) => b);
 * const [a, b] = pipePair();
 * const server = new Peer(a, { handlers });
 * const client = new Peer(b);
 * await client.request("json");
 * await client.bufferRequest("bytes", new Uint8Array(1));
 * assert.deepEqual(kinds, ["json", "buffer"]);
 * client.abort();
 * server.abort();
 * ```
 */
export type RequestKind = "json" | "buffer" | "stream" | "notification";

/**
 * What a {@linkcode Middleware} sees of an incoming request or notification.
 *
 * @typeParam Data The connection's data (see `PeerOptions.data` and `ServerOptions.onConnect`).
 *
 * @example Refusing requests from connections without a user
 * ```ts
 * import { Handlers, type MiddlewareContext, Peer, pipePair } from "@gotalk/gotalk";
 * import assert from "node:assert/strict";
 *
 * const signedIn = (ctx: MiddlewareContext<{ user?: string }>) => ctx.data.user !== undefined;
 * const handlers = new Handlers()
 *   .use<{ user?: string }>((ctx, next) => {
 *     if (!signedIn(ctx)) throw new Error("Sign in first");
 *     return next();
 *   })
 *   .handle("me", (_v, ctx) => (ctx.data as { user: string }).user);
 * const [a, b] = pipePair();
 * const server = new Peer(a, { handlers, data: {}, logger: null });
 * const client = new Peer(b);
 * await assert.rejects(client.request("me"), /Sign in first/);
 * client.abort();
 * server.abort();
 * ```
 */
export interface MiddlewareContext<Data = unknown> {
  /** The peer the request came from (see `RequestContext.peer`). */
  readonly peer: Session;
  /** The operation, or the notification's name. */
  readonly op: string;
  /** How the handler takes it: `json`, `buffer`, `stream`, or `notification`. */
  readonly kind: RequestKind;
  /** The request's id as sent on the wire (four characters); `undefined` for a notification. */
  readonly id: string | undefined;
  /**
   * The request's payload when it arrived whole (and for a streaming request to a buffer or
   * JSON handler, once collected); `undefined` for a stream handler's parts. Read, do not
   * modify.
   */
  readonly payload: Uint8Array | undefined;
  /** The handler's signal (see `RequestContext.signal`). */
  readonly signal: AbortSignal;
  /** The connection's data (`peer.data`). */
  readonly data: Data;
}

/**
 * What `next()` resolves with: the inner handler's result (bytes or a stream of parts), or
 * `undefined` for a notification.
 *
 * @example Measuring the size of every result
 * ```ts
 * import { Handlers, type MiddlewareResult, Peer, pipePair } from "@gotalk/gotalk";
 * import assert from "node:assert/strict";
 *
 * const sizes: number[] = [];
 * const size = (r: MiddlewareResult) => r instanceof Uint8Array ? r.length : -1;
 * const handlers = new Handlers()
 *   .use(async (_ctx, next) => {
 *     const result = await next();
 *     sizes.push(size(result));
 *     return result;
 *   })
 *   .handle("hi", () => "hello");
 * const [a, b] = pipePair();
 * const server = new Peer(a, { handlers });
 * const client = new Peer(b);
 * await client.request("hi");
 * assert.deepEqual(sizes, [7]); // "hello", as JSON
 * client.abort();
 * server.abort();
 * ```
 */
export type MiddlewareResult = HandlerResult | undefined;

/**
 * Runs around every incoming request and notification a `Handlers` set dispatches (see
 * `Handlers.use` for the order). A middleware
 *
 * - calls `next()` and returns its result (returning `undefined` after calling it keeps that
 *   result; it may also return another instead);
 * - or returns without calling it: that value answers the request (bytes or a stream as they
 *   are, other values encoded as JSON, or with the peer's `codec`; `undefined` as an empty
 *   result); for a notification, the handler does not run;
 * - or throws (or lets `next()`'s rejection through: the handler threw): the request gets an
 *   ErrorResult with the message (`internal error` with `exposeHandlerErrors: false`) and the
 *   error is reported as a handler error; a thrown {@linkcode RetryResult} answers with a
 *   RetryResult instead (to shed load), a thrown `RemoteError` with its payload. For a
 *   notification the error is reported only.
 *
 * Middleware runs for requests that found a handler and were admitted: requests for unknown
 * operations, over `maxBufferRequests` / `maxStreamRequests`, or arriving while the peer closes
 * are answered before it. A set without middleware (nor ancestors with any) dispatches exactly
 * as before, without a promise per request. Calling `next()` twice fails the request.
 *
 * @typeParam Data The connection's data.
 *
 * @example Shedding load: a RetryResult past ten requests at once
 * ```ts
 * import { Handlers, type Middleware, Peer, pipePair, RetryLimitError, RetryResult } from "@gotalk/gotalk";
 * import assert from "node:assert/strict";
 *
 * let active = 0;
 * const shed: Middleware = async (_ctx, next) => {
 *   if (active >= 10) throw new RetryResult(100, "busy");
 *   active++;
 *   try {
 *     return await next();
 *   } finally {
 *     active--;
 *   }
 * };
 * active = 10; // as if ten were running
 * const [a, b] = pipePair();
 * const server = new Peer(a, { handlers: new Handlers().use(shed).handle("work", () => 1) });
 * const client = new Peer(b);
 * await assert.rejects(client.request("work", null, { maxRetries: 0 }), RetryLimitError);
 * client.abort();
 * server.abort();
 * ```
 */
export type Middleware<Data = unknown> = (
  ctx: MiddlewareContext<Data>,
  next: () => Promise<MiddlewareResult>,
) => unknown;

/**
 * An outgoing request or notification, as an {@linkcode Interceptor} sees it.
 *
 * @example Adding a token to every JSON request
 * ```ts
 * import { Handlers, type OutgoingCall, Peer, pipePair } from "@gotalk/gotalk";
 * import assert from "node:assert/strict";
 *
 * const withToken = (call: OutgoingCall): OutgoingCall => {
 *   const value = JSON.parse(new TextDecoder().decode(call.payload));
 *   const payload = new TextEncoder().encode(JSON.stringify({ ...value, token: "s3cret" }));
 *   return { ...call, payload };
 * };
 * const [a, b] = pipePair();
 * const server = new Peer(a, { handlers: new Handlers().handle("who", (v: { token: string }) => v.token) });
 * const client = new Peer(b, { interceptors: [(call, next) => next(withToken(call))] });
 * assert.equal(await client.request("who", {}), "s3cret");
 * client.abort();
 * server.abort();
 * ```
 */
export interface OutgoingCall {
  /** The peer sending it. */
  readonly peer: Session;
  /** The operation, or the notification's name. */
  readonly op: string;
  /** `json` (`request`), `buffer` (`bufferRequest`), `stream`, or `notification`. */
  readonly kind: RequestKind;
  /** The payload to send (JSON already encoded); empty for a streaming request. */
  readonly payload: Uint8Array;
  /** The request's options (`undefined` for notifications and when none were given). */
  readonly options: RequestOptions | undefined;
}

/**
 * Runs around every request and notification a peer sends. Call `next()` (with a changed
 * call, if you like: another payload, other options) to send it; it resolves with the result
 * payload (`undefined` for a notification or a streaming request, which it resolves at once,
 * without waiting for the result). Return without calling it to answer yourself (bytes), or
 * throw to fail the call. Returning `undefined` after calling `next()` keeps its result.
 * Interceptors run in the order they were added, the first outermost.
 *
 * @example Counting what a client sends
 * ```ts
 * import { Handlers, type Interceptor, Peer, pipePair } from "@gotalk/gotalk";
 * import assert from "node:assert/strict";
 *
 * const sent: string[] = [];
 * const count: Interceptor = (call, next) => (sent.push(`${call.kind} ${call.op}`), next());
 * const [a, b] = pipePair();
 * const server = new Peer(a, { handlers: new Handlers().handle("ping", () => "pong") });
 * const client = new Peer(b, { interceptors: [count] });
 * await client.request("ping");
 * await client.notify("bye");
 * assert.deepEqual(sent, ["json ping", "notification bye"]);
 * client.abort();
 * server.abort();
 * ```
 */
export type Interceptor = (
  call: OutgoingCall,
  next: (call?: OutgoingCall) => Promise<Uint8Array | undefined>,
) => Uint8Array | undefined | Promise<Uint8Array | undefined>;

/**
 * Thrown by a handler or middleware to answer with a RetryResult: the caller should send the
 * request again after `waitMs` (a `Peer` does so by itself, within its `maxRetries`, for JSON
 * and buffer requests). The way to shed load. A streaming request gets it as a
 * `RetryLimitError`; for a notification it is ignored (there is no one to answer).
 *
 * @example A handler that is not ready yet
 * ```ts
 * import { Handlers, Peer, pipePair, RetryResult } from "@gotalk/gotalk";
 * import assert from "node:assert/strict";
 *
 * let calls = 0;
 * const handlers = new Handlers().handle("warm", () => {
 *   if (++calls < 3) throw new RetryResult(1, "warming up");
 *   return "ready";
 * });
 * const [a, b] = pipePair();
 * const server = new Peer(a, { handlers });
 * const client = new Peer(b, { maxRetries: 5 });
 * assert.equal(await client.request("warm"), "ready");
 * assert.equal(calls, 3);
 * client.abort();
 * server.abort();
 * ```
 */
export class RetryResult extends Error {
  /** How long the caller should wait before retrying, in milliseconds. */
  readonly waitMs: number;

  /**
   * Creates a RetryResult to throw.
   *
   * @param waitMs The wait to ask for, in milliseconds (a whole number, 0 to 4294967295).
   * @param message The RetryResult's text.
   * @param options Standard error options.
   * @throws {RangeError} If `waitMs` is out of range.
   */
  constructor(waitMs: number, message = "retry later", options?: ErrorOptions) {
    super(message, options);
    if (!Number.isInteger(waitMs) || waitMs < 0 || waitMs > 0xffffffff) {
      throw new RangeError(`waitMs must be an integer from 0 to 4294967295, got ${waitMs}`);
    }
    this.name = "RetryResult";
    this.waitMs = waitMs;
  }
}
