// This module is browser compatible.

import type { ValueCodec } from "./codec.ts";
import type { Contract } from "./contract.ts";
import type { Session } from "./session.ts";

/**
 * What a request handler gets besides its input.
 *
 * @example One handler for several ops, telling them apart by `ctx.op`
 * ```ts
 * import { Handlers, Peer, pipePair, type RequestContext } from "@gotalk/gotalk";
 * import assert from "node:assert/strict";
 *
 * const [a, b] = pipePair();
 *
 * const whoami = (_value: unknown, ctx: RequestContext) => `you asked for ${ctx.op}`;
 * const server = new Peer(a, { handlers: new Handlers().handle("a", whoami).handle("b", whoami) });
 * const client = new Peer(b);
 * assert.equal(await client.request("b"), "you asked for b");
 * client.abort();
 * server.abort();
 * ```
 *
 * @typeParam Local What this side serves (see {@linkcode Contract}).
 * @typeParam Remote What the other side serves: it types calls back through `peer`.
 */
export interface RequestContext<
  Local extends Contract = Contract,
  Remote extends Contract = Contract,
  Data = unknown,
> {
  /** The peer the request came from: handlers can send requests and notifications back. */
  readonly peer: Session<Local, Remote>;
  /** The requested operation. */
  readonly op: string;
  /**
   * This request's own signal, aborted when the connection closes, so long-running handlers
   * can stop early. It is let go when the request settles (its result was sent), so a listener
   * added to it goes with the request; it is made the first time a handler reads it.
   */
  readonly signal: AbortSignal;
  /** The peer's value codec (`undefined`: JSON), for handlers that encode values themselves. */
  readonly codec?: ValueCodec;
  /**
   * The connection's data (`peer.data`): what the server's `onConnect` returned, or the peer's
   * `data` option.
   */
  readonly data: Data;
}

/**
 * What a notification handler gets besides its input.
 *
 * @example One handler for several notifications, telling them apart by `ctx.name`
 * ```ts
 * import { Handlers, type NotificationContext, Peer, pipePair } from "@gotalk/gotalk";
 * import assert from "node:assert/strict";
 *
 * const [a, b] = pipePair();
 *
 * const got = Promise.withResolvers<string>();
 * const onAny = (_value: unknown, ctx: NotificationContext) => got.resolve(ctx.name);
 * const server = new Peer(a, { handlers: new Handlers().handleNotification("joined", onAny) });
 * const client = new Peer(b);
 * await client.notify("joined", "Ada");
 * assert.equal(await got.promise, "joined");
 * client.abort();
 * server.abort();
 * ```
 *
 * @typeParam Local What this side serves (see {@linkcode Contract}).
 * @typeParam Remote What the other side serves.
 */
export interface NotificationContext<
  Local extends Contract = Contract,
  Remote extends Contract = Contract,
  Data = unknown,
> {
  /** The peer the notification came from. */
  readonly peer: Session<Local, Remote>;
  /** The notification name. */
  readonly name: string;
  /** The peer's value codec (`undefined`: JSON). */
  readonly codec?: ValueCodec;
  /** The connection's data (`peer.data`). */
  readonly data: Data;
}

/**
 * What a request handler may answer with: bytes (a single result), or a stream of parts (a
 * streaming result, whatever the kind of request).
 *
 * @example A result sent in parts: the caller's buffer request collects them
 * ```ts
 * import { type HandlerResult, Handlers, Peer, pipePair } from "@gotalk/gotalk";
 * import assert from "node:assert/strict";
 *
 * const [a, b] = pipePair();
 *
 * const parts = (): HandlerResult => ReadableStream.from([new Uint8Array([1]), new Uint8Array([2])]);
 * const server = new Peer(a, { handlers: new Handlers().handleBuffer("parts", parts) });
 * const client = new Peer(b);
 * assert.deepEqual(await client.bufferRequest("parts", new Uint8Array(0)), new Uint8Array([1, 2]));
 * client.abort();
 * server.abort();
 * ```
 */
export type HandlerResult = Uint8Array | ReadableStream<Uint8Array>;

/** A registered request handler and how it takes its input (internal to the peer). */
export interface RequestHandlerEntry {
  /**
   * `buffer` (the whole payload; streaming requests are collected first, up to the payload
   * limit) or `stream` (parts as they arrive).
   */
  readonly input: "buffer" | "stream";
  /** How it was registered (fallbacks are `buffer`), for middleware and telemetry. */
  readonly kind: "json" | "buffer" | "stream";
  /** The handler, in its raw form (JSON handlers are wrapped as buffer handlers). */
  readonly fn: BufferHandler | StreamHandler;
}

/**
 * A JSON request handler: gets the parsed request value, returns a value to send back as JSON
 * (or a `ReadableStream` of raw parts for a streaming result). A thrown error becomes an
 * ErrorResult carrying its message.
 *
 * @example A typed JSON handler
 * ```ts
 * import { Handlers, type JsonHandler, Peer, pipePair } from "@gotalk/gotalk";
 * import assert from "node:assert/strict";
 *
 * const [a, b] = pipePair();
 *
 * const upper: JsonHandler<string, string> = (s) => s.toUpperCase();
 * const server = new Peer(a, { handlers: new Handlers().handle("upper", upper) });
 * const client = new Peer(b);
 * assert.equal(await client.request("upper", "abc"), "ABC");
 * client.abort();
 * server.abort();
 * ```
 */
// deno-lint-ignore no-explicit-any
export type JsonHandler<In = any, Out = unknown, Context = RequestContext> = (
  value: In,
  context: Context,
) => Out | Promise<Out>;

/**
 * A buffer request handler: gets the raw request payload, answers with bytes or a stream of
 * parts. A thrown error becomes an ErrorResult carrying its message.
 *
 * @example A handler for raw bytes
 * ```ts
 * import { type BufferHandler, Handlers, Peer, pipePair } from "@gotalk/gotalk";
 * import assert from "node:assert/strict";
 *
 * const [a, b] = pipePair();
 *
 * const sum: BufferHandler = (bytes) => new Uint8Array([bytes.reduce((s, x) => s + x, 0)]);
 * const server = new Peer(a, { handlers: new Handlers().handleBuffer("sum", sum) });
 * const client = new Peer(b);
 * assert.deepEqual(await client.bufferRequest("sum", new Uint8Array([1, 2, 3])), new Uint8Array([6]));
 * client.abort();
 * server.abort();
 * ```
 */
export type BufferHandler<Context = RequestContext> = (
  payload: Uint8Array,
  context: Context,
) => HandlerResult | Promise<HandlerResult>;

/**
 * A streaming request handler: gets the request parts as a `ReadableStream` (a single-payload
 * request arrives as a stream of one part), answers with bytes or a stream of parts.
 *
 * @example A handler that answers each part as it arrives
 * ```ts
 * import { Handlers, Peer, pipePair, type StreamHandler } from "@gotalk/gotalk";
 * import assert from "node:assert/strict";
 *
 * const [a, b] = pipePair();
 *
 * const sizes: StreamHandler = (parts) =>
 *   parts.pipeThrough(new TransformStream({ transform: (p, out) => out.enqueue(new Uint8Array([p.length])) }));
 * const server = new Peer(a, { handlers: new Handlers().handleStream("sizes", sizes) });
 * const client = new Peer(b);
 * const { writable, readable } = client.streamRequest("sizes");
 * ReadableStream.from([new Uint8Array(3), new Uint8Array(5)]).pipeTo(writable);
 * assert.deepEqual(await Array.fromAsync(readable), [new Uint8Array([3]), new Uint8Array([5])]);
 * client.abort();
 * server.abort();
 * ```
 */
export type StreamHandler<Context = RequestContext> = (
  parts: ReadableStream<Uint8Array>,
  context: Context,
) => HandlerResult | Promise<HandlerResult>;

/**
 * A JSON notification handler: gets the parsed value.
 *
 * @example A typed notification handler
 * ```ts
 * import { Handlers, type NotificationHandler, Peer, pipePair } from "@gotalk/gotalk";
 * import assert from "node:assert/strict";
 *
 * const [a, b] = pipePair();
 *
 * const got = Promise.withResolvers<string>();
 * const onChat: NotificationHandler<{ text: string }> = (message) => got.resolve(message.text);
 * const server = new Peer(a, { handlers: new Handlers().handleNotification("chat", onChat) });
 * const client = new Peer(b);
 * await client.notify("chat", { text: "hi" });
 * assert.equal(await got.promise, "hi");
 * client.abort();
 * server.abort();
 * ```
 */
// deno-lint-ignore no-explicit-any
export type NotificationHandler<In = any, Context = NotificationContext> = (
  value: In,
  context: Context,
) => void | Promise<void>;

/**
 * A buffer notification handler: gets the raw payload.
 *
 * @example A notification of raw bytes
 * ```ts
 * import { type BufferNotificationHandler, Handlers, Peer, pipePair } from "@gotalk/gotalk";
 * import assert from "node:assert/strict";
 *
 * const [a, b] = pipePair();
 *
 * const got = Promise.withResolvers<number>();
 * const onBlob: BufferNotificationHandler = (bytes) => got.resolve(bytes.length);
 * const server = new Peer(a, { handlers: new Handlers().handleBufferNotification("blob", onBlob) });
 * const client = new Peer(b);
 * await client.bufferNotify("blob", new Uint8Array(4));
 * assert.equal(await got.promise, 4);
 * client.abort();
 * server.abort();
 * ```
 */
export type BufferNotificationHandler<Context = NotificationContext> = (
  payload: Uint8Array,
  context: Context,
) => void | Promise<void>;
