// This module is browser compatible.

import { type CloseOptions, Peer, type PeerOptions } from "../peer/peer.ts";
import type { ListenAddr, Listener } from "../peer/transport.ts";

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
 * @example A TCP server on Deno
 * ```ts ignore
 * import { Handlers, Server } from "@gotalk/gotalk";
 * import { listen } from "@gotalk/gotalk/deno";
 *
 * const handlers = new Handlers().handle("upper", (s: string) => s.toUpperCase());
 * const server = new Server(listen({ port: 1234 }), { handlers });
 * // ... later:
 * await server.close();
 * ```
 */
export class Server {
  readonly #listener: Listener;
  readonly #options: ServerOptions;
  readonly #peers = new Set<Peer>();
  #closing = false;
  readonly #accepting: Promise<void>;

  /**
   * Starts accepting connections from `listener`.
   *
   * @param listener Where connections come from; the server owns it.
   * @param options Options for each connection's peer.
   */
  constructor(listener: Listener, options: ServerOptions = {}) {
    this.#listener = listener;
    this.#options = options;
    this.#accepting = this.#acceptLoop();
  }

  /**
   * Where the server listens.
   *
   * @returns The address (the real port when listening on port 0).
   *
   * @example Usage
   * ```ts ignore
   * const server = new Server(listen({ port: 0 }));
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

  async #acceptLoop(): Promise<void> {
    while (!this.#closing) {
      let transport;
      try {
        transport = await this.#listener.accept();
      } catch (e) {
        if (this.#closing) return;
        this.#options.onError?.(e);
        continue;
      }
      if (transport === null) return;
      if (this.#closing) {
        transport.close();
        return;
      }
      const peer = new Peer(transport, this.#options);
      this.#peers.add(peer);
      peer.closed.then(() => this.#peers.delete(peer));
      this.#options.onPeer?.(peer);
    }
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
    this.#closing = true;
    this.#listener.close();
    await this.#accepting;
    await Promise.all([...this.#peers].map((p) => p.close(options)));
  }
}
