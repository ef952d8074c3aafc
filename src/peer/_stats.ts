// This module is browser compatible.
// A diagnostic seam for tests and measurements (not exported from mod.ts): what a peer holds
// right now, read from its parts. A closed peer must hold nothing.

import type { IncomingRequests } from "./_incoming.ts";
import type { OutgoingRequests } from "./_outgoing.ts";
import type { RequestSignals } from "./_request_context.ts";
import type { FrameWriter } from "./_writer.ts";
import { type PeerStats, seamOf } from "./_peer_seam.ts";

export type { PeerStats } from "./_peer_seam.ts";

/** The parts stats are read from. */
export interface StatsParts {
  readonly writer: FrameWriter;
  readonly outgoing: OutgoingRequests;
  readonly incoming: IncomingRequests;
  readonly abort: RequestSignals;
  readonly decoders: number;
}

/**
 * What `peer` holds now (through the peer's seam: no registry entry of its own per peer).
 *
 * @throws {TypeError} If `peer` is not a Peer.
 */
export function peerStats(peer: object): PeerStats {
  const seam = seamOf(peer);
  if (seam === undefined) throw new TypeError("Not a Peer");
  return seam.stats();
}

/** What the parts `p` hold now. */
export function statsOf(p: StatsParts): PeerStats {
  return {
    writeBacklogBytes: p.writer.backlog,
    replyBacklogBytes: p.writer.replyBacklog,
    pendingRequests: p.outgoing.size,
    handling: p.incoming.handling,
    incomingStreams: p.incoming.streams,
    waitingReplies: p.incoming.waitingReplies,
    liveSignals: p.abort.size,
    decoders: p.decoders,
  };
}
