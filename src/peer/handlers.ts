// This module is browser compatible.

import type { Session } from "./session.ts";
import { decodeJson, encodeJson } from "./_payload.ts";

/**
 * What a request handler gets besides its input.
 *
 * @example Usage
 * ```ts
 * import { Handlers, type RequestContext } from "@gotalk/gotalk";
 * import assert from "node:assert/strict";
 *
 * const handlers = new Handlers().handle("whoami", (_v: unknown, ctx: RequestContext) => ctx.op);
 * assert.equal(handlers.handles("whoami"), true);
 * ```
 */
export interface RequestContext {
  /** The peer the request came from: handlers can send requests and notifications back. */
  readonly peer: Session;
  /** The requested operation. */
  readonly op: string;
  /** Aborted when the connection closes, so long-running handlers can stop early. */
  readonly signal: AbortSignal;
}

/**
 * What a notification handler gets besides its input.
 *
 * @example Usage
 * ```ts
 * import { Handlers, type NotificationContext } from "@gotalk/gotalk";
 * import assert from "node:assert/strict";
 *
 * const seen: string[] = [];
 * new Handlers().handleNotification("hi", (_v, ctx: NotificationContext) => void seen.push(ctx.name));
 * assert.deepEqual(seen, []);
 * ```
 */
export interface NotificationContext {
  /** The peer the notification came from. */
  readonly peer: Session;
  /** The notification name. */
  readonly name: string;
}

/**
 * What a request handler may answer with: bytes (a single result), or a stream of parts (a
 * streaming result, whatever the kind of request).
 *
 * @example Usage
 * ```ts
 * import type { HandlerResult } from "@gotalk/gotalk";
 * import assert from "node:assert/strict";
 *
 * const r: HandlerResult = new Uint8Array([1]);
 * assert.equal(r instanceof Uint8Array, true);
 * ```
 */
export type HandlerResult = Uint8Array | ReadableStream<Uint8Array>;

/**
 * A JSON request handler: gets the parsed request value, returns a value to send back as JSON
 * (or a `ReadableStream` of raw parts for a streaming result). A thrown error becomes an
 * ErrorResult carrying its message.
 *
 * @example Usage
 * ```ts
 * import type { JsonHandler } from "@gotalk/gotalk";
 * import assert from "node:assert/strict";
 *
 * const upper: JsonHandler<string, string> = (s) => s.toUpperCase();
 * assert.equal(upper("a", undefined as never), "A");
 * ```
 */
// deno-lint-ignore no-explicit-any
export type JsonHandler<In = any, Out = unknown> = (
  value: In,
  context: RequestContext,
) => Out | Promise<Out>;

/**
 * A buffer request handler: gets the raw request payload, answers with bytes or a stream of
 * parts. A thrown error becomes an ErrorResult carrying its message.
 *
 * @example Usage
 * ```ts
 * import type { BufferHandler } from "@gotalk/gotalk";
 * import assert from "node:assert/strict";
 *
 * const echo: BufferHandler = (payload) => payload;
 * assert.deepEqual(echo(new Uint8Array([7]), undefined as never), new Uint8Array([7]));
 * ```
 */
export type BufferHandler = (
  payload: Uint8Array,
  context: RequestContext,
) => HandlerResult | Promise<HandlerResult>;

/**
 * A streaming request handler: gets the request parts as a `ReadableStream` (a single-payload
 * request arrives as a stream of one part), answers with bytes or a stream of parts.
 *
 * @example Usage
 * ```ts
 * import type { StreamHandler } from "@gotalk/gotalk";
 * import assert from "node:assert/strict";
 *
 * const passThrough: StreamHandler = (parts) => parts;
 * assert.equal(typeof passThrough, "function");
 * ```
 */
export type StreamHandler = (
  parts: ReadableStream<Uint8Array>,
  context: RequestContext,
) => HandlerResult | Promise<HandlerResult>;

/**
 * A JSON notification handler: gets the parsed value.
 *
 * @example Usage
 * ```ts
 * import type { NotificationHandler } from "@gotalk/gotalk";
 * import assert from "node:assert/strict";
 *
 * const log: string[] = [];
 * const h: NotificationHandler<string> = (v) => void log.push(v);
 * h("x", undefined as never);
 * assert.deepEqual(log, ["x"]);
 * ```
 */
// deno-lint-ignore no-explicit-any
export type NotificationHandler<In = any> = (
  value: In,
  context: NotificationContext,
) => void | Promise<void>;

/**
 * A buffer notification handler: gets the raw payload.
 *
 * @example Usage
 * ```ts
 * import type { BufferNotificationHandler } from "@gotalk/gotalk";
 * import assert from "node:assert/strict";
 *
 * let n = 0;
 * const h: BufferNotificationHandler = (p) => void (n += p.length);
 * h(new Uint8Array(3), undefined as never);
 * assert.equal(n, 3);
 * ```
 */
export type BufferNotificationHandler = (
  payload: Uint8Array,
  context: NotificationContext,
) => void | Promise<void>;

/** A registered request handler and how it takes its input (internal to the peer). */
export interface RequestHandlerEntry {
  /**
   * `buffer` (the whole payload; streaming requests are collected first, up to the payload
   * limit) or `stream` (parts as they arrive).
   */
  readonly input: "buffer" | "stream";
  /** The handler, in its raw form (JSON handlers are wrapped as buffer handlers). */
  readonly fn: BufferHandler | StreamHandler;
}

// Set by the Handlers class's static block: the peer's lookups, off the public surface.
let findRequest: (h: Handlers, op: string) => RequestHandlerEntry | undefined;
let findNotification: (h: Handlers, name: string) => BufferNotificationHandler | undefined;

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return typeof value === "object" && value !== null &&
    typeof (value as { then?: unknown }).then === "function";
}

function jsonAsBuffer(fn: JsonHandler): BufferHandler {
  // A handler that returns a value is answered at once, without a promise; one that returns a
  // promise is answered when it settles. (A synchronous throw is handled by the peer.)
  const encode = (result: unknown, op: string): HandlerResult =>
    result instanceof ReadableStream ? result : encodeJson(result, "result of", op);
  return (payload, context) => {
    const result = fn(decodeJson(payload), context);
    return isThenable(result)
      ? Promise.resolve(result).then((r) => encode(r, context.op))
      : encode(result, context.op);
  };
}

/**
 * A set of request and notification handlers, shared by any number of peers. A set may extend
 * a parent: lookups try this set, then its ancestors, for an exact name first; only then the
 * nearest fallback (this set's own fallback first, unlike Go's, whose child fallback is never
 * reached).
 *
 * @example Registering handlers
 * ```ts
 * import { Handlers } from "@gotalk/gotalk";
 * import assert from "node:assert/strict";
 *
 * const base = new Handlers().handle("upper", (s: string) => s.toUpperCase());
 * const child = new Handlers(base).handleFallback((payload) => payload);
 * assert.equal(child.handles("upper"), true);
 * assert.equal(child.handles("anything"), true);
 * ```
 */
export class Handlers {
  readonly #parent: Handlers | undefined;
  readonly #requests = new Map<string, RequestHandlerEntry>();
  readonly #notifications = new Map<string, BufferNotificationHandler>();
  #requestFallback: RequestHandlerEntry | undefined;
  #notificationFallback: BufferNotificationHandler | undefined;

  /**
   * Creates a handler set.
   *
   * @param parent A set to fall back to for names this one does not have.
   */
  constructor(parent?: Handlers) {
    this.#parent = parent;
  }

  /**
   * Registers a JSON request handler for `op`.
   *
   * @param op The operation name.
   * @param fn The handler.
   * @returns This set, for chaining.
   *
   * @example Usage
   * ```ts
   * import { Handlers } from "@gotalk/gotalk";
   * import assert from "node:assert/strict";
   *
   * const h = new Handlers().handle("add", ([a, b]: [number, number]) => a + b);
   * assert.equal(h.handles("add"), true);
   * ```
   */
  handle<In = unknown, Out = unknown>(op: string, fn: JsonHandler<In, Out>): this {
    this.#requests.set(op, { input: "buffer", fn: jsonAsBuffer(fn as JsonHandler) });
    return this;
  }

  /**
   * Registers a buffer request handler for `op`.
   *
   * @param op The operation name.
   * @param fn The handler.
   * @returns This set, for chaining.
   *
   * @example Usage
   * ```ts
   * import { Handlers } from "@gotalk/gotalk";
   * import assert from "node:assert/strict";
   *
   * const h = new Handlers().handleBuffer("echo", (payload) => payload);
   * assert.equal(h.handles("echo"), true);
   * ```
   */
  handleBuffer(op: string, fn: BufferHandler): this {
    this.#requests.set(op, { input: "buffer", fn });
    return this;
  }

  /**
   * Registers a streaming request handler for `op`.
   *
   * @param op The operation name.
   * @param fn The handler.
   * @returns This set, for chaining.
   *
   * @example Usage
   * ```ts
   * import { Handlers } from "@gotalk/gotalk";
   * import assert from "node:assert/strict";
   *
   * const h = new Handlers().handleStream("stream-echo", (parts) => parts);
   * assert.equal(h.handles("stream-echo"), true);
   * ```
   */
  handleStream(op: string, fn: StreamHandler): this {
    this.#requests.set(op, { input: "stream", fn });
    return this;
  }

  /**
   * Registers the fallback for operations no handler is registered for (`context.op` tells which).
   *
   * @param fn A buffer handler.
   * @returns This set, for chaining.
   *
   * @example Usage
   * ```ts
   * import { Handlers } from "@gotalk/gotalk";
   * import assert from "node:assert/strict";
   *
   * const h = new Handlers().handleFallback((_p, ctx) => new TextEncoder().encode(ctx.op));
   * assert.equal(h.handles("whatever"), true);
   * ```
   */
  handleFallback(fn: BufferHandler): this {
    this.#requestFallback = { input: "buffer", fn };
    return this;
  }

  /**
   * Registers a JSON notification handler for `name`.
   *
   * @param name The notification name.
   * @param fn The handler.
   * @returns This set, for chaining.
   *
   * @example Usage
   * ```ts
   * import { Handlers } from "@gotalk/gotalk";
   * import assert from "node:assert/strict";
   *
   * const h = new Handlers().handleNotification("chat", (msg: string) => void msg);
   * assert.ok(h.handlesNotification("chat"));
   * ```
   */
  handleNotification<In = unknown>(name: string, fn: NotificationHandler<In>): this {
    this.#notifications.set(name, (payload, context) => fn(decodeJson(payload) as In, context));
    return this;
  }

  /**
   * Registers a buffer notification handler for `name`.
   *
   * @param name The notification name.
   * @param fn The handler.
   * @returns This set, for chaining.
   *
   * @example Usage
   * ```ts
   * import { Handlers } from "@gotalk/gotalk";
   * import assert from "node:assert/strict";
   *
   * const h = new Handlers().handleBufferNotification("blob", (p) => void p);
   * assert.ok(h.handlesNotification("blob"));
   * ```
   */
  handleBufferNotification(name: string, fn: BufferNotificationHandler): this {
    this.#notifications.set(name, fn);
    return this;
  }

  /**
   * Registers the fallback for notifications no handler is registered for (`context.name`
   * tells which).
   *
   * @param fn A buffer notification handler.
   * @returns This set, for chaining.
   *
   * @example Usage
   * ```ts
   * import { Handlers } from "@gotalk/gotalk";
   * import assert from "node:assert/strict";
   *
   * const h = new Handlers().handleNotificationFallback((_p, ctx) => void ctx.name);
   * assert.ok(h.handlesNotification("anything"));
   * ```
   */
  handleNotificationFallback(fn: BufferNotificationHandler): this {
    this.#notificationFallback = fn;
    return this;
  }

  /**
   * Whether a request for `op` finds a handler: one registered for it in this set or an
   * ancestor, or a fallback.
   *
   * @param op The operation.
   * @returns `true` if a request for `op` would be handled.
   *
   * @example Usage
   * ```ts
   * import { Handlers } from "@gotalk/gotalk";
   * import assert from "node:assert/strict";
   *
   * const h = new Handlers().handle("greet", (name: string) => `Hello, ${name}`);
   * assert.equal(h.handles("greet"), true);
   * assert.equal(h.handles("nope"), false);
   * ```
   */
  handles(op: string): boolean {
    return this.#find(op) !== undefined;
  }

  /**
   * Whether a notification `name` finds a handler (registered, inherited, or a fallback).
   *
   * @param name The notification name.
   * @returns `true` if a notification `name` would be handled.
   *
   * @example Usage
   * ```ts
   * import { Handlers } from "@gotalk/gotalk";
   * import assert from "node:assert/strict";
   *
   * const h = new Handlers().handleNotification("chat", (msg: string) => void msg);
   * assert.equal(h.handlesNotification("chat"), true);
   * assert.equal(h.handlesNotification("nope"), false);
   * ```
   */
  handlesNotification(name: string): boolean {
    return this.#findNotification(name) !== undefined;
  }

  static {
    findRequest = (h, op) => h.#find(op);
    findNotification = (h, name) => h.#findNotification(name);
  }

  /** An exact match in this set or an ancestor, else the nearest fallback. */
  #find(op: string): RequestHandlerEntry | undefined {
    // No callbacks: this runs for every request.
    return this.#request(op) ?? this.#fallbackRequest();
  }

  #request(op: string): RequestHandlerEntry | undefined {
    const entry = this.#requests.get(op);
    return entry !== undefined || this.#parent === undefined ? entry : this.#parent.#request(op);
  }

  #fallbackRequest(): RequestHandlerEntry | undefined {
    const entry = this.#requestFallback;
    return entry !== undefined || this.#parent === undefined
      ? entry
      : this.#parent.#fallbackRequest();
  }

  #findNotification(name: string): BufferNotificationHandler | undefined {
    return this.#notification(name) ?? this.#fallbackNotification();
  }

  #notification(name: string): BufferNotificationHandler | undefined {
    const fn = this.#notifications.get(name);
    return fn !== undefined || this.#parent === undefined ? fn : this.#parent.#notification(name);
  }

  #fallbackNotification(): BufferNotificationHandler | undefined {
    const fn = this.#notificationFallback;
    return fn !== undefined || this.#parent === undefined
      ? fn
      : this.#parent.#fallbackNotification();
  }
}

/** The handler a request for `op` runs: an exact match in `h` or an ancestor, else a fallback. */
export function findRequestHandler(h: Handlers, op: string): RequestHandlerEntry | undefined {
  return findRequest(h, op);
}

/** The handler a notification `name` runs (exact match first, then the nearest fallback). */
export function findNotificationHandler(
  h: Handlers,
  name: string,
): BufferNotificationHandler | undefined {
  return findNotification(h, name);
}
