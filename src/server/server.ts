// This module is browser compatible.

import type { PeerOptions } from "../peer/options.ts";
import { Peer } from "../peer/peer.ts";
import { onRelease, type ReleaseListener } from "../peer/_peer_seam.ts";
import type { CloseOptions } from "../peer/session.ts";
import type { ConnectionInfo, ListenAddr, Listener, Transport } from "../peer/transport.ts";
import { acceptLoop } from "./_accept_loop.ts";
import { ConnectGate, type ConnectionRefused, NO_DATA } from "./_connect_gate.ts";

export { ConnectionRefused, refuse } from "./_connect_gate.ts";

/**
 * Options for a {@linkcode Server}: the options every accepted connection's {@linkcode Peer}
 * gets (handlers shared by all of them), plus a hook for each new peer.
 *
 * @example Shared handlers, and a greeting for each new connection
 * ```ts
 * import { Handlers, Peer, Server, type ServerOptions } from "@gotalk/gotalk";
 * import { connect, listen } from "@gotalk/gotalk/deno";
 * import assert from "node:assert/strict";
 *
 * const greeted = Promise.withResolvers<string>();
 * const options: ServerOptions = {
 *   handlers: new Handlers().handle("ping", () => "pong"),
 *   onPeer: (peer) => void peer.notify("welcome", "hello"),
 * };
 * const server = new Server(await listen({ hostname: "127.0.0.1", port: 0 }), options);
 * const client = new Peer(await connect({ port: server.addr.port }), {
 *   handlers: new Handlers().handleNotification("welcome", greeted.resolve),
 * });
 * assert.equal(await greeted.promise, "hello");
 * assert.equal(await client.request("ping"), "pong");
 * await client.close();
 * await server.close();
 * ```
 */
export interface ServerOptions<Data = unknown> extends PeerOptions {
  /**
   * Called with each new peer, right after it is created (before its handshake completes).
   *
   * @default {undefined}
   */
  onPeer?: (peer: Peer) => void;
  /**
   * Runs for each new connection before its peer starts: it sees the transport's kind, the
   * remote address and, for WebSocket, the HTTP upgrade request (URL, headers, cookies). What
   * it returns becomes the connection's data (`peer.data`, `ctx.data` in middleware and
   * handlers; it replaces the `data` option). To refuse, return or throw
   * {@linkcode refuse}`(status, message)`: a WebSocket server answers the upgrade request with
   * that status (401, 403, …) and does not upgrade; a TCP or TLS connection is closed before
   * anything is written (no handshake). Any other throw refuses too (a WebSocket gets 500) and
   * goes to `onError`. Connections wait for it, so keep it quick (or bound it with a timeout).
   *
   * @default {undefined}
   */
  onConnect?: (
    connection: ConnectionInfo,
  ) => Data | ConnectionRefused | Promise<Data | ConnectionRefused>;
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
 * ```ts
 * import { Handlers, Peer, Server } from "@gotalk/gotalk";
 * import { connect, listen } from "@gotalk/gotalk/deno";
 * import assert from "node:assert/strict";
 *
 * const handlers = new Handlers().handle("upper", (s: string) => s.toUpperCase());
 * const server = new Server(await listen({ hostname: "127.0.0.1", port: 0 }), { handlers });
 * const client = new Peer(await connect({ port: server.addr.port }));
 * assert.equal(await client.request("upper", "hi"), "HI");
 * await client.close();
 * await server.close();
 * ```
 */
export class Server<Data = unknown> {
  readonly #listener: Listener;
  readonly #peers = new Set<Peer>();
  /** Drops each peer from #peers once it released its transport. */
  readonly #releases: ReleaseListener = {
    peerReleased: (peer) => this.#peers.delete(peer as Peer),
  };
  readonly #closing = new AbortController();
  readonly #accepting: Promise<void>;
  /** Connections waiting for `onConnect`. */
  readonly #admitting = new Set<Promise<void>>();

  /**
   * Starts accepting connections from `listener`.
   *
   * @param listener Where connections come from; the server owns it.
   * @param options Options for each connection's peer, and the hooks.
   * @throws {TypeError} If `onConnect` is not a function.
   */
  constructor(listener: Listener, options?: ServerOptions<Data>) {
    const o = options === undefined ? {} : options;
    this.#listener = listener;
    const open = (transport: Transport, data: unknown) => {
      const peer = new Peer(transport, data === NO_DATA ? o : { ...o, data });
      this.#peers.add(peer);
      // Through the peer's seam rather than `peer.closed`: one listener for all the server's
      // peers, no promise and callback kept per connection.
      onRelease(peer, this.#releases);
      o.onPeer?.(peer);
    };
    const gate = o.onConnect === undefined
      ? undefined
      : new ConnectGate(o.onConnect, listener, (e) => o.onError?.(e));
    this.#accepting = acceptLoop(listener, this.#closing.signal, {
      accepted: (transport) => {
        if (gate === undefined) return open(transport, NO_DATA);
        const admitting = gate.check(transport).then((verdict) => {
          this.#admitting.delete(admitting);
          if (verdict.accept && !this.#closing.signal.aborted) open(transport, verdict.data);
          else transport.close();
        });
        this.#admitting.add(admitting);
      },
      failed: (error) => o.onError?.(error),
    });
  }

  /**
   * Where the server listens.
   *
   * @returns The address (the real port when listening on port 0).
   *
   * @example The port picked for port 0
   * ```ts
   * import { Server } from "@gotalk/gotalk";
   * import { listen } from "@gotalk/gotalk/deno";
   * import assert from "node:assert/strict";
   *
   * const server = new Server(await listen({ hostname: "127.0.0.1", port: 0 }));
   * assert.notEqual(server.addr.port, 0);
   * await server.close();
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
   * @example Telling every client before shutting down
   * ```ts
   * import { Handlers, Peer, Server } from "@gotalk/gotalk";
   * import { connect, listen } from "@gotalk/gotalk/deno";
   * import assert from "node:assert/strict";
   *
   * const server = new Server(await listen({ hostname: "127.0.0.1", port: 0 }), {
   *   handlers: new Handlers().handle("ping", () => "pong"),
   * });
   * const told = Promise.withResolvers<void>();
   * const handlers = new Handlers().handleNotification("shutdown", () => told.resolve());
   * const client = new Peer(await connect({ port: server.addr.port }), { handlers });
   * await client.request("ping");
   * assert.equal(server.peers.size, 1);
   * for (const peer of server.peers) await peer.notify("shutdown", null);
   * await told.promise;
   * await server.close();
   * await client.closed;
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
   * @example Closing lets in-flight requests finish
   * ```ts
   * import { Handlers, Peer, Server } from "@gotalk/gotalk";
   * import { connect, listen } from "@gotalk/gotalk/deno";
   * import assert from "node:assert/strict";
   *
   * const started = Promise.withResolvers<void>();
   * const release = Promise.withResolvers<string>();
   * const handlers = new Handlers().handle("work", () => (started.resolve(), release.promise));
   * const server = new Server(await listen({ hostname: "127.0.0.1", port: 0 }), { handlers });
   * const client = new Peer(await connect({ port: server.addr.port }));
   * const answer = client.request("work");
   * await started.promise;
   * const closing = server.close({ timeoutMs: 5000 });
   * release.resolve("done"); // the handler finishes while the server closes
   * await closing;
   * assert.equal(await answer, "done");
   * await client.closed;
   * ```
   */
  async close(options?: CloseOptions): Promise<void> {
    this.#closing.abort();
    this.#listener.close();
    await this.#accepting;
    await Promise.all(this.#admitting);
    await Promise.all([...this.#peers].map((p) => p.close(options)));
  }
}
