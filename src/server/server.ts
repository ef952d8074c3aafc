// This module is browser compatible.

import type { PeerOptions } from "../peer/options.ts";
import { Peer } from "../peer/peer.ts";
import type { CloseOptions } from "../peer/session.ts";
import type { ListenAddr, Listener } from "../peer/transport.ts";
import { acceptLoop } from "./_accept_loop.ts";

/**
 * Options for a {@linkcode Server}: the options every accepted connection's {@linkcode Peer}
 * gets (handlers shared by all of them), plus a hook for each new peer.
 *
 * @example Usage
 * ```ts
 * import { Handlers, type ServerOptions } from "@gotalk/gotalk";
 * import assert from "node:assert/strict";
 *
 * const options: ServerOptions = { handlers: new Handlers(), onPeer: (peer) => void peer };
 * assert.ok(options.handlers);
 * ```
 */
export interface ServerOptions extends PeerOptions {
  /**
   * Called with each new peer, right after it is created (before its handshake completes).
   *
   * @default {undefined}
   */
  onPeer?: (peer: Peer) => void;
}

/**
 * Serves Gotalk on a {@linkcode Listener}: every accepted connection gets a {@linkcode Peer}
 * with the shared handlers. `close()` stops accepting and closes every peer gracefully.
 *
 * A failed `accept()` (such as running out of file descriptors) goes to `onError`, and the
 * server waits before accepting again, as Go's servers do: 5 ms, doubling up to 1 s while
 * accepts keep failing, back to 5 ms once one succeeds.
 *
 * @example A TCP server on Deno
 * ```ts ignore
 * import { Handlers, Server } from "@gotalk/gotalk";
 * import { listen } from "@gotalk/gotalk/deno";
 *
 * const handlers = new Handlers().handle("upper", (s: string) => s.toUpperCase());
 * const server = new Server(await listen({ port: 1234 }), { handlers });
 * // ... later:
 * await server.close();
 * ```
 */
export class Server {
  readonly #listener: Listener;
  readonly #peers = new Set<Peer>();
  readonly #closing = new AbortController();
  readonly #accepting: Promise<void>;

  /**
   * Starts accepting connections from `listener`.
   *
   * @param listener Where connections come from; the server owns it.
   * @param options Options for each connection's peer.
   */
  constructor(listener: Listener, options?: ServerOptions) {
    const o = options === undefined ? {} : options;
    this.#listener = listener;
    this.#accepting = acceptLoop(listener, this.#closing.signal, {
      accepted: (transport) => {
        const peer = new Peer(transport, o);
        this.#peers.add(peer);
        peer.closed.then(() => this.#peers.delete(peer));
        o.onPeer?.(peer);
      },
      failed: (error) => o.onError?.(error),
    });
  }

  /**
   * Where the server listens.
   *
   * @returns The address (the real port when listening on port 0).
   *
   * @example Usage
   * ```ts ignore
   * const server = new Server(await listen({ port: 0 }));
   * console.log(server.addr.port);
   * ```
   */
  get addr(): ListenAddr {
    return this.#listener.addr;
  }

  /**
   * The peers of the open connections.
   *
   * @returns A read-only view.
   *
   * @example Usage
   * ```ts ignore
   * for (const peer of server.peers) await peer.notify("shutdown", null);
   * ```
   */
  get peers(): ReadonlySet<Peer> {
    return this.#peers;
  }

  /**
   * Stops accepting connections and closes every peer gracefully (each may finish its
   * in-flight work up to `timeoutMs`).
   *
   * @param options The per-peer deadline.
   * @returns Resolves when the listener and every connection are closed.
   *
   * @example Usage
   * ```ts ignore
   * await server.close({ timeoutMs: 1000 });
   * ```
   */
  async close(options?: CloseOptions): Promise<void> {
    this.#closing.abort();
    this.#listener.close();
    await this.#accepting;
    await Promise.all([...this.#peers].map((p) => p.close(options)));
  }
}
