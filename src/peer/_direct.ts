// This module is browser compatible.
// The direct path between a Peer and a transport of this package: the transport hands the peer a
// reader and a writer of its own, so that no Web stream (two controllers, their queues and
// promises: about 5 KiB an idle connection) sits in between. The peer layer defines it; a
// transport implements it; a transport that does not is read and written through its streams.

/** What the peer reads from: a `ReadableStreamDefaultReader` has this shape. */
export interface ChunkReader {
  /** The next chunk, or `done` at the end; rejects if the input failed. */
  read(): Promise<ReadableStreamReadResult<Uint8Array>>;
  /** Stops reading: a pending `read` resolves `done`; what was queued is dropped. */
  cancel(reason?: unknown): Promise<void>;
  /**
   * A direct reader's, optional (it then has `park` too): the next chunk if one is queued,
   * `null` at the end, `undefined` if nothing is queued yet; throws if the input failed.
   */
  take?(): Uint8Array | null | undefined;
  /**
   * With nothing queued: tells `listener` once, with `chunkArrived`, that a chunk arrived, the
   * input ended or failed, or the reader was cancelled. An idle peer then keeps no pending read.
   */
  park?(listener: ReadListener): void;
}

/** Who a parked {@linkcode ChunkReader} tells that there is something to take. */
export interface ReadListener {
  /** Called at most once per `park`, maybe inside the transport's own callback: defer work. */
  chunkArrived(): void;
}

/** What the peer writes to: a `WritableStreamDefaultWriter` has this shape. */
export interface ChunkWriter {
  /**
   * Writes one chunk, after the ones before it. A promise settles once it was written (or
   * fails); `undefined` (direct writers only) says the transport took it at once.
   */
  write(chunk: Uint8Array): Promise<void> | void;
  /** Ends the output after what was written. */
  close(): Promise<void>;
  /** Tears the output down at once. */
  abort(reason?: unknown): Promise<void>;
  /**
   * A hint of a direct writer: payloads of at least this many bytes are best handed over as
   * chunks of their own, not copied into a batch (a transport that sends each header and
   * payload as a message of its own splits the batch again anyway).
   */
  readonly zeroCopyBytes?: number;
}

/** A transport's own reader and writer, for the one peer that runs on it. */
export interface DirectIO {
  readonly reader: ChunkReader;
  readonly writer: ChunkWriter;
}

/**
 * The method a transport with a direct path has under this key: it returns the reader and the
 * writer, or `undefined` once its streams are in use. (A registered symbol: copies of this
 * module in different bundles agree on it.)
 */
export const openDirect: unique symbol = Symbol.for("gotalk.transport.openDirect");

/** A transport with a direct path. */
export interface DirectTransport {
  [openDirect](): DirectIO | undefined;
}

/** The direct reader and writer of `transport`, if it has them and its streams are unused. */
export function directOf(transport: object): DirectIO | undefined {
  const open = (transport as Partial<DirectTransport>)[openDirect];
  return typeof open === "function" ? open.call(transport) : undefined;
}
