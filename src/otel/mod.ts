// This module is browser compatible.

/**
 * OpenTelemetry tracing for Gotalk: a span for every request and notification a peer handles
 * (a middleware, for `Handlers.use`) and sends (an interceptor, for `PeerOptions.interceptors`
 * or `peer.intercept`), with the RPC semantic-convention attributes: `rpc.system` = `gotalk`,
 * `rpc.method` (the op), `rpc.service` (if you name one), plus the payload sizes, the request
 * id and kind, and the outcome. Built on `@opentelemetry/api` alone: bring your own SDK and
 * exporter.
 *
 * An incoming request's span is the active span while its handler runs (given a context
 * manager, as the Node SDK registers), so the handler's own spans and the requests it sends
 * nest under it; an outgoing request's span is a child of the span active when it is sent.
 *
 * A span covers the call until its answer: for a streaming result (incoming) until the handler
 * returned its stream, and for an outgoing streaming request until it was opened.
 *
 * Trace context does not cross the wire: Gotalk frames carry no metadata, so the two ends'
 * spans are separate traces (link them yourself by putting a trace id in your payloads, if
 * you need to).
 *
 * @example Spans for both ends, into the SDK's in-memory exporter
 * ```ts
 * import { Handlers, Peer, pipePair } from "@gotalk/gotalk";
 * import { gotalkTracing } from "@gotalk/gotalk/otel";
 * import {
 *   BasicTracerProvider,
 *   InMemorySpanExporter,
 *   SimpleSpanProcessor,
 * } from "@opentelemetry/sdk-trace-base";
 * import assert from "node:assert/strict";
 *
 * const exporter = new InMemorySpanExporter();
 * const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
 * const tracing = gotalkTracing({ tracer: provider.getTracer("chat"), service: "chat" });
 * const [a, b] = pipePair();
 * const server = new Peer(a, {
 *   handlers: new Handlers().use(tracing.middleware).handle("join", (room: string) => `joined ${room}`),
 * });
 * const client = new Peer(b, { interceptors: [tracing.interceptor] });
 * assert.equal(await client.request("join", "general"), "joined general");
 * const names = exporter.getFinishedSpans().map((s) => s.name).sort();
 * assert.deepEqual(names, ["chat/join", "chat/join"]); // the server's and the client's
 * const [span] = exporter.getFinishedSpans();
 * assert.equal(span.attributes["rpc.system"], "gotalk");
 * assert.equal(span.attributes["rpc.method"], "join");
 * client.abort();
 * server.abort();
 * ```
 *
 * @module
 */

import { context, type Span, SpanKind, SpanStatusCode, trace } from "@opentelemetry/api";
import type {
  Interceptor,
  Middleware,
  MiddlewareContext,
  OutgoingCall,
  RequestKind,
} from "../peer/middleware.ts";
import { RetryResult } from "../peer/middleware.ts";
import { ConnectionClosedError, RetryLimitError } from "../peer/errors.ts";

/**
 * The part of an `@opentelemetry/api` `Tracer` this module uses: any tracer fits
 * (`trace.getTracer(name)`, or an SDK provider's `getTracer`).
 *
 * @example Usage
 * ```ts
 * import type { GotalkTracer } from "@gotalk/gotalk/otel";
 * import { trace } from "@opentelemetry/api";
 * import assert from "node:assert/strict";
 *
 * const tracer: GotalkTracer = trace.getTracer("app");
 * assert.equal(typeof tracer.startSpan, "function");
 * ```
 */
export interface GotalkTracer {
  /** Starts a span (it must return an OpenTelemetry `Span`). */
  startSpan(name: string, options?: { kind?: number; attributes?: SpanAttributes }): unknown;
}

/**
 * Span attributes to add: names to strings, numbers or booleans.
 *
 * @example Usage
 * ```ts
 * import type { SpanAttributes } from "@gotalk/gotalk/otel";
 * import assert from "node:assert/strict";
 *
 * const attributes: SpanAttributes = { "app.user": "ada" };
 * assert.equal(attributes["app.user"], "ada");
 * ```
 */
export type SpanAttributes = Record<string, string | number | boolean>;

/**
 * Options for {@linkcode gotalkTracing}.
 *
 * @example A named service on the global tracer provider
 * ```ts
 * import { gotalkTracing, type GotalkTracingOptions } from "@gotalk/gotalk/otel";
 * import assert from "node:assert/strict";
 *
 * const options: GotalkTracingOptions = { service: "chat" };
 * const tracing = gotalkTracing(options);
 * assert.equal(typeof tracing.middleware, "function");
 * ```
 */
export interface GotalkTracingOptions {
  /**
   * The tracer to make spans with.
   *
   * @default {trace.getTracer("gotalk")}
   */
  tracer?: GotalkTracer;
  /**
   * The `rpc.service` attribute, and the span names' prefix (`service/op`). Gotalk has no
   * services, only op names; name one to group an application's ops.
   *
   * @default {undefined}
   */
  service?: string;
  /**
   * More attributes for a span, from what the middleware or interceptor sees (for example a
   * user id from `ctx.data`).
   *
   * @default {undefined}
   */
  attributes?: (call: MiddlewareContext | OutgoingCall) => SpanAttributes;
}

/**
 * What {@linkcode gotalkTracing} returns: the two halves, for the two directions.
 *
 * @example Installing both on a server's handlers and a client
 * ```ts
 * import { Handlers, Peer, pipePair } from "@gotalk/gotalk";
 * import { gotalkTracing, type GotalkTracing } from "@gotalk/gotalk/otel";
 * import assert from "node:assert/strict";
 *
 * const tracing: GotalkTracing = gotalkTracing();
 * const [a, b] = pipePair();
 * const server = new Peer(a, { handlers: new Handlers().use(tracing.middleware).handle("ok", () => 1) });
 * const client = new Peer(b).intercept(tracing.interceptor);
 * assert.equal(await client.request("ok"), 1); // with no SDK registered, spans are no-ops
 * client.abort();
 * server.abort();
 * ```
 */
export interface GotalkTracing {
  /** A span (kind SERVER; CONSUMER for notifications) around every incoming call. */
  readonly middleware: Middleware;
  /** A span (kind CLIENT; PRODUCER for notifications) around every outgoing call. */
  readonly interceptor: Interceptor;
}

/** The outcome attribute of a failure, as the peer's telemetry names it. */
function outcomeOf(error: unknown): string {
  if (error instanceof RetryResult || error instanceof RetryLimitError) return "retry";
  if (error instanceof ConnectionClosedError) return "closed";
  if (error instanceof DOMException && error.name === "TimeoutError") return "timeout";
  return "error";
}

function failed(span: Span, error: unknown): void {
  const outcome = outcomeOf(error);
  span.setAttribute("gotalk.outcome", outcome);
  if (error instanceof Error) {
    span.recordException(error);
    span.setAttribute("error.type", error.name);
  }
  span.setStatus({
    code: SpanStatusCode.ERROR,
    message: error instanceof Error ? error.message : String(error),
  });
}

function kindOf(direction: "in" | "out", kind: RequestKind): SpanKind {
  if (kind === "notification") return direction === "in" ? SpanKind.CONSUMER : SpanKind.PRODUCER;
  return direction === "in" ? SpanKind.SERVER : SpanKind.CLIENT;
}

/**
 * Makes the tracing middleware and interceptor. Each span is named `service/op` (or `op`), and
 * has `rpc.system`, `rpc.method`, `rpc.service`, `gotalk.kind`, `gotalk.request.id` (incoming),
 * `gotalk.request.size` and `gotalk.response.size` (bytes, when known: streams are not
 * counted), and `gotalk.outcome` (`ok`, `error`, `retry`, `timeout`, `closed`); a failure sets
 * the span's status to ERROR, records the exception and `error.type`.
 *
 * @param options The tracer, a service name, more attributes.
 * @returns The middleware and the interceptor.
 *
 * @example An error is an ERROR span with the message
 * ```ts
 * import { Handlers, Peer, pipePair } from "@gotalk/gotalk";
 * import { gotalkTracing } from "@gotalk/gotalk/otel";
 * import { SpanStatusCode } from "@opentelemetry/api";
 * import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from "@opentelemetry/sdk-trace-base";
 * import assert from "node:assert/strict";
 *
 * const exporter = new InMemorySpanExporter();
 * const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
 * const { middleware } = gotalkTracing({ tracer: provider.getTracer("t") });
 * const handlers = new Handlers().use(middleware).handle("fail", () => { throw new Error("Nope"); });
 * const [a, b] = pipePair();
 * const server = new Peer(a, { handlers, logger: null });
 * const client = new Peer(b);
 * await assert.rejects(client.request("fail"));
 * const [span] = exporter.getFinishedSpans();
 * assert.equal(span.status.code, SpanStatusCode.ERROR);
 * assert.equal(span.status.message, "Nope");
 * client.abort();
 * server.abort();
 * ```
 */
export function gotalkTracing(options: GotalkTracingOptions = {}): GotalkTracing {
  const tracer = options.tracer ?? trace.getTracer("gotalk");
  const service = options.service;
  const extra = options.attributes;
  const start = (
    direction: "in" | "out",
    op: string,
    kind: RequestKind,
    call: MiddlewareContext | OutgoingCall,
    size: number | undefined,
  ): Span => {
    const attributes: SpanAttributes = {
      "rpc.system": "gotalk",
      "rpc.method": op,
      "gotalk.kind": kind,
    };
    if (service !== undefined) attributes["rpc.service"] = service;
    if (size !== undefined) attributes["gotalk.request.size"] = size;
    if (extra) Object.assign(attributes, extra(call));
    const name = service === undefined ? op : `${service}/${op}`;
    return tracer.startSpan(name, { kind: kindOf(direction, kind), attributes }) as Span;
  };
  const settle = <T>(span: Span, run: Promise<T>): Promise<T> =>
    run.then((result) => {
      if (result instanceof Uint8Array) span.setAttribute("gotalk.response.size", result.length);
      span.setAttribute("gotalk.outcome", "ok");
      span.end();
      return result;
    }, (error) => {
      failed(span, error);
      span.end();
      throw error;
    });

  const middleware: Middleware = (ctx, next) => {
    const span = start("in", ctx.op, ctx.kind, ctx, ctx.payload?.length);
    if (ctx.id !== undefined) span.setAttribute("gotalk.request.id", ctx.id);
    const active = trace.setSpan(context.active(), span);
    return settle(span, context.with(active, next));
  };
  const interceptor: Interceptor = (call, next) => {
    const size = call.kind === "stream" ? undefined : call.payload.length;
    const span = start("out", call.op, call.kind, call, size);
    const active = trace.setSpan(context.active(), span);
    return settle(span, context.with(active, () => next()));
  };
  return { middleware, interceptor };
}
