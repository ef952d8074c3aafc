// This module is browser compatible.

import {
  type BytesNotification,
  type BytesOp,
  type Contract,
  type HandlerInput,
  type HandlerOutput,
  inputSchema,
  type NotificationInput,
  type NotificationName,
  notificationSchema,
  type OpName,
  type UntypedNotification,
  type UntypedOp,
} from "./contract.ts";
import type {
  BufferHandler,
  BufferNotificationHandler,
  JsonHandler,
  NotificationContext,
  NotificationHandler,
  RequestContext,
  RequestHandlerEntry,
  StreamHandler,
} from "./handler_types.ts";
import type { Middleware } from "./middleware.ts";
import { jsonAsBuffer, jsonNotification } from "./_json_handlers.ts";
import { HandlerTable } from "./_handler_table.ts";

// Set by the Handlers class's static block: the peer's lookups, off the public surface.
let findRequest: (h: Handlers, op: string) => RequestHandlerEntry | undefined;
let findNotification: (h: Handlers, name: string) => BufferNotificationHandler | undefined;
let findMiddleware: (h: Handlers) => readonly Middleware[] | undefined;

/**
 * Options for {@linkcode Handlers}: a parent set and a contract value.
 *
 * @typeParam Local The contract the set serves.
 *
 * @example A child set that inherits its parent's handlers
 * ```ts
 * import { Handlers, type HandlersOptions } from "@gotalk/gotalk";
 * import assert from "node:assert/strict";
 *
 * const parent = new Handlers().handle("ping", () => "pong");
 * const options: HandlersOptions<{ ops: { ping: { output: string } } }> = { parent };
 * assert.equal(new Handlers(options).handles("ping"), true);
 * ```
 */
export interface HandlersOptions<Local extends Contract = Contract> {
  /**
   * A set to fall back to for names this one does not have.
   *
   * @default {undefined}
   */
  readonly parent?: Handlers<Contract, Contract>;
  /**
   * The contract, as a value (see {@linkcode defineContract}): its Standard Schemas validate
   * each request's and notification's value before its handler runs; a failure answers a
   * `ValidationError` (a notification's is reported to `onError`). It also types the set.
   *
   * @default {the parent's}
   */
  readonly contract?: Local;
}

/**
 * The signatures of {@linkcode Handlers} typed by its contract, merged into the class (which
 * holds the untyped ones, which a contract turns off).
 */
export interface Handlers<Local extends Contract = Contract, Remote extends Contract = Contract> {
  /**
   * Registers the handler of an op of this set's contract, typed by it; with a contract value,
   * the request's value is validated first.
   *
   * @param op The operation name.
   * @param fn The handler.
   * @returns This set, for chaining.
   */
  handle<K extends OpName<Local>>(
    op: K,
    fn: JsonHandler<HandlerInput<Local, K>, HandlerOutput<Local, K>, RequestContext<Local, Remote>>,
  ): this;
  /**
   * Registers the handler of a notification of this set's contract, typed by it.
   *
   * @param name The notification name.
   * @param fn The handler.
   * @returns This set, for chaining.
   */
  handleNotification<K extends NotificationName<Local>>(
    name: K,
    fn: NotificationHandler<NotificationInput<Local, K>, NotificationContext<Local, Remote>>,
  ): this;
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
 *
 * @example A set typed by a contract, validating with its schemas
 * ```ts
 * import { defineContract, Handlers, Peer, pipePair, type StandardSchemaV1, ValidationError } from "@gotalk/gotalk";
 * import assert from "node:assert/strict";
 *
 * const count: StandardSchemaV1<number> = {
 *   "~standard": {
 *     version: 1,
 *     vendor: "example",
 *     validate: (v) => Number.isInteger(v) ? { value: v as number } : { issues: [{ message: "Not an integer" }] },
 *   },
 * };
 * const contract = defineContract({ ops: { double: { input: count, output: count } } });
 * const handlers = new Handlers({ contract }).handle("double", (n) => n * 2); // n: number
 * const [a, b] = pipePair();
 * const server = new Peer(a, { handlers, logger: null });
 * const client = new Peer<typeof contract, typeof contract>(b);
 * assert.equal(await client.request("double", 21), 42);
 * await assert.rejects(client.request("double", 1.5), ValidationError);
 * client.abort();
 * server.abort();
 * ```
 *
 * @typeParam Local The {@linkcode Contract} this set serves: with one, `handle` and
 * `handleNotification` take only its names and are typed by it (untyped by default).
 * @typeParam Remote The other side's contract: it types calls back through `context.peer`.
 */
export class Handlers<Local extends Contract = Contract, Remote extends Contract = Contract> {
  readonly #contract: Contract | undefined;
  readonly #table: HandlerTable;

  /**
   * Creates a handler set.
   *
   * @param parent A set to fall back to for names this one does not have, or the options: a
   * parent and a contract value, whose schemas validate the values of requests and
   * notifications before their handlers run (a child set without one uses its parent's).
   */
  constructor(parent?: Handlers<Contract, Contract> | HandlersOptions<Local>) {
    const options = parent instanceof Handlers ? { parent } : parent;
    const up = options?.parent as Handlers | undefined;
    this.#contract = options?.contract ?? (up && up.#contract);
    this.#table = new HandlerTable(up && up.#table);
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
  handle<In = unknown, Out = unknown>(
    op: UntypedOp<Local>,
    fn: JsonHandler<In, Out, RequestContext<Local, Remote>>,
  ): this {
    const schema = inputSchema(this.#contract, op);
    this.#table.requests.set(op, {
      input: "buffer",
      kind: "json",
      fn: jsonAsBuffer(fn as JsonHandler, schema),
    });
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
  handleBuffer(
    op: BytesOp<Local, "buffer">,
    fn: BufferHandler<RequestContext<Local, Remote>>,
  ): this {
    this.#table.requests.set(op, { input: "buffer", kind: "buffer", fn: fn as BufferHandler });
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
  handleStream(
    op: BytesOp<Local, "stream">,
    fn: StreamHandler<RequestContext<Local, Remote>>,
  ): this {
    this.#table.requests.set(op, { input: "stream", kind: "stream", fn: fn as StreamHandler });
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
    this.#table.requestFallback = { input: "buffer", kind: "buffer", fn };
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
  handleNotification<In = unknown>(
    name: UntypedNotification<Local>,
    fn: NotificationHandler<In, NotificationContext<Local, Remote>>,
  ): this {
    const schema = notificationSchema(this.#contract, name);
    this.#table.notifications.set(name, jsonNotification(fn as NotificationHandler, schema));
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
  handleBufferNotification(
    name: BytesNotification<Local>,
    fn: BufferNotificationHandler<NotificationContext<Local, Remote>>,
  ): this {
    this.#table.notifications.set(name, fn as BufferNotificationHandler);
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
    this.#table.notificationFallback = fn;
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
    return this.#table.find(op) !== undefined;
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
    return this.#table.findNotification(name) !== undefined;
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
   * @example Refusing some ops
   * ```ts
   * import { Handlers, Peer, pipePair } from "@gotalk/gotalk";
   * import assert from "node:assert/strict";
   *
   * const handlers = new Handlers()
   *   .use((ctx, next) => ctx.op.startsWith("admin.") ? Promise.reject(new Error("No")) : next())
   *   .handle("echo", (v: string) => v).handle("admin.wipe", () => "wiped");
   * const [a, b] = pipePair();
   * const server = new Peer(a, { handlers, logger: null });
   * const client = new Peer(b);
   * assert.equal(await client.request("echo", "hi"), "hi");
   * await assert.rejects(client.request("admin.wipe"), /No/);
   * client.abort();
   * server.abort();
   * ```
   */
  use<Data = unknown>(middleware: Middleware<Data>): this {
    if (typeof middleware !== "function") throw new TypeError("middleware must be a function");
    this.#table.middleware.add(middleware as Middleware);
    return this;
  }

  static {
    findRequest = (h, op) => h.#table.find(op);
    findNotification = (h, name) => h.#table.findNotification(name);
    findMiddleware = (h) => h.#table.middleware.chain();
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
