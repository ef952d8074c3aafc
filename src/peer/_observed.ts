// This module is browser compatible.
// The incoming side's slower paths, taken only with middleware or an event listener: a
// notification through its middleware chain, and the event of a request refused before dispatch.

import type { RequestMessage } from "../protocol/mod.ts";
import type { NotificationContext } from "./handler_types.ts";
import { type Middleware, RetryResult } from "./middleware.ts";
import { runMiddleware } from "./_middleware.ts";
import type { Session } from "./session.ts";
import { type EventSink, Probe } from "./_telemetry.ts";

/** Runs a notification handler through `chain` (if any), measured if `events` is set. */
export function notifyThrough(
  chain: readonly Middleware[] | undefined,
  events: EventSink | undefined,
  fn: (payload: Uint8Array, ctx: NotificationContext) => void | Promise<void>,
  ctx: NotificationContext,
  signal: AbortSignal,
  payload: Uint8Array,
  failed: (error: unknown) => void,
): void {
  const name = ctx.name;
  const probe = events &&
    new Probe(events, ctx.peer, "in", name, undefined, "notification", payload.length);
  const run = chain === undefined
    ? new Promise<unknown>((resolve) => resolve(fn(payload, ctx)))
    : runMiddleware(chain, {
      peer: ctx.peer,
      op: name,
      kind: "notification",
      id: undefined,
      payload,
      signal,
      data: ctx.data,
    }, () => fn(payload, ctx));
  run.then(() => probe?.end("ok"), (e) => {
    probe?.fail(e);
    probe?.end();
    if (!(e instanceof RetryResult)) failed(e);
  });
}

/** The event of a request answered before any handler ran (closing, a limit, unknown op). */
export function refusedEvent(
  events: EventSink,
  peer: Session,
  m: RequestMessage,
  outcome: "closed" | "retry" | "error",
): void {
  const kind = m.type === "s" ? "stream" : "buffer";
  new Probe(events, peer, "in", m.name, m.id, kind, m.payload.length).end(outcome);
}
