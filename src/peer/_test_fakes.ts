// Fakes for the parts' unit tests: a wire that records frames, and a peer state whose flags the
// test sets. No sockets, no Peer.
import type { Message } from "../protocol/mod.ts";
import { ConnectionClosedError } from "./errors.ts";
import type { Lifecycle, Wire } from "./_seams.ts";

/** A promise with its resolve function (Promise.withResolvers is not in Node 20). */
export function deferred<T>(): { promise: Promise<T>; resolve: (value: T) => void } {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => resolve = r);
  return { promise, resolve };
}

/** A wire that keeps what is sent; `writable` and `drained` are the test's to steer. */
export class FakeWire implements Wire {
  readonly sent: Message[] = [];
  writable = true;
  #drained = deferred<void>();

  send(message: Message): void {
    this.sent.push(message);
  }

  drained(): Promise<void> {
    return this.writable ? Promise.resolve() : this.#drained.promise;
  }

  /** Makes the wire writable again and wakes the waiters. */
  drain(): void {
    this.writable = true;
    this.#drained.resolve();
    this.#drained = deferred<void>();
  }

  /** The frames of one type. */
  ofType(type: Message["type"]): Message[] {
    return this.sent.filter((m) => m.type === type);
  }
}

/** A lifecycle whose state the test sets; counts `idleChanged` calls. */
export class FakeLife implements Lifecycle {
  open = true;
  closed = false;
  idleChanges = 0;

  closedError(): ConnectionClosedError {
    return new ConnectionClosedError(this.closed ? "closed" : "closing");
  }

  idleChanged(): void {
    this.idleChanges++;
  }
}

/** Resolves after all queued microtasks and one macrotask turn. */
export function turn(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}
