// This module is browser compatible.
// The one internal seam through which the server side reaches into a Peer: a topic writes a
// frame it encoded once to many peers through the peer's writer, a server learns when a peer
// released its transport (without a promise and a callback per connection), and tests read
// what a peer holds (`_stats.ts`). Each Peer registers itself here, once; nothing of this is
// public API.

/** What a topic sees of a member peer's writer. */
export interface FrameSink {
  /** Queues a frame encoded already; written with the peer's other frames, in order. */
  sendFrame(frame: Uint8Array): void;
  /** Bytes queued or handed to the transport and not yet written. */
  readonly backlog: number;
}

/** Told when peers released their transports (one object for many peers: a server). */
export interface ReleaseListener {
  peerReleased(peer: object): void;
}

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
  /** The decoders it holds: 0 or 1 (over a socket transport, none between frames). */
  readonly decoders: number;
}

/** What a Peer registers. */
export interface PeerSeam {
  /** Its writer. */
  readonly writer: FrameSink;
  /**
   * Tells `listener` once the peer released its transport (after `closed` resolved; in a
   * microtask if it did already). One listener per peer: a later one replaces it.
   */
  onRelease(listener: ReleaseListener): void;
  /** What it holds now. */
  stats(): PeerStats;
}

/**
 * How to reach a Peer's seam, set once by the Peer class (its parts are a private field of each
 * peer: a peer keeps one slot for them, where a table of all the peers would keep an entry each).
 */
let reach: ((peer: object) => PeerSeam | undefined) | undefined;

/** Called once, by the Peer class. */
export function reachPeerSeams(seamOfPeer: (peer: object) => PeerSeam | undefined): void {
  reach = seamOfPeer;
}

/** The seam of `peer`, if it is a Peer of this library. */
export function seamOf(peer: object): PeerSeam | undefined {
  return reach?.(peer);
}

/** The writer of `peer`, if it is a Peer of this library. */
export function frameSink(peer: object): FrameSink | undefined {
  return seamOf(peer)?.writer;
}

/**
 * Tells `listener` once `peer` released its transport; `false` (and nothing happens) if `peer`
 * is not a Peer of this library.
 */
export function onRelease(peer: object, listener: ReleaseListener): boolean {
  const seam = seamOf(peer);
  if (seam === undefined) return false;
  seam.onRelease(listener);
  return true;
}
