/**
 * A Gotalk WebSocket server for Deno, plus the WebSocket client (`connectWebSocket`,
 * re-exported from `@gotalk/gotalk/websocket`). {@linkcode serveWebSocket} runs on `node:http`
 * and the [`ws`](https://github.com/websockets/ws) package, which close every RFC 6455
 * violation with its code (Deno's own WebSocket takes unmasked frames and drops the connection
 * without a close frame) and survive running out of file descriptors (`Deno.serve` dies of it);
 * {@linkcode webSocketHandler} mounts in your own `Deno.serve`, with `Deno.upgradeWebSocket`.
 *
 * {@linkcode serveWebSocket} listens on its own port; {@linkcode webSocketHandler} gives a
 * request handler to mount in your own `Deno.serve`. Either way upgrades are accepted at
 * `/gotalk/` (see {@linkcode WebSocketHandlerOptions.path}) from same-origin pages and from
 * clients that send a matching `Origin` (see {@linkcode WebSocketHandlerOptions.allowOrigin}),
 * and each connection comes out of `accept()` as a {@linkcode Transport} with the wire behaviour
 * described at `webSocketTransport`.
 *
 * @example A server and a client over loopback
 * ```ts
 * import { Handlers, Peer, Server } from "@gotalk/gotalk";
 * import { connectWebSocket, serveWebSocket } from "@gotalk/gotalk/websocket-deno";
 * import assert from "node:assert/strict";
 *
 * const handlers = new Handlers().handle("upper", (s: string) => s.toUpperCase());
 * const server = new Server(await serveWebSocket({ port: 0 }), { handlers });
 * const url = `ws://127.0.0.1:${server.addr.port}/gotalk/`;
 * const client = new Peer(await connectWebSocket(url));
 * assert.equal(await client.request("upper", "hi"), "HI");
 * await client.close();
 * await server.close();
 * ```
 *
 * @module
 */

import type { Transport } from "../../peer/transport.ts";
import { closeQuietly, formatAddr } from "../_socket_util.ts";
import {
  type HandlerParams,
  handlerParams,
  route,
  WebSocketAcceptor,
  type WebSocketHandlerOptions,
  type WebSocketListener,
  type WebSocketServeOptions,
} from "./_server_core.ts";
import { attachWebSocket } from "./_connection.ts";
import { serveWebSocket as serveOnNodeHttp } from "./node.ts";

export { connectWebSocket, webSocketTransport } from "./client.ts";
export type {
  WebSocketConnectOptions,
  WebSocketConstructor,
  WebSocketTransportOptions,
} from "./client.ts";
export { isSameOrigin } from "./_server_core.ts";
export type {
  WebSocketHandlerOptions,
  WebSocketListener,
  WebSocketServeOptions,
} from "./_server_core.ts";
export type { ListenAddr, Listener } from "../../peer/transport.ts";
export type { Transport } from "../../peer/transport.ts";
export { ConnectError } from "../../peer/errors.ts";

// The few Deno APIs used, declared here so that the file also compiles without Deno's types.
interface DenoNetAddr {
  hostname: string;
  port: number;
}
/**
 * The part of `Deno.serve`'s second handler argument (`Deno.ServeHandlerInfo`) this adapter
 * uses: the client's address.
 *
 * @example Passing the connection info on, for the peers' `remoteAddr`
 * ```ts
 * import { Peer, type Session, Server } from "@gotalk/gotalk";
 * import { connectWebSocket, type DenoServeInfo, webSocketHandler } from "@gotalk/gotalk/websocket-deno";
 * import assert from "node:assert/strict";
 *
 * const gotalk = webSocketHandler();
 * const joined = Promise.withResolvers<Session & { remoteAddr?: string }>();
 * const server = new Server(gotalk, { onPeer: joined.resolve });
 * const serve = (request: Request, info: DenoServeInfo) => gotalk.handler(request, info);
 * const http = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, serve);
 * const client = new Peer(await connectWebSocket(`ws://127.0.0.1:${http.addr.port}/gotalk/`));
 * assert.match((await joined.promise).remoteAddr ?? "", /^127\.0\.0\.1:\d+$/);
 * await client.close();
 * await server.close();
 * await http.shutdown();
 * ```
 */
export interface DenoServeInfo {
  /** The client's address. */
  remoteAddr: { hostname: string; port: number };
}
interface DenoHttpServer {
  readonly addr: DenoNetAddr;
  shutdown(): Promise<void>;
}
interface DenoLike {
  serve(
    options: {
      hostname: string;
      port: number;
      reusePort: boolean;
      onListen: (addr: DenoNetAddr) => void;
    },
    handler: (request: Request, info: DenoServeInfo) => Promise<Response>,
  ): DenoHttpServer;
  upgradeWebSocket(request: Request): { socket: WebSocket; response: Response };
}

function deno(): DenoLike {
  const value = (globalThis as unknown as { Deno?: DenoLike }).Deno;
  if (value === undefined) throw new TypeError("This adapter needs the Deno runtime");
  return value;
}

/**
 * The request handler of a Gotalk WebSocket endpoint, to mount in your own `Deno.serve`, and
 * the {@linkcode Listener} its connections come out of. Its `addr` is the placeholder
 * `{ hostname: "", port: 0 }` (the HTTP server is yours) and `url` is just the path.
 *
 * @example A plain request at the WebSocket path
 * ```ts
 * import { webSocketHandler } from "@gotalk/gotalk/websocket-deno";
 * import assert from "node:assert/strict";
 *
 * const gotalk = webSocketHandler();
 * const response = await gotalk.handler(new Request("http://localhost/gotalk/"));
 * assert.equal(response.status, 426); // Upgrade Required
 * const elsewhere = await gotalk.handler(new Request("http://localhost/other"));
 * assert.equal(elsewhere.status, 404);
 * gotalk.close();
 * ```
 */
export interface DenoWebSocketHandler extends WebSocketListener {
  /**
   * Answers one request: what the `routes` hook returns, else an upgrade at the path (404
   * elsewhere, 426 for a plain request at the path, 403 for a refused origin).
   *
   * @param request The request.
   * @param info `Deno.serve`'s connection info, for the transports' `remoteAddr`.
   * @returns The response.
   */
  handler(request: Request, info?: DenoServeInfo): Promise<Response>;
}

/**
 * A Gotalk WebSocket endpoint to mount in your own `Deno.serve` (see
 * {@linkcode DenoWebSocketHandler}). Closing it stops accepting: later upgrades get 503, while
 * connections already accepted stay open.
 *
 * @param options The path, origin policy, routes hook and flow control.
 * @returns The handler and listener.
 * @throws {TypeError} If an option has the wrong type.
 * @throws {RangeError} If a flow-control option is out of range.
 *
 * @example Mounting next to other routes
 * ```ts
 * import { Handlers, Peer, Server } from "@gotalk/gotalk";
 * import { connectWebSocket, webSocketHandler } from "@gotalk/gotalk/websocket-deno";
 * import assert from "node:assert/strict";
 *
 * const gotalk = webSocketHandler({
 *   routes: (request) => new URL(request.url).pathname === "/" ? new Response("hello") : undefined,
 * });
 * const server = new Server(gotalk, { handlers: new Handlers().handle("ping", () => "pong") });
 * const http = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, gotalk.handler);
 * assert.equal(await (await fetch(`http://127.0.0.1:${http.addr.port}/`)).text(), "hello");
 * const client = new Peer(await connectWebSocket(`ws://127.0.0.1:${http.addr.port}/gotalk/`));
 * assert.equal(await client.request("ping"), "pong");
 * await client.close();
 * await server.close();
 * await http.shutdown();
 * ```
 */
export function webSocketHandler(options?: WebSocketHandlerOptions): DenoWebSocketHandler {
  return new DenoAcceptor(handlerParams(options));
}

/**
 * Listens for Gotalk WebSocket connections on `Deno.serve`, and resolves once bound; with
 * `port: 0`, `addr.port` is the port picked. `close()` stops the HTTP server from accepting;
 * connections already accepted stay open until closed.
 *
 * @param options Where to listen, the path, origin policy, routes hook and flow control.
 * @returns The listener, whose `handler` can also be mounted elsewhere.
 * @throws {TypeError} If an option has the wrong type.
 * @throws {RangeError} If `port` is not an integer from 0 to 65535, or a flow-control option is
 * out of range.
 *
 * The promise rejects with Deno's error (such as `Deno.errors.AddrInUse`) when it cannot listen.
 *
 * @example Serving a Server
 * ```ts
 * import { Server } from "@gotalk/gotalk";
 * import { serveWebSocket } from "@gotalk/gotalk/websocket-deno";
 * import assert from "node:assert/strict";
 *
 * const listener = await serveWebSocket({ hostname: "127.0.0.1", port: 0 });
 * assert.match(listener.url, /^ws:\/\/127\.0\.0\.1:\d+\/gotalk\/$/);
 * const server = new Server(listener);
 * await server.close();
 * ```
 */
export async function serveWebSocket(
  options: WebSocketServeOptions,
): Promise<DenoWebSocketHandler> {
  const params = handlerParams(options);
  // Served by `node:http` and `ws`, not `Deno.serve`: Deno's WebSocket takes unmasked client
  // frames, drops the TCP connection without a close frame on protocol violations, and Deno.serve
  // dies of an uncaught error once out of file descriptors (see the module docs).
  const listener = await serveOnNodeHttp(options);
  // The listener is a WebSocketAcceptor too: connections upgraded by `handler` join its queue.
  const handler = upgradeHandler(params, listener as unknown as Sink);
  return Object.assign(listener, { handler });
}

class DenoAcceptor extends WebSocketAcceptor implements DenoWebSocketHandler {
  constructor(params: HandlerParams) {
    super(params.path);
    this.handler = upgradeHandler(params, this);
  }

  readonly handler: (request: Request, info?: DenoServeInfo) => Promise<Response>;
}

/** Where upgraded connections go: a {@linkcode WebSocketAcceptor}. */
interface Sink {
  readonly closed: boolean;
  push(transport: Transport): void;
  admit(request: Request, remoteAddr: string | undefined): Promise<Response | null>;
}

/** A `Deno.serve` handler whose upgraded connections go to `acceptor`. */
function upgradeHandler(
  params: HandlerParams,
  acceptor: Sink,
): (request: Request, info?: DenoServeInfo) => Promise<Response> {
  return async (request, info) => {
    // Read first: Deno's `info.remoteAddr` is gone once the request is upgraded.
    const remoteAddr = info
      ? formatAddr(info.remoteAddr.hostname, info.remoteAddr.port)
      : undefined;
    const refusal = await route(request, params) ?? await acceptor.admit(request, remoteAddr);
    if (refusal !== null) return refusal;
    if (acceptor.closed) return new Response("Service Unavailable\n", { status: 503 });
    const { socket, response } = deno().upgradeWebSocket(request);
    socket.addEventListener("open", () => {
      if (acceptor.closed) {
        closeQuietly(socket, 1001);
        return;
      }
      // Attached inside the "open" event: no message can have arrived before.
      const transport: Transport = attachWebSocket(
        socket,
        params.transport,
        remoteAddr,
        [],
        request,
      );
      acceptor.push(transport);
    }, { once: true });
    return response;
  };
}
