// This module is browser compatible.
// One request's telemetry while it runs: created only when the peer has an `onRequestEvent`
// listener, so a peer without one pays a single `undefined` check per request.

import { ConnectionClosedError, RetryLimitError } from "./errors.ts";
import type { RequestKind } from "./middleware.ts";
import { RetryResult } from "./middleware.ts";
import type { Session } from "./session.ts";
import type { RequestEvent, RequestOutcome } from "./telemetry.ts";

/** Where a probe's event goes (the listener, its throws caught). */
export type EventSink = (event: RequestEvent) => void;

/** A listener whose own throw goes to `onError`, not into the peer. */
export function eventSink(
  listener: ((event: RequestEvent) => void) | undefined,
  onError: ((error: unknown) => void) | undefined,
): EventSink | undefined {
  if (listener === undefined) return undefined;
  return (event) => {
    try {
      listener(event);
    } catch (e) {
      onError?.(e);
    }
  };
}

/** The outcome a failure stands for. */
export function outcomeOf(error: unknown): RequestOutcome {
  if (error instanceof RetryResult || error instanceof RetryLimitError) return "retry";
  if (error instanceof ConnectionClosedError) return "closed";
  if (error instanceof DOMException && error.name === "TimeoutError") return "timeout";
  return "error";
}

/** A request id (four bytes, big-endian) as the text it is on the wire. */
export function idText(id: number): string {
  return String.fromCharCode(id >>> 24, (id >>> 16) & 255, (id >>> 8) & 255, id & 255);
}

/** One request's measurements; `end` emits its event once. */
export class Probe {
  readonly #sink: EventSink;
  readonly #start = performance.now();
  readonly #peer: Session;
  readonly direction: "in" | "out";
  readonly op: string;
  id: string | undefined;
  readonly kind: RequestKind;
  bytesIn: number;
  bytesOut = 0;
  /** Set by whatever answered; `end()` without one means the connection closed first. */
  outcome: RequestOutcome | undefined;
  error: unknown;
  #ended = false;

  constructor(
    sink: EventSink,
    peer: Session,
    direction: "in" | "out",
    op: string,
    id: number | undefined,
    kind: RequestKind,
    bytesIn: number,
  ) {
    this.#sink = sink;
    this.#peer = peer;
    this.direction = direction;
    this.op = op;
    this.id = id === undefined ? undefined : idText(id);
    this.kind = kind;
    this.bytesIn = bytesIn;
  }

  /** Records a failure (the first outcome wins). */
  fail(error: unknown): void {
    if (this.outcome !== undefined) return;
    this.outcome = outcomeOf(error);
    this.error = error;
  }

  /** Emits the event (once). */
  end(outcome?: RequestOutcome): void {
    if (this.#ended) return;
    this.#ended = true;
    if (this.outcome === undefined) this.outcome = outcome ?? "closed";
    this.#sink({
      direction: this.direction,
      op: this.op,
      id: this.id,
      kind: this.kind,
      bytesIn: this.bytesIn,
      bytesOut: this.bytesOut,
      durationMs: performance.now() - this.#start,
      outcome: this.outcome,
      error: this.outcome === "ok" ? undefined : this.error,
      peer: this.#peer,
    });
  }

  /** A stream of parts that counts what passes into `bytesOut` (or `bytesIn`). */
  count(
    stream: ReadableStream<Uint8Array>,
    into: "bytesIn" | "bytesOut",
  ): ReadableStream<Uint8Array> {
    return stream.pipeThrough(
      new TransformStream<Uint8Array, Uint8Array>({
        transform: (part, out) => {
          this[into] += part.length;
          out.enqueue(part);
        },
      }),
    );
  }
}
