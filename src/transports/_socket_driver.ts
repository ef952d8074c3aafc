// This module is browser compatible.
/**
 * What a `SocketDuplex` runs on: a runtime's socket as a driver, the duplex's options,
 * and the one pending write or end a driver keeps. Internal: not part of the public API.
 *
 * @module
 */

/**
 * One socket, as a runtime exposes it. A driver is either a pull source (it has `read`) or a
 * push source (it calls `SocketDuplex.push`, `SocketDuplex.pushEnd` and
 * `SocketDuplex.finish` from the socket's events).
 */
export interface SocketDriver {
  /**
   * Writes one chunk; a promise settles once the runtime took all of it (the hot path: return
   * nothing when it took it at once). A write that throws or rejects fails the writable with
   * that error; once `destroy` was called, a pending write must settle, and reject (if at all)
   * with the transport's `SocketDuplex.error`, or a `ConnectionClosedError` if none.
   */
  write(chunk: Uint8Array): void | Promise<void>;
  /** Ends the outgoing direction after what was written (FIN, close_notify, a WebSocket close). */
  end(): void | Promise<void>;
  /**
   * Releases the socket at once and settles a pending `write` (as said there) or `end`.
   * Idempotent, never throws.
   */
  destroy(): void;
  /**
   * Payloads of at least this many bytes are best written as chunks of their own rather than
   * copied into a batch (a message transport that sends each header and payload as a message
   * of its own); unset: the peer's default.
   */
  readonly zeroCopyBytes?: number;
  /**
   * The remote (`local` false) or local end as `HOST:PORT`, formatted when first asked for (the
   * strings cost an idle connection more than the socket keeps of them); for a driver that
   * passes no `remoteAddr` or `localAddr` option. The socket must still know it once closed.
   */
  address?(local: boolean): string | undefined;
  /** Push sources: stops delivering chunks for a while. */
  pause?(): void;
  /** Push sources: delivers chunks again. */
  resume?(): void;
  /** Pull sources: reads into `into`; the byte count, or `null` at the end of the stream. */
  read?(into: Uint8Array): Promise<number | null>;
}

/** Options of a `SocketDuplex`. */
export interface DuplexOptions {
  /** The remote end, for `Transport.remoteAddr`. */
  remoteAddr?: string;
  /** The local end, for `Transport.localAddr`. */
  localAddr?: string;
  /**
   * The upgrade request of a WebSocket, for `Transport.request`; or a function that
   * makes it when first asked for (a `Request` costs a Node connection about 2.5 KB of heap).
   */
  request?: Request | (() => Request);
  /** Push sources: the most bytes that may wait unread; past it `onOverflow` is called. */
  maxQueuedBytes?: number;
  /** Called (once per chunk past the bound) when more than `maxQueuedBytes` wait unread. */
  onOverflow?: () => void;
  /**
   * Push sources: keep the source reading, and drop what it delivers, once the `readable` is
   * cancelled, instead of pausing it. A WebSocket needs this to see the closing handshake.
   */
  readAfterCancel?: boolean;
  /**
   * Push sources: read from the start, before a reader asks (a TLS handshake, a WebSocket's
   * closing handshake need their socket read); what comes waits for the reader, and the source
   * pauses once 64 KiB wait.
   */
  readEarly?: boolean;
}

/** A promise with its settle functions, for a driver's one pending write or end. */
export interface Pending {
  readonly promise: Promise<void>;
  resolve(): void;
  reject(error: Error): void;
}

/** A new {@linkcode Pending}. */
export function pending(): Pending {
  let resolve!: () => void;
  let reject!: (error: Error) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}
