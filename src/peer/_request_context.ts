// This module is browser compatible.
// The context of one incoming request, with a signal of its own: made only when a handler reads
// `ctx.signal`, aborted when the connection closes, released when the request settles. A
// listener a handler adds to it goes away with the request (no listener per request is left
// on anything the connection keeps), and adding one costs the same however many are pending.

import type { ValueCodec } from "./codec.ts";
import type { RequestContext } from "./handler_types.ts";
import type { Session } from "./session.ts";

/** A request's context as the incoming table holds it: told when its request settles. */
export interface SettlingContext extends RequestContext {
  /** The request settled (its result was queued, or it failed). */
  settled(): void;
}

/** The incoming requests whose handlers took their signal: aborted together on close. */
export class RequestSignals {
  /** The contexts with a controller, each until its request settles (made with the first). */
  #live: Set<IncomingContext> | undefined;
  /** Set once the connection closed: signals made from then on start aborted. */
  #reason: unknown = undefined;
  #closed = false;

  /** How many requests hold a live signal. */
  get size(): number {
    return this.#live === undefined ? 0 : this.#live.size;
  }

  /** A context for a request of `op` from `peer`. */
  context(peer: Session, op: string, codec?: ValueCodec, data?: unknown): IncomingContext {
    return new IncomingContext(this, peer, op, codec, data);
  }

  /** The connection closed: aborts every live signal with `reason`. */
  abort(reason: unknown): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#reason = reason;
    const live = this.#live;
    if (live === undefined) return;
    this.#live = undefined;
    for (const ctx of live) ctx.abortNow(reason);
  }

  /** Makes the controller of `ctx` (aborted at once if the connection closed). */
  controller(ctx: IncomingContext): AbortController {
    const c = new AbortController();
    if (this.#closed) c.abort(this.#reason);
    else (this.#live ??= new Set()).add(ctx);
    return c;
  }

  /** The request of `ctx` settled: its signal is no longer the connection's to abort. */
  release(ctx: IncomingContext): void {
    this.#live?.delete(ctx);
  }
}

/** A {@linkcode RequestContext} whose signal is made on first use. */
export class IncomingContext implements SettlingContext {
  readonly peer: Session;
  readonly op: string;
  readonly codec: ValueCodec | undefined;
  readonly data: unknown;
  readonly #signals: RequestSignals;
  #controller: AbortController | undefined;

  constructor(
    signals: RequestSignals,
    peer: Session,
    op: string,
    codec: ValueCodec | undefined,
    data: unknown,
  ) {
    this.#signals = signals;
    this.peer = peer;
    this.op = op;
    this.codec = codec;
    this.data = data;
  }

  /** Aborted when the connection closes. */
  get signal(): AbortSignal {
    return (this.#controller ??= this.#signals.controller(this)).signal;
  }

  /** Aborts the signal (the connection closed). */
  abortNow(reason: unknown): void {
    this.#controller?.abort(reason);
  }

  /** The request settled. */
  settled(): void {
    if (this.#controller !== undefined) this.#signals.release(this);
  }
}
