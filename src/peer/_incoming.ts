// This module is browser compatible.
// The incoming request table: admission (limits and RetryResult), the parts of streaming
// requests, running handlers, and sending their results; and incoming notifications.

import {
  ProtocolError,
  ProtocolErrorCode,
  type RequestId,
  type RequestMessage,
} from "../protocol/mod.ts";
import { PayloadTooLargeError, RemoteError, StreamOverflowError } from "./errors.ts";
import type { HandlerResult, NotificationContext, RequestHandlerEntry } from "./handler_types.ts";
import {
  findNotificationHandler,
  findRequestHandler,
  type Handlers,
  middlewareOf,
} from "./handlers.ts";
import { RetryResult } from "./middleware.ts";
import type { InboundFlow } from "./_flow.ts";
import { middlewareContext, runMiddleware } from "./_middleware.ts";
import { notifyThrough, refusedEvent } from "./_observed.ts";
import { type EventSink, idText, Probe } from "./_telemetry.ts";
import { concatParts, encodeText, errorText } from "./_payload.ts";
import type { SettlingContext } from "./_request_context.ts";
import { countedWire, type Lifecycle, type Wire } from "./_seams.ts";
import { sendStream } from "./_send_stream.ts";
import { emptyMap, isEmptyMap } from "./_empty.ts";

const EMPTY = new Uint8Array(0);

/** A streaming request from the remote whose parts are still arriving. */
interface IncomingStream {
  controller: ReadableStreamDefaultController<Uint8Array> | null;
  /** Buffer handlers: the parts collected so far. */
  parts: Uint8Array[] | null;
  partsBytes: number;
  /** Set when it failed: later parts are dropped until the end. */
  failed: boolean;
  /** Called with the collected payload when the request ends (buffer handlers). */
  onEnd: ((payload: Uint8Array) => void) | null;
  /** Releases the request's handler slot when it fails before its handler ran. */
  release: (() => void) | null;
}

/** What the incoming table needs of its peer. */
export interface IncomingHost {
  readonly wire: Wire;
  readonly life: Lifecycle;
  readonly flow: InboundFlow;
  readonly handlers: Handlers;
  /** The context handed to a request handler (its signal is the request's own). */
  requestContext(op: string): SettlingContext;
  /** The context handed to a notification handler. */
  notificationContext(name: string): NotificationContext;
  /** An error with no caller to reject (a notification handler threw, a result failed). */
  reportError(error: unknown): void;
  /** A request or notification handler failed (reported, logged). */
  handlerFailed(error: unknown, op: string): void;
  /** Where telemetry events go; `undefined`: none are made. */
  readonly events: EventSink | undefined;
}

/** The admission limits of a peer (see `PeerOptions`). */
export interface IncomingOptions {
  readonly maxPayloadBytes: number;
  readonly maxBufferRequests: number;
  readonly maxStreamRequests: number;
  readonly retryWaitMinMs: number;
  readonly retryWaitMaxMs: number;
  /** Send a failed handler's message in its ErrorResult (or only `internal error`). */
  readonly exposeHandlerErrors: boolean;
}

/** Releases a request's handler slot and its signal. */
type Done = (ctx: SettlingContext) => void;

/** The requests the remote sent that this peer is handling. */
export class IncomingRequests {
  readonly #host: IncomingHost;
  readonly #options: IncomingOptions;
  /** The shared empty map until the first streaming request (an idle peer keeps none). */
  #streams: Map<RequestId, IncomingStream> = emptyMap();
  /** Telemetry of the requests being handled (only with an event listener). */
  readonly #probes: Map<RequestId, Probe> | undefined;
  #activeBuffer = 0;
  #activeStream = 0;
  /** Incoming streaming requests whose parts are still arriving. */
  get streams(): number {
    return this.#streams.size;
  }

  /** Requests being handled (buffer and stream). */
  handling = 0;
  /** Results (single, or a stream's next part) waiting for the write backlog to drain. */
  waitingReplies = 0;
  /** The wire of streaming results, their waits counted (made with the first such result). */
  #replyWire: Wire | undefined;

  constructor(host: IncomingHost, options: IncomingOptions) {
    this.#host = host;
    this.#options = options;
    this.#probes = host.events ? new Map() : undefined;
  }

  get #wire(): Wire {
    return this.#host.wire;
  }
  get #life(): Lifecycle {
    return this.#host.life;
  }
  get #events(): EventSink | undefined {
    return this.#host.events;
  }

  /** Release the slot of a buffer, a streaming request: each made once, with the first such
   * request (no closure per request, none on a peer that never served one). */
  #bufferDone: Done | undefined;
  #streamDone: Done | undefined;

  #release(ctx: SettlingContext, stream: boolean): void {
    ctx.settled();
    if (stream) this.#activeStream--;
    else this.#activeBuffer--;
    this.handling--;
    this.#life.idleChanged();
  }

  /** Adds an incoming stream (its own table made with the first). */
  #addStream(id: RequestId, s: IncomingStream): void {
    if (isEmptyMap(this.#streams)) this.#streams = new Map();
    this.#streams.set(id, s);
  }

  /**
   * A request (`r`) or the first part of a streaming request (`s`): refuse it (closing, over
   * the limit, unknown operation) or run its handler.
   *
   * @throws {ProtocolError} If a streaming request reuses the id of one still open.
   */
  onRequest(m: RequestMessage): void {
    const id = m.id;
    const stream = m.type === "s";
    if (!this.#life.open) {
      if (this.#events) this.#refused(m, "closed");
      this.#wire.send({ type: "E", id, payload: encodeText("The connection is closing") });
      if (stream) this.#addStream(id, dropStream());
      return;
    }
    if (stream && this.#streams.has(id)) {
      // An id reused while its stream is open: the stream is broken beyond repair.
      throw new ProtocolError(`A streaming request reused the open id ${id}`, {
        code: ProtocolErrorCode.InvalidMessage,
      });
    }
    const entry = this.#admit(m, stream);
    if (entry === undefined) {
      if (stream) this.#addStream(id, dropStream());
      return;
    }
    if (stream) this.#activeStream++;
    else this.#activeBuffer++;
    this.handling++;
    let done = stream
      ? this.#streamDone ??= (c) => this.#release(c, true)
      : this.#bufferDone ??= (c) => this.#release(c, false);
    const ctx = this.#host.requestContext(m.name);
    let probe: Probe | undefined;
    if (this.#events) {
      const p = probe = new Probe(this.#events, ctx.peer, "in", m.name, id, entry.kind, 0);
      const release = done;
      this.#probes!.set(id, p);
      done = (c) => {
        release(c);
        if (this.#probes!.get(id) === p) this.#probes!.delete(id);
        p.end();
      };
      p.bytesIn = m.payload.length;
    }
    if (!stream) {
      // The payload may be a view into a transport chunk: it stays valid (chunks are fresh).
      if (entry.input === "buffer") {
        this.#run(id, entry, m.payload, ctx, done);
      } else {
        const payload = m.payload;
        const parts = new ReadableStream<Uint8Array>({
          start(c) {
            if (payload.length > 0) c.enqueue(payload);
            c.close();
          },
        });
        this.#run(id, entry, parts, ctx, done);
      }
      return;
    }
    const incoming: IncomingStream = {
      controller: null,
      parts: null,
      partsBytes: 0,
      failed: false,
      onEnd: null,
      release: null,
    };
    this.#addStream(id, incoming);
    if (entry.input === "stream") {
      let parts = this.#host.flow.readable((c) => incoming.controller = c);
      if (probe) {
        probe.bytesIn = 0;
        parts = probe.count(parts, "bytesIn");
      }
      this.#part(id, incoming, m.payload);
      this.#run(id, entry, parts, ctx, done);
    } else {
      incoming.parts = [];
      incoming.onEnd = (payload) => {
        if (probe) probe.bytesIn = payload.length;
        this.#run(id, entry, payload, ctx, done);
      };
      incoming.release = () => done(ctx);
      this.#part(id, incoming, m.payload);
    }
  }

  /** A later part (`p`) of a streaming request; the empty part ends it. */
  onPart(id: RequestId, payload: Uint8Array): void {
    const s = this.#streams.get(id);
    if (s === undefined) return;
    if (payload.length > 0) {
      this.#part(id, s, payload);
      return;
    }
    this.#streams.delete(id);
    if (s.failed) return;
    if (s.controller) {
      s.controller.close();
    } else if (s.onEnd) {
      s.onEnd(concatParts(s.parts!.length ? s.parts! : [EMPTY], s.partsBytes));
    }
  }

  /** A notification: run its handler, never awaited (a slow one must not block reading). */
  onNotification(name: string, payload: Uint8Array): void {
    const fn = findNotificationHandler(this.#host.handlers, name);
    if (fn === undefined) return;
    const chain = middlewareOf(this.#host.handlers);
    if (chain !== undefined || this.#events !== undefined) {
      const ctx = this.#host.notificationContext(name);
      const signal = this.#host.requestContext(name).signal;
      const failed = (e: unknown) => this.#notificationFailed(e, name);
      notifyThrough(chain, this.#events, fn, ctx, signal, payload, failed);
      return;
    }
    try {
      const r = fn(payload, this.#host.notificationContext(name));
      if (r instanceof Promise) r.catch((e) => this.#notificationFailed(e, name));
    } catch (e) {
      this.#notificationFailed(e, name);
    }
  }

  /** Telemetry of a request answered before any handler ran. */
  #refused(m: RequestMessage, outcome: "closed" | "retry" | "error"): void {
    refusedEvent(this.#events!, this.#host.requestContext(m.name).peer, m, outcome);
  }

  #notificationFailed(e: unknown, name: string): void {
    this.#host.handlerFailed(e, name);
    this.#host.reportError(e);
  }

  /**
   * Errors the streams of requests still arriving with `error` (the connection closed), and
   * releases the slots of those collected for buffer handlers, whose handlers never ran.
   */
  failAll(error: Error): void {
    for (const s of this.#streams.values()) {
      if (s.controller && !s.failed) {
        try {
          s.controller.error(error);
        } catch { /* already closed */ }
      } else if (s.parts && !s.failed) {
        s.failed = true;
        s.parts = null;
        s.release?.();
      }
    }
    this.#streams.clear();
    if (this.#probes) {
      // Handlers still running: their requests end here, unanswered.
      for (const probe of this.#probes.values()) probe.end("closed");
      this.#probes.clear();
    }
  }

  /** The handler for a new request, or `undefined` after answering a refusal (limit, unknown). */
  #admit(m: RequestMessage, stream: boolean): RequestHandlerEntry | undefined {
    const id = m.id;
    const o = this.#options;
    const limit = stream ? o.maxStreamRequests : o.maxBufferRequests;
    const active = stream ? this.#activeStream : this.#activeBuffer;
    if (active >= limit) {
      const wait = o.retryWaitMinMs +
        Math.floor(Math.random() * (o.retryWaitMaxMs - o.retryWaitMinMs + 1));
      if (this.#events) this.#refused(m, "retry");
      this.#wire.send({ type: "e", id, wait, payload: encodeText("request rate limit") });
      return undefined;
    }
    const entry = findRequestHandler(this.#host.handlers, m.name);
    if (entry === undefined) {
      if (this.#events) this.#refused(m, "error");
      const text = `unknown operation ${JSON.stringify(m.name)}`;
      this.#wire.send({ type: "E", id, payload: encodeText(text) });
    }
    return entry;
  }

  /** A non-empty part of an incoming streaming request. */
  #part(id: RequestId, s: IncomingStream, payload: Uint8Array): void {
    if (s.failed || payload.length === 0) return;
    if (s.controller) {
      const c = s.controller;
      const flow = this.#host.flow;
      flow.enqueue(c, payload, () => !s.failed && this.#streams.get(id) === s, () => {
        s.failed = true;
        c.error(new StreamOverflowError(flow.bufferBytes));
      });
      return;
    }
    if (s.parts) {
      const limit = this.#options.maxPayloadBytes;
      if (s.partsBytes + payload.length > limit) {
        s.failed = true;
        s.parts = null;
        const text = `The streaming request exceeds ${limit} bytes`;
        this.#probes?.get(id)?.fail(
          new PayloadTooLargeError(this.#probes.get(id)!.op, s.partsBytes + payload.length, limit),
        );
        this.#wire.send({ type: "E", id, payload: encodeText(text) });
        s.release?.();
        return;
      }
      s.parts.push(payload);
      s.partsBytes += payload.length;
    }
  }

  /** Runs a handler and sends its result (single, streaming, or an ErrorResult). */
  #run(
    id: RequestId,
    entry: RequestHandlerEntry,
    input: Uint8Array | ReadableStream<Uint8Array>,
    ctx: SettlingContext,
    done: Done,
  ): void {
    let result: HandlerResult | Promise<HandlerResult>;
    const fn = entry.fn as (
      input: Uint8Array | ReadableStream<Uint8Array>,
      ctx: SettlingContext,
    ) => HandlerResult | Promise<HandlerResult>;
    const chain = middlewareOf(this.#host.handlers);
    try {
      result = chain === undefined
        ? fn(input, ctx)
        : runMiddleware(chain, middlewareContext(ctx, entry.kind, idText(id), input), () =>
          fn(input, ctx), ctx.codec) as Promise<HandlerResult>;
    } catch (e) {
      this.#sendError(id, e, ctx.op);
      done(ctx);
      return;
    }
    // A result at hand is sent at once: no promise on the path of a synchronous handler.
    if (result instanceof Uint8Array) {
      this.#answer(id, result, ctx, done);
      return;
    }
    if (result instanceof ReadableStream) {
      this.#streamResult(id, result, ctx, done);
      return;
    }
    (result instanceof Promise ? result : Promise.resolve(result)).then(
      (r) => {
        if (r instanceof ReadableStream) {
          this.#streamResult(id, r, ctx, done);
          return;
        }
        this.#answer(id, r, ctx, done);
      },
      (e) => {
        try {
          this.#sendError(id, e, ctx.op);
        } finally {
          done(ctx);
        }
      },
    ).catch((e) => this.#host.reportError(e));
  }

  /**
   * Sends a single result, once the write backlog is below its bound: a remote that does not
   * read its results holds them in their handlers (each keeping its slot), not in the writer.
   */
  #answer(id: RequestId, payload: Uint8Array, ctx: SettlingContext, done: Done): void {
    const wire = this.#wire;
    if (wire.writable || this.#life.closed) {
      try {
        this.#sendResult(id, payload, ctx.op);
      } finally {
        done(ctx);
      }
      return;
    }
    this.waitingReplies++;
    wire.drained().then(() => {
      this.waitingReplies--;
      this.#answer(id, payload, ctx, done);
    });
  }

  #streamResult(
    id: RequestId,
    stream: ReadableStream<Uint8Array>,
    ctx: SettlingContext,
    done: Done,
  ): void {
    const op = ctx.op;
    const probe = this.#probes?.get(id);
    if (probe) stream = probe.count(stream, "bytesOut");
    sendStream(
      this.#replyWire ??= countedWire(this.#wire, this),
      this.#life,
      id,
      op,
      this.#options.maxPayloadBytes,
      stream,
      (e) => this.#sendError(id, e, op),
    ).then(
      () => {
        if (!this.#life.closed) probe?.end("ok");
        done(ctx);
      },
      (e) => {
        done(ctx);
        this.#host.reportError(e);
      },
    );
  }

  #sendResult(id: RequestId, payload: Uint8Array, op: string): void {
    if (this.#life.closed) return;
    if (!(payload instanceof Uint8Array)) {
      this.#sendError(
        id,
        new TypeError(`The handler of "${op}" must return a Uint8Array or a ReadableStream`),
        op,
      );
      return;
    }
    const limit = this.#options.maxPayloadBytes;
    if (payload.length > limit) {
      const e = new PayloadTooLargeError(op, payload.length, limit, { kind: "handler result" });
      this.#sendError(id, e, op);
      return;
    }
    const probe = this.#probes?.get(id);
    if (probe) {
      probe.bytesOut = payload.length;
      probe.outcome ??= "ok";
    }
    this.#wire.send({ type: "R", id, payload });
  }

  /** A handler failed: report it, and answer with an ErrorResult. */
  #sendError(id: RequestId, e: unknown, op: string): void {
    if (this.#life.closed) return;
    this.#probes?.get(id)?.fail(e);
    if (e instanceof RetryResult) {
      // Asked for, not a failure: neither logged nor reported.
      this.#wire.send({ type: "e", id, wait: e.waitMs, payload: encodeText(e.message) });
      return;
    }
    this.#host.handlerFailed(e, op);
    const payload = e instanceof RemoteError
      ? e.payload
      : encodeText(this.#options.exposeHandlerErrors ? errorText(e) : "internal error");
    this.#wire.send({ type: "E", id, payload });
  }
}

/** An incoming stream whose parts are dropped (it was refused). */
function dropStream(): IncomingStream {
  return {
    controller: null,
    parts: null,
    partsBytes: 0,
    failed: true,
    onEnd: null,
    release: null,
  };
}
