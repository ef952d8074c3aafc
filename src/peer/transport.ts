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
 * const loopback: Transport = { readable, writable, close() {} };
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
  close(): void;
  /** A description of the remote end (for example `127.0.0.1:4000`), for logs and errors. */
  readonly remoteAddr?: string;
  /** A description of the local end (for example `127.0.0.1:54321`), for logs and errors. */
  readonly localAddr?: string;
}

/**
 * The address a {@linkcode Listener} is bound to.
 *
 * @example Usage
 * ```ts
 * import type { ListenAddr } from "@gotalk/gotalk";
 * import assert from "node:assert/strict";
 *
 * const addr: ListenAddr = { hostname: "127.0.0.1", port: 4000 };
 * assert.equal(addr.port, 4000);
 * ```
 */
export interface ListenAddr {
  /** The host name or IP address. */
  hostname: string;
  /** The port (the real one when listening on port 0). */
  port: number;
}

/**
 * Accepts incoming connections as {@linkcode Transport}s. Each runtime adapter
 * (`@gotalk/gotalk/deno`, `/bun`, `/node`) returns one from its `listen` function; a
 * {@linkcode Server} serves one.
 *
 * @example Accepting one connection
 * ```ts ignore
 * import { listen } from "@gotalk/gotalk/deno";
 *
 * const listener = await listen({ hostname: "127.0.0.1", port: 0 });
 * for await (const transport of listener) {
 *   transport.close();
 *   break;
 * }
 * listener.close();
 * ```
 */
export interface Listener extends AsyncIterable<Transport> {
  /** Where it listens. */
  readonly addr: ListenAddr;
  /**
   * Waits for the next connection.
   *
   * @returns The connection, or `null` once the listener is closed.
   */
  accept(): Promise<Transport | null>;
  /** Stops accepting; a pending `accept()` resolves with `null`. Idempotent. */
  close(): void;
}
