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
 * @example Two peers over a transport made of two streams
 * ```ts
 * import { Handlers, Peer, type Transport } from "@gotalk/gotalk";
 * import assert from "node:assert/strict";
 *
 * const up = new TransformStream<Uint8Array, Uint8Array>();
 * const down = new TransformStream<Uint8Array, Uint8Array>();
 * const left: Transport = { readable: down.readable, writable: up.writable, close() {} };
 * const right: Transport = { readable: up.readable, writable: down.writable, close() {} };
 * const server = new Peer(right, { handlers: new Handlers().handle("ping", () => "pong") });
 * const client = new Peer(left);
 * assert.equal(await client.request("ping"), "pong");
 * client.abort();
 * server.abort();
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
  /**
   * The HTTP request a WebSocket server upgraded to make this connection (its URL, headers,
   * cookies); `undefined` for other transports.
   */
  readonly request?: Request;
}

/**
 * What a `Server`'s `onConnect` hook sees of a new connection, before its peer starts.
 *
 * @example Reading the upgrade request of a WebSocket connection
 * ```ts
 * import type { ConnectionInfo } from "@gotalk/gotalk";
 * import assert from "node:assert/strict";
 *
 * const userOf = (info: ConnectionInfo) =>
 *   info.request ? new URL(info.request.url).searchParams.get("user") : null;
 * const info: ConnectionInfo = {
 *   kind: "websocket",
 *   remoteAddr: "127.0.0.1:50000",
 *   request: new Request("http://localhost/gotalk/?user=ada"),
 * };
 * assert.equal(userOf(info), "ada");
 * ```
 */
export interface ConnectionInfo {
  /**
   * The transport: `tcp`, `tls`, `websocket`, or what a listener of your own says (its
   * `kind`); `unknown` when it says nothing.
   */
  readonly kind: string;
  /** The remote end's address, if the transport knows it. */
  readonly remoteAddr: string | undefined;
  /** For WebSocket: the HTTP upgrade request (URL, headers, cookies), not yet answered. */
  readonly request: Request | undefined;
}

/**
 * What a {@linkcode ConnectionGate} decides: accept, or refuse with an HTTP status (WebSocket
 * servers answer the upgrade request with it).
 *
 * @example A refusal
 * ```ts
 * import type { ConnectionVerdict } from "@gotalk/gotalk";
 * import assert from "node:assert/strict";
 *
 * const verdict: ConnectionVerdict = { accept: false, status: 401, message: "Sign in first" };
 * assert.equal(verdict.accept, false);
 * ```
 */
export type ConnectionVerdict =
  | { readonly accept: true }
  | { readonly accept: false; readonly status: number; readonly message: string };

/**
 * A check a `Server` installs on a listener that can run it before it accepts a connection
 * (the WebSocket servers run it before they upgrade, so a refusal is an HTTP response).
 *
 * @example A gate that lets in requests with a token
 * ```ts
 * import type { ConnectionGate } from "@gotalk/gotalk";
 * import assert from "node:assert/strict";
 *
 * const gate: ConnectionGate = (info) =>
 *   Promise.resolve(
 *     info.request?.headers.get("authorization") === "Bearer t"
 *       ? { accept: true }
 *       : { accept: false, status: 401, message: "Unauthorized" },
 *   );
 * const info = { kind: "websocket", remoteAddr: undefined, request: new Request("http://x/") };
 * assert.deepEqual(await gate(info), { accept: false, status: 401, message: "Unauthorized" });
 * ```
 */
export type ConnectionGate = (info: ConnectionInfo) => Promise<ConnectionVerdict>;

/**
 * The address a {@linkcode Listener} is bound to.
 *
 * @example The port a server got when it asked for any
 * ```ts
 * import { type ListenAddr, Server } from "@gotalk/gotalk";
 * import { listen } from "@gotalk/gotalk/deno";
 * import assert from "node:assert/strict";
 *
 * const server = new Server(await listen({ hostname: "127.0.0.1", port: 0 }));
 * const addr: ListenAddr = server.addr;
 * assert.equal(addr.hostname, "127.0.0.1");
 * assert.ok(addr.port > 0);
 * await server.close();
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
 * @example Accepting one connection and answering its request
 * ```ts
 * import { Handlers, Peer } from "@gotalk/gotalk";
 * import { connect, listen } from "@gotalk/gotalk/deno";
 * import assert from "node:assert/strict";
 *
 * const listener = await listen({ hostname: "127.0.0.1", port: 0 });
 * const client = new Peer(await connect({ port: listener.addr.port }));
 * const server = new Peer((await listener.accept())!, {
 *   handlers: new Handlers().handle("ping", () => "pong"),
 * });
 * assert.equal(await client.request("ping"), "pong");
 * await client.close();
 * await server.closed;
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
  /** The kind of its connections, for {@linkcode ConnectionInfo.kind} (such as `tcp`). */
  readonly kind?: string;
  /**
   * Listeners that can check a connection before accepting it have this property: a `Server`
   * with an `onConnect` hook sets it. The WebSocket servers run it before the upgrade.
   */
  gate?: ConnectionGate | undefined;
}
