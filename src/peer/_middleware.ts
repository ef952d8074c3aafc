// This module is browser compatible.
// Running middleware chains (incoming) and interceptor chains (outgoing). Only reached when
// some are installed: the peer calls handlers and sends directly otherwise.

import type { HandlerResult } from "./handler_types.ts";
import type {
  Interceptor,
  Middleware,
  MiddlewareContext,
  MiddlewareResult,
  OutgoingCall,
} from "./middleware.ts";
import { encodeJson } from "./_payload.ts";

/** A call that turns a synchronous throw into a rejection. */
function attempt<T>(fn: () => T | PromiseLike<T>): Promise<T> {
  return new Promise<T>((resolve) => resolve(fn()));
}

function twice(what: string, op: string): Error {
  return new Error(`next() was called twice by ${what} of "${op}"`);
}

/** What a middleware's return value answers with (see `Handlers.use`). */
function resultOf(value: unknown, ctx: MiddlewareContext): MiddlewareResult {
  if (ctx.kind === "notification") return undefined;
  if (value instanceof Uint8Array || value instanceof ReadableStream) return value;
  return encodeJson(value, "result of", ctx.op);
}

/**
 * Runs `chain` around `handler`, first outermost: each middleware's `next()` runs the next,
 * the last one's runs the handler. Rejects with whatever a middleware or the handler threw.
 */
export function runMiddleware(
  chain: readonly Middleware[],
  ctx: MiddlewareContext,
  handler: () => HandlerResult | Promise<HandlerResult> | void | Promise<void>,
): Promise<MiddlewareResult> {
  const step = (i: number): Promise<MiddlewareResult> => {
    if (i === chain.length) return attempt(handler) as Promise<MiddlewareResult>;
    let inner: Promise<MiddlewareResult> | undefined;
    const next = (): Promise<MiddlewareResult> => {
      if (inner !== undefined) return Promise.reject(twice("a middleware", ctx.op));
      return inner = step(i + 1);
    };
    return attempt(() => chain[i](ctx, next)).then((value) =>
      value === undefined && inner !== undefined ? inner : resultOf(value, ctx)
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
