// This module is browser compatible.
// The one internal seam through which a server-side topic writes a frame it encoded once to
// many peers: each Peer registers its writer here; nothing of this is public API.

/** What a topic sees of a member peer's writer. */
export interface FrameSink {
  /** Queues a frame encoded already; written with the peer's other frames, in order. */
  sendFrame(frame: Uint8Array): void;
  /** Bytes queued or handed to the transport and not yet written. */
  readonly backlog: number;
}

const sinks = new WeakMap<object, FrameSink>();

/** Called by each Peer with its writer. */
export function registerFrameSink(peer: object, sink: FrameSink): void {
  sinks.set(peer, sink);
}

/** The writer of `peer`, if it is a Peer of this library. */
export function frameSink(peer: object): FrameSink | undefined {
  return sinks.get(peer);
}
