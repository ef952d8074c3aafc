// This module is browser compatible.

/**
 * What a {@linkcode Peer} talks over: a pair of Web byte streams, one per direction, such as a
 * `Deno.Conn`, or what the adapters in `@gotalk/gotalk/deno`, `/bun`, `/node` and the in-memory
 * {@linkcode pipePair} return.
 *
 * Chunk ownership: every chunk a transport's `readable` yields must be a fresh buffer the
 * transport never writes to again, because decoded payloads may be views into it. Chunks written
 * to `writable` belong to the transport from then on; the peer never touches them again.
 *
 * @example A transport from any two streams
 * ```ts
 * import type { Transport } from "@gotalk/gotalk";
 * import assert from "node:assert/strict";
 *
 * const { readable, writable } = new TransformStream<Uint8Array, Uint8Array>();
 * const loopback: Transport = { readable, writable };
 * assert.ok(loopback.readable instanceof ReadableStream);
 * ```
 */
export interface Transport {
  /** Bytes from the remote side. */
  readonly readable: ReadableStream<Uint8Array>;
  /** Bytes to the remote side. */
  readonly writable: WritableStream<Uint8Array>;
  /**
   * Tears the connection down at once, in both directions. Called by the peer after it closed
   * or cancelled both streams, so that a transport whose streams do not own the connection
   * (a socket, a WebSocket) releases it. Must be idempotent and never throw.
   */
  close?(): void;
  /** A description of the remote end (for example `127.0.0.1:4000`), for logs and errors. */
  readonly remoteAddr?: string;
}
