// This module is browser compatible.
// What a `Handlers` set holds, and the lookups the peer makes for every request: an exact name
// in this set or an ancestor first, only then the nearest fallback.

import type { BufferNotificationHandler, RequestHandlerEntry } from "./handler_types.ts";
import { MiddlewareChain } from "./_middleware.ts";

/** The handlers, fallbacks and middleware of one set, with its parent's. */
export class HandlerTable {
  readonly parent: HandlerTable | undefined;
  readonly requests = new Map<string, RequestHandlerEntry>();
  readonly notifications = new Map<string, BufferNotificationHandler>();
  requestFallback: RequestHandlerEntry | undefined;
  notificationFallback: BufferNotificationHandler | undefined;
  readonly middleware: MiddlewareChain;

  constructor(parent: HandlerTable | undefined) {
    this.parent = parent;
    this.middleware = new MiddlewareChain(parent?.middleware);
  }

  /** An exact match in this set or an ancestor, else the nearest fallback. */
  find(op: string): RequestHandlerEntry | undefined {
    // No callbacks: this runs for every request.
    return this.#request(op) ?? this.#fallbackRequest();
  }

  /** The handler of notification `name` (exact match first, then the nearest fallback). */
  findNotification(name: string): BufferNotificationHandler | undefined {
    return this.#notification(name) ?? this.#fallbackNotification();
  }

  #request(op: string): RequestHandlerEntry | undefined {
    const entry = this.requests.get(op);
    return entry !== undefined || this.parent === undefined ? entry : this.parent.#request(op);
  }

  #fallbackRequest(): RequestHandlerEntry | undefined {
    const entry = this.requestFallback;
    return entry !== undefined || this.parent === undefined
      ? entry
      : this.parent.#fallbackRequest();
  }

  #notification(name: string): BufferNotificationHandler | undefined {
    const fn = this.notifications.get(name);
    return fn !== undefined || this.parent === undefined ? fn : this.parent.#notification(name);
  }

  #fallbackNotification(): BufferNotificationHandler | undefined {
    const fn = this.notificationFallback;
    return fn !== undefined || this.parent === undefined ? fn : this.parent.#fallbackNotification();
  }
}
