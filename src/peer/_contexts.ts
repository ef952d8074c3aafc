// This module is browser compatible.
// What the handlers of a peer see of it: the contexts of requests and notifications, and where
// their failures go.

import type { NotificationContext } from "./handler_types.ts";
import { handlerFailed, type ResolvedOptions } from "./options.ts";
import type { Session } from "./session.ts";
import type { RequestSignals, SettlingContext } from "./_request_context.ts";

/** Where the hooks find their peer: a property of the object they are called on. */
const HOOKS: unique symbol = Symbol("handler hooks");

/** What the hooks of one peer need. */
interface HookState {
  readonly peer: Session;
  readonly o: ResolvedOptions;
  readonly signals: RequestSignals;
}

/** The hooks of `IncomingHost` that involve handlers. */
export interface HandlerHooks {
  requestContext(op: string): SettlingContext;
  notificationContext(name: string): NotificationContext;
  reportError(error: unknown): void;
  handlerFailed(error: unknown, op: string): void;
  /** The peer, options and signals the hooks read (copied along when the hooks are spread). */
  readonly [HOOKS]: HookState;
}

// One function of each for every peer: each reads its peer from the object it is called on, so
// the hooks must be called as methods (`host.requestContext(op)`) of the object they were
// returned in or spread into, never detached.
const shared = {
  requestContext(this: HandlerHooks, op: string): SettlingContext {
    const h = this[HOOKS];
    return h.signals.context(h.peer, op, h.o.codec, h.o.data);
  },
  notificationContext(this: HandlerHooks, name: string): NotificationContext {
    const h = this[HOOKS];
    return { peer: h.peer, name, codec: h.o.codec, data: h.o.data };
  },
  reportError(this: HandlerHooks, e: unknown): void {
    this[HOOKS].o.onError?.(e);
  },
  handlerFailed(this: HandlerHooks, e: unknown, op: string): void {
    const h = this[HOOKS];
    handlerFailed(h.o, e, { op, peer: h.peer });
  },
};

/**
 * The hooks of `IncomingHost` that involve handlers, for `peer`: the same four functions for
 * every peer (no closures per connection), with the peer's state under a symbol key, which a
 * spread (`{ ...handlerHooks(peer, o, signals) }`) copies along.
 */
export function handlerHooks(peer: Session, o: ResolvedOptions, signals: RequestSignals): {
  requestContext(op: string): SettlingContext;
  notificationContext(name: string): NotificationContext;
  reportError(error: unknown): void;
  handlerFailed(error: unknown, op: string): void;
} {
  const hooks: HandlerHooks = {
    requestContext: shared.requestContext,
    notificationContext: shared.notificationContext,
    reportError: shared.reportError,
    handlerFailed: shared.handlerFailed,
    [HOOKS]: { peer, o, signals },
  };
  return hooks;
}
