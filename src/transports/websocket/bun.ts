/**
 * A Gotalk WebSocket server for Bun, on `Bun.serve` and its `websocket` handlers, plus the
 * WebSocket client (`connectWebSocket`, re-exported from `@gotalk/gotalk/websocket`).
 *
 * {@linkcode serveWebSocket} listens on its own port; {@linkcode webSocketHandler} gives the
 * `fetch` and `websocket` members to mount in your own `Bun.serve`. Either way upgrades are
 * accepted at `/gotalk/` (see {@linkcode WebSocketHandlerOptions.path}) from same-origin pages and
 * from clients that send a matching `Origin` (see {@linkcode WebSocketHandlerOptions.allowOrigin}).
 *
 * Flow control uses Bun's own: reading pauses while 64 KiB wait unread, and writes wait for
 * `drain` while more than `writeHighWaterMark` bytes are buffered.
 *
 * @example A server and a client over loopback
 * (Bun only: the doc tests run on Deno and skip it.)
 * ```ts ignore
 * import { Handlers, Peer, Server } from "@gotalk/gotalk";
 * import { connectWebSocket, serveWebSocket } from "@gotalk/gotalk/websocket-bun";
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

import { ConnectionClosedError } from "../../peer/errors.ts";
import { FdGuard } from "../_fd_guard.ts";
import { formatAddr } from "../_socket_util.ts";
import {
  DEFAULT_MAX_MESSAGE_BYTES,
  type HandlerParams,
  handlerParams,
  route,
  serveParams,
  WebSocketAcceptor,
  type WebSocketHandlerOptions,
  type WebSocketListener,
  type WebSocketServeOptions,
} from "./_server_core.ts";
import { messageBytes, WebSocketConnection, type WebSocketTransportParams } from "./_connection.ts";

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

// The few Bun APIs used, declared here so that the file also compiles without Bun's types.
interface BunSocketData {
  remoteAddr: string;
  /** The upgrade request, for the transport. */
  request?: Request;
  connection?: WebSocketConnection;
}

/**
 * The part of Bun's `ServerWebSocket` this adapter uses.
 *
 * @example Seeing each connection close, then passing the event on
 * (Bun only: the doc tests run on Deno and skip it.)
 * ```ts ignore
 * import { Handlers, Peer, Server } from "@gotalk/gotalk";
 * import { type BunServerWebSocket, connectWebSocket, webSocketHandler } from "@gotalk/gotalk/websocket-bun";
 * import assert from "node:assert/strict";
 *
 * const gotalk = webSocketHandler();
 * const server = new Server(gotalk, { handlers: new Handlers().handle("ping", () => "pong") });
 * const codes: number[] = [];
 * const websocket = {
 *   ...gotalk.websocket,
 *   close(ws: BunServerWebSocket, code: number, reason: string) {
 *     codes.push(code);
 *     gotalk.websocket.close(ws, code, reason);
 *   },
 * };
 * const http = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: gotalk.fetch, websocket });
 * const client = new Peer(await connectWebSocket(`ws://127.0.0.1:${http.port}/gotalk/`));
 * assert.equal(await client.request("ping"), "pong");
 * await client.close();
 * await server.close();
 * assert.deepEqual(codes, [1000]);
 * http.stop();
 * ```
 */
export interface BunServerWebSocket {
  /** What `server.upgrade` attached. */
  data: unknown;
  /** Sends a message: bytes sent, -1 when queued under backpressure, 0 when dropped. */
  send(data: Uint8Array): number;
  /** Starts the closing handshake. */
  close(code?: number, reason?: string): void;
  /** Bytes queued and not yet sent. */
  getBufferedAmount(): number;
  /** Runs `f` with the socket's writes held back, sent together after it (Bun 1.1+). */
  cork?(f: () => void): void;
  /** Stops reading from the socket. */
  pause?(): void;
  /** Reads again. */
  resume?(): void;
}

/**
 * The part of Bun's `Server` this adapter uses.
 *
 * @example Calling the endpoint from a `fetch` of your own
 * (Bun only: the doc tests run on Deno and skip it.)
 * ```ts ignore
 * import { Handlers, Peer, Server } from "@gotalk/gotalk";
 * import { type BunServer, connectWebSocket, webSocketHandler } from "@gotalk/gotalk/websocket-bun";
 * import assert from "node:assert/strict";
 *
 * const gotalk = webSocketHandler();
 * const server = new Server(gotalk, { handlers: new Handlers().handle("ping", () => "pong") });
 * const fetch = (request: Request, bun: BunServer) =>
 *   new URL(request.url).pathname === "/" ? new Response("hello") : gotalk.fetch(request, bun);
 * const http = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch, websocket: gotalk.websocket });
 * assert.equal(await (await globalThis.fetch(`http://127.0.0.1:${http.port}/`)).text(), "hello");
 * const client = new Peer(await connectWebSocket(`ws://127.0.0.1:${http.port}/gotalk/`));
 * assert.equal(await client.request("ping"), "pong");
 * await client.close();
 * await server.close();
 * http.stop();
 * ```
 */
export interface BunServer {
  /** Upgrades the request; `false` if it is not a valid upgrade. */
  upgrade(request: Request, options: { data: unknown }): boolean;
  /** The client's address. */
  requestIP(request: Request): { address: string; port: number } | null;
}

/**
 * The `websocket` member of `Bun.serve`'s options.
 *
 * @example Its settings, as Bun gets them
 * (Bun only: the doc tests run on Deno and skip it.)
 * ```ts ignore
 * import { Handlers, Peer, Server } from "@gotalk/gotalk";
 * import { connectWebSocket, webSocketHandler } from "@gotalk/gotalk/websocket-bun";
 * import assert from "node:assert/strict";
 *
 * const gotalk = webSocketHandler();
 * assert.equal(gotalk.websocket.perMessageDeflate, false); // neither gotalk.js nor Go compresses
 * const server = new Server(gotalk, { handlers: new Handlers().handle("ping", () => "pong") });
 * const http = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: gotalk.fetch, websocket: gotalk.websocket });
 * const client = new Peer(await connectWebSocket(`ws://127.0.0.1:${http.port}/gotalk/`));
 * assert.equal(await client.request("ping"), "pong");
 * await client.close();
 * await server.close();
 * http.stop();
 * ```
 */
export interface BunWebSocketHandlers {
  /** The largest message accepted. */
  maxPayloadLength: number;
  /** Bytes Bun buffers per connection before it drops messages (set high: writes wait long before). */
  backpressureLimit: number;
  /** Never: writes wait for `drain` instead. */
  closeOnBackpressureLimit: false;
  /** Off: gotalk.js and the Go server do not compress. */
  perMessageDeflate: false;
  /** A connection opened. */
  open(ws: BunServerWebSocket): void;
  /** A message arrived. */
  message(ws: BunServerWebSocket, message: string | Uint8Array): void;
  /** The send buffer drained. */
  drain(ws: BunServerWebSocket): void;
  /** The connection closed. */
  close(ws: BunServerWebSocket, code: number, reason: string): void;
}

/**
 * A Gotalk WebSocket endpoint to mount in your own `Bun.serve`: pass its `fetch` (or call it from
 * yours) and its `websocket`. It is also the {@linkcode Listener} its connections come out of;
 * `addr` is the placeholder `{ hostname: "", port: 0 }` (the HTTP server is yours).
 *
 * @example Mounting in Bun.serve
 * (Bun only: the doc tests run on Deno and skip it.)
 * ```ts ignore
 * import { Handlers, Peer, Server } from "@gotalk/gotalk";
 * import { connectWebSocket, webSocketHandler } from "@gotalk/gotalk/websocket-bun";
 * import assert from "node:assert/strict";
 *
 * const gotalk = webSocketHandler();
 * const server = new Server(gotalk, { handlers: new Handlers().handle("ping", () => "pong") });
 * const http = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: gotalk.fetch, websocket: gotalk.websocket });
 * const client = new Peer(await connectWebSocket(`ws://127.0.0.1:${http.port}/gotalk/`));
 * assert.equal(await client.request("ping"), "pong");
 * await client.close();
 * await server.close();
 * http.stop();
 * ```
 */
export interface BunWebSocketHandler extends WebSocketListener {
  /**
   * Answers one request: what the `routes` hook returns, else an upgrade at the path (then
   * `undefined`, as Bun expects), 404 elsewhere, 426 for a plain request at the path, 403 for a
   * refused origin.
   *
   * @param request The request.
   * @param server The Bun server.
   * @returns The response, or `undefined` once upgraded.
   */
  fetch(request: Request, server: BunServer): Promise<Response | undefined>;
  /** The `websocket` handlers for `Bun.serve`. */
  readonly websocket: BunWebSocketHandlers;
}

interface BunHttpServer {
  readonly hostname: string;
  readonly port: number;
  stop(closeActiveConnections?: boolean): void;
}
interface BunLike {
  serve(options: {
    hostname: string;
    port: number;
    reusePort: boolean;
    fetch(request: Request, server: BunServer): Promise<Response | undefined>;
    websocket: BunWebSocketHandlers;
  }): BunHttpServer;
}

function bun(): BunLike {
  const value = (globalThis as unknown as { Bun?: BunLike }).Bun;
  if (value === undefined) throw new TypeError("This adapter needs the Bun runtime");
  return value;
}

/**
 * A Gotalk WebSocket endpoint to mount in your own `Bun.serve` (see
 * {@linkcode BunWebSocketHandler}). Closing it stops accepting: later upgrades get 503, while
 * connections already accepted stay open.
 *
 * @param options The path, origin policy, routes hook and flow control.
 * @returns The handlers and listener.
 * @throws {TypeError} If an option has the wrong type.
 * @throws {RangeError} If a flow-control option is out of range.
 *
 * @example Mounting next to other routes
 * (Bun only: the doc tests run on Deno and skip it.)
 * ```ts ignore
 * import { Handlers, Peer, Server } from "@gotalk/gotalk";
 * import { connectWebSocket, webSocketHandler } from "@gotalk/gotalk/websocket-bun";
 * import assert from "node:assert/strict";
 *
 * const gotalk = webSocketHandler({
 *   routes: (request) => new URL(request.url).pathname === "/" ? new Response("hello") : undefined,
 * });
 * const server = new Server(gotalk, { handlers: new Handlers().handle("ping", () => "pong") });
 * const http = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: gotalk.fetch, websocket: gotalk.websocket });
 * assert.equal(await (await fetch(`http://127.0.0.1:${http.port}/`)).text(), "hello");
 * const client = new Peer(await connectWebSocket(`ws://127.0.0.1:${http.port}/gotalk/`));
 * assert.equal(await client.request("ping"), "pong");
 * await client.close();
 * await server.close();
 * http.stop();
 * ```
 */
export function webSocketHandler(options?: WebSocketHandlerOptions): BunWebSocketHandler {
  return new BunAcceptor(handlerParams(options), DEFAULT_MAX_MESSAGE_BYTES);
}

/**
 * Listens for Gotalk WebSocket connections on `Bun.serve`, and resolves once bound; with
 * `port: 0`, `addr.port` is the port picked. `close()` stops the HTTP server from accepting;
 * connections already accepted stay open until closed.
 *
 * @param options Where to listen, the path, origin policy, routes hook, message size and flow
 * control.
 * @returns The listener.
 * @throws {TypeError} If an option has the wrong type.
 * @throws {RangeError} If `port` is not an integer from 0 to 65535, or a size is out of range.
 *
 * The promise rejects with Bun's error (such as `EADDRINUSE`) when it cannot listen.
 *
 * @example Serving a Server
 * (Bun only: the doc tests run on Deno and skip it.)
 * ```ts ignore
 * import { Handlers, Peer, Server } from "@gotalk/gotalk";
 * import { connectWebSocket, serveWebSocket } from "@gotalk/gotalk/websocket-bun";
 * import assert from "node:assert/strict";
 *
 * const listener = await serveWebSocket({ hostname: "127.0.0.1", port: 0 });
 * assert.match(listener.url, /^ws:\/\/127\.0\.0\.1:\d+\/gotalk\/$/);
 * const server = new Server(listener, { handlers: new Handlers().handle("ping", () => "pong") });
 * const client = new Peer(await connectWebSocket(listener.url));
 * assert.equal(await client.request("ping"), "pong");
 * await client.close();
 * await server.close();
 * ```
 */
export function serveWebSocket(options: WebSocketServeOptions): Promise<BunWebSocketHandler> {
  try {
    const params = serveParams(options);
    const acceptor = new BunAcceptor(params, params.maxMessageBytes);
    const serve = (port: number) =>
      bun().serve({
        hostname: params.hostname,
        port,
        reusePort: params.reusePort,
        fetch: acceptor.fetch,
        websocket: acceptor.websocket,
      });
    const server = serve(params.port);
    const stopper = (s: { stop(closeActive?: boolean): void }) => () => s.stop(false);
    // Out of file descriptors, Bun's HTTP server would spin on accept: see _fd_guard.ts.
    // (Bun's `port` reads 0 once stopped: keep the one first bound.)
    const bound = { hostname: server.hostname, port: server.port };
    const guard = new FdGuard(() => stopper(serve(bound.port)), stopper(server));
    acceptor.listening(bound, () => guard.close());
    return Promise.resolve(acceptor);
  } catch (error) {
    return Promise.reject(error);
  }
}

class BunAcceptor extends WebSocketAcceptor implements BunWebSocketHandler {
  #params: HandlerParams;
  readonly websocket: BunWebSocketHandlers;

  constructor(params: HandlerParams, maxMessageBytes: number) {
    super(params.path);
    this.#params = params;
    this.websocket = websocketHandlers(this, params.transport, maxMessageBytes);
  }

  readonly fetch = async (request: Request, server: BunServer): Promise<Response | undefined> => {
    const ip = server.requestIP(request);
    const remoteAddr = formatAddr(ip?.address, ip?.port);
    const refusal = await route(request, this.#params) ?? await this.admit(request, remoteAddr);
    if (refusal !== null) return refusal;
    const data: BunSocketData = { remoteAddr, request };
    if (server.upgrade(request, { data })) return undefined;
    return new Response("Bad Request: not a valid WebSocket upgrade\n", { status: 400 });
  };
}

/** Bun's `websocket` handlers, feeding the connections to `acceptor`. */
function websocketHandlers(
  acceptor: WebSocketAcceptor,
  params: WebSocketTransportParams,
  maxMessageBytes: number,
): BunWebSocketHandlers {
  return {
    maxPayloadLength: maxMessageBytes,
    // Writes wait for `drain` past `writeHighWaterMark`; Bun would drop a message over this
    // limit, so it is set as high as Bun allows.
    backpressureLimit: 2 ** 32 - 1,
    closeOnBackpressureLimit: false,
    perMessageDeflate: false,
    open(ws) {
      const data = ws.data as BunSocketData;
      if (acceptor.closed) {
        ws.close(1001, "");
        return;
      }
      const connection = new WebSocketConnection(
        {
          send(bytes) {
            if (ws.send(bytes) === 0) {
              throw new ConnectionClosedError("The WebSocket dropped a message");
            }
          },
          bufferedAmount: () => ws.getBufferedAmount(),
          close: (code, reason) => ws.close(code, reason),
          pause: ws.pause && (() => ws.pause!()),
          resume: ws.resume && (() => ws.resume!()),
          // The messages of one chunk (its frames' headers and payloads) in one write.
          batch: ws.cork && ((sends) => ws.cork!(sends)),
        },
        params,
        data.remoteAddr,
        data.request,
      );
      data.connection = connection;
      acceptor.push(connection.transport);
    },
    message(ws, message) {
      const bytes = messageBytes(message);
      if (bytes !== null) (ws.data as BunSocketData).connection?.received(bytes);
    },
    drain(ws) {
      (ws.data as BunSocketData).connection?.drained();
    },
    close(ws, code, reason) {
      (ws.data as BunSocketData).connection?.closed(code, reason);
    },
  };
}
