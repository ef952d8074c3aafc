// This module is browser compatible.
// Running middleware chains (incoming) and interceptor chains (outgoing). Only reached when
// some are installed: the peer calls handlers and sends directly otherwise.

import type { HandlerResult, RequestContext, RequestHandlerEntry } from "./handler_types.ts";
import type {
  Interceptor,
  Middleware,
  MiddlewareContext,
  MiddlewareResult,
  OutgoingCall,
} from "./middleware.ts";
import { encodeValue, type ValueCodec } from "./codec.ts";

/** Bumped by every `add`: each chain's cache is recomputed once after any change. */
let generation = 0;

/** A handler set's middleware: its own, after its parent set's (cached, as one list). */
export class MiddlewareChain {
  readonly #parent: MiddlewareChain | undefined;
  readonly #own: Middleware[] = [];
  #cache: readonly Middleware[] | undefined;
  #cached = -1;

  constructor(parent: MiddlewareChain | undefined) {
    this.#parent = parent;
  }

  add(middleware: Middleware): void {
    this.#own.push(middleware);
    generation++;
  }

  /** The ancestors' middleware then this set's; `undefined` when there is none (one check). */
  chain(): readonly Middleware[] | undefined {
    if (this.#cached === generation) return this.#cache;
    const inherited = this.#parent?.chain();
    this.#cache = this.#own.length === 0 ? inherited : [...(inherited ?? []), ...this.#own];
    this.#cached = generation;
    return this.#cache;
  }
}

/** A call that turns a synchronous throw into a rejection. */
function attempt<T>(fn: () => T | PromiseLike<T>): Promise<T> {
  return new Promise<T>((resolve) => resolve(fn()));
}

function twice(what: string, op: string): Error {
  return new Error(`next() was called twice by ${what} of "${op}"`);
}

/** What a middleware's return value answers with (see `Middleware`), in the peer's codec. */
function resultOf(
  value: unknown,
  ctx: MiddlewareContext,
  codec: ValueCodec | undefined,
): MiddlewareResult {
  if (ctx.kind === "notification") return undefined;
  if (value instanceof Uint8Array || value instanceof ReadableStream) return value;
  return encodeValue(codec, value, "result of", ctx.op);
}

/**
 * Runs `chain` around `handler`, first outermost: each middleware's `next()` runs the next,
 * the last one's runs the handler. Rejects with whatever a middleware or the handler threw.
 */
export function runMiddleware(
  chain: readonly Middleware[],
  ctx: MiddlewareContext,
  handler: () => HandlerResult | Promise<HandlerResult> | void | Promise<void>,
  codec?: ValueCodec,
): Promise<MiddlewareResult> {
  const step = (i: number): Promise<MiddlewareResult> => {
    if (i === chain.length) return attempt(handler) as Promise<MiddlewareResult>;
    let inner: Promise<MiddlewareResult> | undefined;
    const next = (): Promise<MiddlewareResult> => {
      if (inner !== undefined) return Promise.reject(twice("a middleware", ctx.op));
      return inner = step(i + 1);
    };
    return attempt(() => chain[i](ctx, next)).then((value) =>
      value === undefined && inner !== undefined ? inner : resultOf(value, ctx, codec)
    );
  };
  return step(0);
}

/**
 * Runs `interceptors` around `send`, first outermost; `next(call)` passes a changed call on.
 * Resolves with the result payload (`undefined` for notifications and streaming requests).
 */
export function runInterceptors(
  interceptors: readonly Interceptor[],
  call: OutgoingCall,
  send: (call: OutgoingCall) => Promise<Uint8Array | undefined>,
): Promise<Uint8Array | undefined> {
  const step = (i: number, c: OutgoingCall): Promise<Uint8Array | undefined> => {
    if (i === interceptors.length) return attempt(() => send(c));
    let inner: Promise<Uint8Array | undefined> | undefined;
    const next = (changed?: OutgoingCall): Promise<Uint8Array | undefined> => {
      if (inner !== undefined) return Promise.reject(twice("an interceptor", c.op));
      return inner = step(i + 1, changed ?? c);
    };
    return attempt(() => interceptors[i](c, next)).then((value) =>
      value === undefined && inner !== undefined ? inner : value
    );
  };
  return step(0, call);
}

/** What middleware sees of a request (its signal made only if middleware reads it). */
export function middlewareContext(
  ctx: RequestContext,
  kind: RequestHandlerEntry["kind"],
  id: string,
  input: Uint8Array | ReadableStream<Uint8Array>,
): MiddlewareContext {
  return {
    peer: ctx.peer,
    op: ctx.op,
    kind,
    id,
    payload: input instanceof Uint8Array ? input : undefined,
    get signal(): AbortSignal {
      return ctx.signal;
    },
    data: ctx.data,
  };
}
