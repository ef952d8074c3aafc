// This module is browser compatible.
// A diagnostic seam for tests and measurements (not exported from mod.ts): what a peer holds
// right now, read from its parts. A closed peer must hold nothing.

import type { IncomingRequests } from "./_incoming.ts";
import type { OutgoingRequests } from "./_outgoing.ts";
import type { RequestSignals } from "./_request_context.ts";
import type { FrameWriter } from "./_writer.ts";

/** What a peer holds. */
export interface PeerStats {
  /** Bytes queued for the transport or handed to it and not yet written. */
  readonly writeBacklogBytes: number;
  /** The part of it that answers the remote's requests. */
  readonly replyBacklogBytes: number;
  /** Outgoing requests waiting for an answer. */
  readonly pendingRequests: number;
  /** Incoming requests being handled. */
  readonly handling: number;
  /** Incoming streaming requests whose parts are still arriving. */
  readonly incomingStreams: number;
  /** Handler results waiting for the write backlog to drain. */
  readonly waitingReplies: number;
  /** Incoming requests whose handlers hold a live signal. */
  readonly liveSignals: number;
}

/** The parts stats are read from. */
export interface StatsParts {
  readonly writer: FrameWriter;
  readonly outgoing: OutgoingRequests;
  readonly incoming: IncomingRequests;
  readonly abort: RequestSignals;
}

const registry = new WeakMap<object, StatsParts>();

/** Makes `peer`'s stats readable through {@linkcode peerStats}. */
export function registerStats(peer: object, parts: StatsParts): void {
  registry.set(peer, parts);
}

/**
 * What `peer` holds now.
 *
 * @throws {TypeError} If `peer` is not a Peer.
 */
export function peerStats(peer: object): PeerStats {
  const p = registry.get(peer);
  if (p === undefined) throw new TypeError("Not a Peer");
  return {
    writeBacklogBytes: p.writer.backlog,
    replyBacklogBytes: p.writer.replyBacklog,
    pendingRequests: p.outgoing.size,
    handling: p.incoming.handling,
    incomingStreams: p.incoming.streams,
    waitingReplies: p.incoming.waitingReplies,
    liveSignals: p.abort.size,
  };
}
