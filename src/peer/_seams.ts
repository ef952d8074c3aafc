// This module is browser compatible.
// The narrow interfaces through which the parts of a Peer see it and each other.

import type { Message } from "../protocol/mod.ts";
import type { ConnectionClosedError } from "./errors.ts";

/** Where the parts write frames: the peer's coalescing writer. */
export interface Wire {
  /** Queues a frame (written with the others of the same microtask). */
  send(message: Message): void;
  /** Whether the write backlog is below its bound; producers wait for `drained()` if not. */
  readonly writable: boolean;
  /** Resolves once the backlog is below its bound (or the writer failed). */
  drained(): Promise<void>;
}

/** What the parts see of the peer's state. */
export interface Lifecycle {
  /** Neither closing nor closed: new work is taken. */
  readonly open: boolean;
  /** Closed: nothing more is read or written. */
  readonly closed: boolean;
  /** The error for work refused because the peer is closing or closed. */
  closedError(): ConnectionClosedError;
  /** Something that counts toward idleness (pending, handling, uploads) went down. */
  idleChanged(): void;
}

/** `wire` as seen by producers whose waits for the backlog are counted in `waits`. */
export function countedWire(wire: Wire, waits: { waitingReplies: number }): Wire {
  return {
    send: (m) => wire.send(m),
    get writable() {
      return wire.writable;
    },
    drained: async () => {
      waits.waitingReplies++;
      try {
        await wire.drained();
      } finally {
        waits.waitingReplies--;
      }
    },
  };
}
