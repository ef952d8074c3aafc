// This module is browser compatible.

import type {
  BufferHandler,
  BufferNotificationHandler,
  HandlerResult,
  JsonHandler,
  NotificationContext,
  NotificationHandler,
  StreamHandler,
} from "./handler_types.ts";
import type { Middleware } from "./middleware.ts";
import { decodeJson, encodeJson } from "./_payload.ts";

export type {
  BufferHandler,
  BufferNotificationHandler,
  HandlerResult,
  JsonHandler,
  NotificationContext,
  NotificationHandler,
  RequestContext,
  StreamHandler,
} from "./handler_types.ts";

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

// Set by the Handlers class's static block: the peer's lookups, off the public surface.
let findRequest: (h: Handlers, op: string) => RequestHandlerEntry | undefined;
let findNotification: (h: Handlers, name: string) => BufferNotificationHandler | undefined;
let findMiddleware: (h: Handlers) => readonly Middleware[] | undefined;
/** Bumped by every `use()`: each set's cached chain is recomputed once after a change. */
let generation = 0;

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
 * @example A set extending a shared one
 * ```ts
 * import { Handlers, Peer, pipePair } from "@gotalk/gotalk";
 * import assert from "node:assert/strict";
 *
 * const [a, b] = pipePair();
 *
 * const base = new Handlers().handle("upper", (s: string) => s.toUpperCase());
 * const admin = new Handlers(base).handle("stats", () => ({ peers: 1 }));
 * const server = new Peer(a, { handlers: admin });
 * const client = new Peer(b);
 * assert.equal(await client.request("upper", "hi"), "HI"); // from the parent
 * assert.deepEqual(await client.request("stats"), { peers: 1 });
 * client.abort();
 * server.abort();
 * ```
 */
export class Handlers {
  readonly #parent: Handlers | undefined;
  readonly #requests = new Map<string, RequestHandlerEntry>();
  readonly #notifications = new Map<string, BufferNotificationHandler>();
  #requestFallback: RequestHandlerEntry | undefined;
  #notificationFallback: BufferNotificationHandler | undefined;
  readonly #middleware: Middleware[] = [];
  #chain: readonly Middleware[] | undefined;
  #chainGeneration = -1;

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
   * @example A JSON request: a value in, a value out
   * ```ts
   * import { Handlers, Peer, pipePair } from "@gotalk/gotalk";
   * import assert from "node:assert/strict";
   *
   * const [a, b] = pipePair();
   *
   * const handlers = new Handlers().handle("add", ([x, y]: [number, number]) => x + y);
   * const server = new Peer(a, { handlers });
   * const client = new Peer(b);
   * assert.equal(await client.request("add", [2, 3]), 5);
   * client.abort();
   * server.abort();
   * ```
   */
  handle<In = unknown, Out = unknown, Data = unknown>(
    op: string,
    fn: JsonHandler<In, Out, Data>,
  ): this {
    const wrapped = jsonAsBuffer(fn as JsonHandler);
    this.#requests.set(op, { input: "buffer", kind: "json", fn: wrapped });
    return this;
  }

  /**
   * Registers a buffer request handler for `op`.
   *
   * @param op The operation name.
   * @param fn The handler.
   * @returns This set, for chaining.
   *
   * @example Bytes in, bytes out
   * ```ts
   * import { Handlers, Peer, pipePair } from "@gotalk/gotalk";
   * import assert from "node:assert/strict";
   *
   * const [a, b] = pipePair();
   *
   * const handlers = new Handlers().handleBuffer("reverse", (bytes) => bytes.slice().reverse());
   * const server = new Peer(a, { handlers });
   * const client = new Peer(b);
   * assert.deepEqual(await client.bufferRequest("reverse", new Uint8Array([1, 2])), new Uint8Array([2, 1]));
   * client.abort();
   * server.abort();
   * ```
   */
  handleBuffer<Data = unknown>(op: string, fn: BufferHandler<Data>): this {
    this.#requests.set(op, { input: "buffer", kind: "buffer", fn: fn as BufferHandler });
    return this;
  }

  /**
   * Registers a streaming request handler for `op`.
   *
   * @param op The operation name.
   * @param fn The handler.
   * @returns This set, for chaining.
   *
   * @example Counting the parts of a streaming request
   * ```ts
   * import { Handlers, Peer, pipePair } from "@gotalk/gotalk";
   * import assert from "node:assert/strict";
   *
   * const [a, b] = pipePair();
   *
   * const handlers = new Handlers().handleStream("count", async (parts) => {
   *   const all = await Array.fromAsync(parts);
   *   return new TextEncoder().encode(String(all.length));
   * });
   * const server = new Peer(a, { handlers });
   * const client = new Peer(b);
   * const { writable, readable } = client.streamRequest("count");
   * ReadableStream.from([new Uint8Array(1), new Uint8Array(1)]).pipeTo(writable);
   * const [result] = await Array.fromAsync(readable);
   * assert.equal(new TextDecoder().decode(result), "2");
   * client.abort();
   * server.abort();
   * ```
   */
  handleStream<Data = unknown>(op: string, fn: StreamHandler<Data>): this {
    this.#requests.set(op, { input: "stream", kind: "stream", fn: fn as StreamHandler });
    return this;
  }

  /**
   * Registers the fallback for operations no handler is registered for (`context.op` tells which).
   *
   * @param fn A buffer handler.
   * @returns This set, for chaining.
   *
   * @example Answering every op that has no handler of its own
   * ```ts
   * import { Handlers, Peer, pipePair } from "@gotalk/gotalk";
   * import assert from "node:assert/strict";
   *
   * const [a, b] = pipePair();
   *
   * const json = (value: unknown) => new TextEncoder().encode(JSON.stringify(value));
   * const handlers = new Handlers().handleFallback((_bytes, ctx) => json(`no ${ctx.op} here`));
   * const server = new Peer(a, { handlers });
   * const client = new Peer(b);
   * assert.equal(await client.request("anything"), "no anything here");
   * client.abort();
   * server.abort();
   * ```
   */
  handleFallback(fn: BufferHandler): this {
    this.#requestFallback = { input: "buffer", kind: "buffer", fn };
    return this;
  }

  /**
   * Registers a JSON notification handler for `name`.
   *
   * @param name The notification name.
   * @param fn The handler.
   * @returns This set, for chaining.
   *
   * @example Receiving an event
   * ```ts
   * import { Handlers, Peer, pipePair } from "@gotalk/gotalk";
   * import assert from "node:assert/strict";
   *
   * const [a, b] = pipePair();
   *
   * const got = Promise.withResolvers<string>();
   * const handlers = new Handlers().handleNotification("chat", (text: string) => got.resolve(text));
   * const server = new Peer(a, { handlers });
   * const client = new Peer(b);
   * await client.notify("chat", "hello");
   * assert.equal(await got.promise, "hello");
   * client.abort();
   * server.abort();
   * ```
   */
  handleNotification<In = unknown, Data = unknown>(
    name: string,
    fn: NotificationHandler<In, Data>,
  ): this {
    this.#notifications.set(
      name,
      (payload, context) => fn(decodeJson(payload) as In, context as NotificationContext<Data>),
    );
    return this;
  }

  /**
   * Registers a buffer notification handler for `name`.
   *
   * @param name The notification name.
   * @param fn The handler.
   * @returns This set, for chaining.
   *
   * @example Receiving an event of raw bytes
   * ```ts
   * import { Handlers, Peer, pipePair } from "@gotalk/gotalk";
   * import assert from "node:assert/strict";
   *
   * const [a, b] = pipePair();
   *
   * const got = Promise.withResolvers<Uint8Array>();
   * const handlers = new Handlers().handleBufferNotification("blob", got.resolve);
   * const server = new Peer(a, { handlers });
   * const client = new Peer(b);
   * await client.bufferNotify("blob", new Uint8Array([9]));
   * assert.deepEqual(await got.promise, new Uint8Array([9]));
   * client.abort();
   * server.abort();
   * ```
   */
  handleBufferNotification<Data = unknown>(
    name: string,
    fn: BufferNotificationHandler<Data>,
  ): this {
    this.#notifications.set(name, fn as BufferNotificationHandler);
    return this;
  }

  /**
   * Registers the fallback for notifications no handler is registered for (`context.name`
   * tells which).
   *
   * @param fn A buffer notification handler.
   * @returns This set, for chaining.
   *
   * @example Receiving every event that has no handler of its own
   * ```ts
   * import { Handlers, Peer, pipePair } from "@gotalk/gotalk";
   * import assert from "node:assert/strict";
   *
   * const [a, b] = pipePair();
   *
   * const got = Promise.withResolvers<string>();
   * const handlers = new Handlers().handleNotificationFallback((_bytes, ctx) => got.resolve(ctx.name));
   * const server = new Peer(a, { handlers });
   * const client = new Peer(b);
   * await client.notify("anything", null);
   * assert.equal(await got.promise, "anything");
   * client.abort();
   * server.abort();
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

  /**
   * Adds a middleware around every request and notification this set, or a set extending it,
   * dispatches: the ancestors' middleware first (the root's outermost), then this set's in the
   * order added, the handler innermost; later additions apply to later requests. What `next()`
   * and each kind of return or throw do: see {@linkcode Middleware}.
   *
   * @typeParam Data The connection's data (`peer.data`), as this middleware expects it.
   * @param middleware The middleware.
   * @returns This set, for chaining.
   *
   * @example Logging around every request; refusing some
   * ```ts
   * import { Handlers, Peer, pipePair } from "@gotalk/gotalk";
   * import assert from "node:assert/strict";
   *
   * const log: string[] = [];
   * const handlers = new Handlers()
   *   .use(async (ctx, next) => {
   *     log.push(`> ${ctx.op}`);
   *     try {
   *       return await next();
   *     } finally {
   *       log.push(`< ${ctx.op}`);
   *     }
   *   })
   *   .use((ctx, next) => ctx.op.startsWith("admin.") ? Promise.reject(new Error("Forbidden")) : next())
   *   .handle("echo", (v: string) => v)
   *   .handle("admin.wipe", () => "wiped");
   * const [a, b] = pipePair();
   * const server = new Peer(a, { handlers, logger: null });
   * const client = new Peer(b);
   * assert.equal(await client.request("echo", "hi"), "hi");
   * await assert.rejects(client.request("admin.wipe"), /Forbidden/);
   * assert.deepEqual(log, ["> echo", "< echo", "> admin.wipe", "< admin.wipe"]);
   * client.abort();
   * server.abort();
   * ```
   */
  use<Data = unknown>(middleware: Middleware<Data>): this {
    if (typeof middleware !== "function") throw new TypeError("middleware must be a function");
    this.#middleware.push(middleware as Middleware);
    generation++;
    return this;
  }

  static {
    findRequest = (h, op) => h.#find(op);
    findNotification = (h, name) => h.#findNotification(name);
    findMiddleware = (h) => h.#middlewareChain();
  }

  /** The ancestors' middleware then this set's, cached; `undefined` when there is none. */
  #middlewareChain(): readonly Middleware[] | undefined {
    if (this.#chainGeneration === generation) return this.#chain;
    const inherited = this.#parent === undefined ? undefined : this.#parent.#middlewareChain();
    const own = this.#middleware;
    this.#chain = own.length === 0 ? inherited : [...(inherited ?? []), ...own];
    this.#chainGeneration = generation;
    return this.#chain;
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

/** The middleware chain of requests dispatched by `h` (outermost first), if it has any. */
export function middlewareOf(h: Handlers): readonly Middleware[] | undefined {
  return findMiddleware(h);
}

/** The handler a notification `name` runs (exact match first, then the nearest fallback). */
export function findNotificationHandler(
  h: Handlers,
  name: string,
): BufferNotificationHandler | undefined {
  return findNotification(h, name);
}
