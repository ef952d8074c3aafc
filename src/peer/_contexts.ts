// This module is browser compatible.
// What the handlers of a peer see of it: the contexts of requests and notifications, and where
// their failures go.

import type { NotificationContext } from "./handler_types.ts";
import { handlerFailed, type ResolvedOptions } from "./options.ts";
import type { Session } from "./session.ts";
import type { RequestSignals, SettlingContext } from "./_request_context.ts";

/** The hooks of `IncomingHost` that involve handlers, for `peer`. */
export function handlerHooks(peer: Session, o: ResolvedOptions, signals: RequestSignals): {
  requestContext(op: string): SettlingContext;
  notificationContext(name: string): NotificationContext;
  reportError(error: unknown): void;
  handlerFailed(error: unknown, op: string): void;
} {
  const codec = o.codec;
  const data = o.data;
  return {
    requestContext: (op) => signals.context(peer, op, codec, data),
    notificationContext: (name) => ({ peer, name, codec, data }),
    reportError: (e) => o.onError?.(e),
    handlerFailed: (e, op) => handlerFailed(o, e, { op, peer }),
  };
}
