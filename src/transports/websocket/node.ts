/**
 * A Gotalk WebSocket server and client for Node 20 and later, on `node:http` and the
 * [`ws`](https://github.com/websockets/ws) package (a dependency of this entry point only).
 *
 * {@linkcode serveWebSocket} listens on its own port; {@linkcode webSocketHandler} gives the
 * `request` and `upgrade` listeners to attach to your own `http.Server`. Either way upgrades are
 * accepted at `/gotalk/` (see {@linkcode WebSocketHandlerOptions.path}) from same-origin pages and
 * from clients that send a matching `Origin` (see {@linkcode WebSocketHandlerOptions.allowOrigin}).
 * {@linkcode connectWebSocket} is the client, with `ws`'s `WebSocket` (Node 20 has no global one).
 *
 * Reads are pulled: the socket is paused while 64 KiB wait unread. Writes wait while more than
 * `writeHighWaterMark` bytes are buffered.
 *
 * @example A server and a client over loopback
 * ```ts
 * import { Handlers, Peer, Server } from "@gotalk/gotalk";
 * import { connectWebSocket, serveWebSocket } from "@gotalk/gotalk/websocket-node";
 * import assert from "node:assert/strict";
 *
 * const handlers = new Handlers().handle("upper", (s: string) => s.toUpperCase());
 * const server = new Server(await serveWebSocket({ hostname: "127.0.0.1", port: 0 }), { handlers });
 * const client = new Peer(await connectWebSocket(`ws://127.0.0.1:${server.addr.port}/gotalk/`));
 * assert.equal(await client.request("upper", "hi"), "HI");
 * await client.close();
 * await server.close();
 * ```
 *
 * @module
 */

import {
  createServer,
  type IncomingMessage,
  type Server as HttpServer,
  type ServerResponse,
  STATUS_CODES,
} from "node:http";
import type { Duplex } from "node:stream";
import { Readable } from "node:stream";
// @ts-ignore: `ws` ships no types; the few APIs used are declared below.
import { WebSocket as WsWebSocket, WebSocketServer as WsServer } from "ws";
import type { Transport } from "../../peer/transport.ts";
import { guardNodeServer } from "../_fd_guard.ts";
import { formatAddr } from "../_socket_util.ts";
import { awaitHead, closeWithGrace, headArrived, type WsLike } from "./_server_limits.ts";
import {
  DEFAULT_MAX_MESSAGE_BYTES,
  type HandlerParams,
  handlerParams,
  route,
  type ServeParams,
  serveParams,
  WebSocketAcceptor,
  type WebSocketHandlerOptions,
  type WebSocketListener,
  type WebSocketServeOptions,
} from "./_server_core.ts";
import { attachWebSocket } from "./_connection.ts";
import {
  connectWebSocket as connectStandard,
  type WebSocketConnectOptions,
  type WebSocketConstructor,
} from "./client.ts";

export { webSocketTransport } from "./client.ts";
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

// The few `ws` APIs used.
interface WsServerLike {
  handleUpgrade(
    request: IncomingMessage,
    socket: Duplex,
    head: Buffer,
    done: (ws: WebSocket) => void,
  ): void;
}
type WsServerConstructor = new (options: {
  noServer: true;
  maxPayload: number;
  perMessageDeflate: false;
  clientTracking: false;
}) => WsServerLike;
type WsClientConstructor = new (
  url: string,
  options: {
    protocols?: string[];
    headers?: Record<string, string>;
    perMessageDeflate: false;
    maxPayload: number;
  },
) => WebSocket;

const WsServerCtor = WsServer as WsServerConstructor;
const WsClientCtor = WsWebSocket as WsClientConstructor;

/**
 * `ws`'s client in the form {@linkcode connectWebSocket} calls, without compression (which
 * gotalk.js and the Go server do not speak).
 */
const NodeWebSocket = function (
  url: string,
  options: { protocols?: string[]; headers?: Record<string, string> },
): WebSocket {
  return new WsClientCtor(url, {
    ...options,
    perMessageDeflate: false,
    maxPayload: DEFAULT_MAX_MESSAGE_BYTES,
  });
} as unknown as WebSocketConstructor;

/**
 * Opens a WebSocket to a Gotalk server with the `ws` package, and resolves once it is open. The
 * same as `connectWebSocket` of `@gotalk/gotalk/websocket` with `options.WebSocket` defaulting to
 * `ws`'s: an `Origin` header is always sent, by default `http://HOST:PORT` of `url`.
 *
 * @param url The server's WebSocket URL, such as `ws://localhost:1234/gotalk/`.
 * @param options Origin, headers, subprotocols, abort signal and flow control.
 * @returns The connection.
 * @throws {TypeError} If `url` is not a WebSocket URL or an option has the wrong type.
 * @throws {RangeError} If a flow-control option is not a positive number.
 *
 * The promise rejects with a {@linkcode ConnectError} when the connection fails (its `address` is
 * the URL; its `code` is `ECONNREFUSED`, `ENOTFOUND`, `ETLS`, or `EUPGRADE` when the server
 * answers the upgrade with another status such as 403; its `cause` is `ws`'s error), and with the
 * signal's reason when aborted.
 *
 * @example Connecting with a timeout
 * ```ts
 * import { Handlers, Peer, Server } from "@gotalk/gotalk";
 * import { connectWebSocket, serveWebSocket } from "@gotalk/gotalk/websocket-node";
 * import assert from "node:assert/strict";
 *
 * const handlers = new Handlers().handle("ping", () => "pong");
 * const server = new Server(await serveWebSocket({ hostname: "127.0.0.1", port: 0 }), { handlers });
 * const url = `ws://127.0.0.1:${server.addr.port}/gotalk/`;
 * const client = new Peer(await connectWebSocket(url, { signal: AbortSignal.timeout(5000) }));
 * assert.equal(await client.request("ping"), "pong");
 * await client.close();
 * await server.close();
 * ```
 */
export function connectWebSocket(
  url: string | URL,
  options?: WebSocketConnectOptions,
): Promise<Transport> {
  if (options === undefined) options = {};
  if (typeof options !== "object" || options === null) {
    return Promise.reject(new TypeError("options must be an object"));
  }
  return connectStandard(url, { WebSocket: NodeWebSocket, ...options });
}

/**
 * A Gotalk WebSocket endpoint to attach to your own `http.Server` (or `https.Server`): its
 * `request` and `upgrade` listeners. It is also the {@linkcode Listener} its connections come out
 * of; `addr` is the placeholder `{ hostname: "", port: 0 }` (the HTTP server is yours).
 *
 * @example Serving a Server from your own `http.Server`
 * ```ts
 * import { Handlers, Peer, Server } from "@gotalk/gotalk";
 * import { connectWebSocket, webSocketHandler } from "@gotalk/gotalk/websocket-node";
 * import { once } from "node:events";
 * import { createServer } from "node:http";
 * import type { AddressInfo } from "node:net";
 * import assert from "node:assert/strict";
 *
 * const gotalk = webSocketHandler();
 * const server = new Server(gotalk, { handlers: new Handlers().handle("ping", () => "pong") });
 * const http = createServer().on("request", gotalk.request).on("upgrade", gotalk.upgrade);
 * await once(http.listen(0, "127.0.0.1"), "listening");
 * const { port } = http.address() as AddressInfo;
 * const client = new Peer(await connectWebSocket(`ws://127.0.0.1:${port}/gotalk/`));
 * assert.equal(await client.request("ping"), "pong");
 * await client.close();
 * await server.close();
 * await new Promise((resolve) => http.close(resolve));
 * ```
 */
export interface NodeWebSocketHandler extends WebSocketListener {
  /**
   * A `'request'` listener: what the `routes` hook returns, else 404 (426 at the path).
   *
   * @param request The request.
   * @param response Its response.
   */
  request(request: IncomingMessage, response: ServerResponse): void;
  /**
   * An `'upgrade'` listener: what the `routes` hook returns, else an upgrade at the path, 404
   * elsewhere, 403 for a refused origin.
   *
   * @param request The request.
   * @param socket Its socket.
   * @param head The first bytes after the request head.
   */
  upgrade(request: IncomingMessage, socket: Duplex, head: Buffer): void;
}

/**
 * A Gotalk WebSocket endpoint to attach to your own `http.Server` (see
 * {@linkcode NodeWebSocketHandler}). Closing it stops accepting: later upgrades get 503, while
 * connections already accepted stay open.
 *
 * @param options The path, origin policy, routes hook and flow control.
 * @returns The listeners and listener.
 * @throws {TypeError} If an option has the wrong type.
 * @throws {RangeError} If a flow-control option is out of range.
 *
 * @example Attaching to an HTTP server next to other routes
 * ```ts
 * import { Handlers, Peer, Server } from "@gotalk/gotalk";
 * import { connectWebSocket, webSocketHandler } from "@gotalk/gotalk/websocket-node";
 * import { once } from "node:events";
 * import { createServer } from "node:http";
 * import type { AddressInfo } from "node:net";
 * import assert from "node:assert/strict";
 *
 * const gotalk = webSocketHandler({
 *   routes: (request) => new URL(request.url).pathname === "/" ? new Response("hello") : undefined,
 * });
 * const server = new Server(gotalk, { handlers: new Handlers().handle("ping", () => "pong") });
 * const http = createServer().on("request", gotalk.request).on("upgrade", gotalk.upgrade);
 * await once(http.listen(0, "127.0.0.1"), "listening");
 * const { port } = http.address() as AddressInfo;
 * const client = new Peer(await connectWebSocket(`ws://127.0.0.1:${port}/gotalk/`));
 * assert.equal(await client.request("ping"), "pong");
 * await client.close();
 * await server.close();
 * await new Promise((resolve) => http.close(resolve));
 * ```
 */
export function webSocketHandler(options?: WebSocketHandlerOptions): NodeWebSocketHandler {
  return new NodeAcceptor(handlerParams(options), DEFAULT_MAX_MESSAGE_BYTES);
}

/**
 * Listens for Gotalk WebSocket connections on a `node:http` server, and resolves once bound; with
 * `port: 0`, `addr.port` is the port picked. `close()` stops the HTTP server from accepting;
 * connections already accepted stay open until closed.
 *
 * @param options Where to listen, the path, origin policy, routes hook, message size and flow
 * control.
 * @returns The listener.
 * @throws {TypeError} If an option has the wrong type.
 * @throws {RangeError} If `port` is not an integer from 0 to 65535, or a size is out of range.
 *
 * The promise rejects with the server's error (such as `EADDRINUSE`) when it cannot listen.
 *
 * @example Serving a Server
 * ```ts
 * import { Server } from "@gotalk/gotalk";
 * import { serveWebSocket } from "@gotalk/gotalk/websocket-node";
 * import assert from "node:assert/strict";
 *
 * const listener = await serveWebSocket({ hostname: "127.0.0.1", port: 0 });
 * assert.match(listener.url, /^ws:\/\/127\.0\.0\.1:\d+\/gotalk\/$/);
 * const server = new Server(listener);
 * await server.close();
 * ```
 */
export function serveWebSocket(options: WebSocketServeOptions): Promise<NodeWebSocketHandler> {
  let params: ServeParams;
  try {
    params = serveParams(options);
  } catch (error) {
    return Promise.reject(error);
  }
  const { hostname, port, reusePort } = params;
  const acceptor = new NodeAcceptor(params, params.maxMessageBytes);
  const create = (): HttpServer =>
    createServer({ noDelay: true })
      .on("connection", awaitHead)
      .on("request", acceptor.request)
      .on("upgrade", acceptor.upgrade);
  const server = create();
  return new Promise<NodeWebSocketHandler>((resolve, reject) => {
    const onError = (error: Error) => reject(error);
    server.once("error", onError);
    // `reusePort` is Node 22.12's; Node 20 ignores it (its workers share a port via cluster).
    server.listen({ host: hostname, port, ...(reusePort ? { reusePort } : {}) }, () => {
      server.off("error", onError);
      // Later server errors concern one connection (such as EMFILE), not the listener.
      server.on("error", () => {});
      const address = server.address();
      const addr = typeof address === "object" && address !== null
        ? { hostname: address.address, port: address.port }
        : { hostname, port };
      // On Deno and Bun, out of file descriptors, accept would spin or stop: see _fd_guard.ts.
      const guard = guardNodeServer(server, create, hostname, addr.port);
      acceptor.listening(addr, () => guard === null ? server.close() : guard.close());
      resolve(acceptor);
    });
  });
}

class NodeAcceptor extends WebSocketAcceptor implements NodeWebSocketHandler {
  #params: HandlerParams;
  #wss: WsServerLike;

  constructor(params: HandlerParams, maxMessageBytes: number) {
    super(params.path);
    this.#params = params;
    this.#wss = new WsServerCtor({
      noServer: true,
      maxPayload: maxMessageBytes,
      perMessageDeflate: false,
      clientTracking: false,
    });
  }

  readonly request = (req: IncomingMessage, res: ServerResponse): void => {
    headArrived(req.socket);
    this.#answer(req, res).catch(() => res.destroy());
  };

  async #answer(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const request = toRequest(req);
    const response = request === null
      ? new Response("Bad Request\n", { status: 400 })
      : (await route(request, this.#params)) ??
        new Response("Upgrade Required\n", { status: 426, headers: { upgrade: "websocket" } });
    res.statusCode = response.status;
    if (response.statusText) res.statusMessage = response.statusText;
    for (const [name, value] of headerPairs(response.headers)) res.appendHeader(name, value);
    if (response.body === null || req.method === "HEAD") {
      res.end();
      return;
    }
    for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
      if (!res.write(chunk)) await new Promise((resolve) => res.once("drain", resolve));
    }
    res.end();
  }

  readonly upgrade = (req: IncomingMessage, socket: Duplex, head: Buffer): void => {
    headArrived(req.socket);
    // Until `ws` takes the socket over, a reset must not become an unhandled 'error'.
    const onError = () => socket.destroy();
    socket.on("error", onError);
    this.#upgrade(req, socket, head, onError).catch(() => socket.destroy());
  };

  async #upgrade(
    req: IncomingMessage,
    socket: Duplex,
    head: Buffer,
    onError: () => void,
  ): Promise<void> {
    const request = toRequest(req);
    const remoteAddr = formatAddr(req.socket.remoteAddress, req.socket.remotePort);
    const refusal = request === null
      ? new Response("Bad Request\n", { status: 400 })
      : await route(request, this.#params) ?? await this.admit(request, remoteAddr);
    if (refusal !== null) {
      socket.end(await rawResponse(refusal));
      return;
    }
    // Without a gate (which knows the request it admitted by identity), the transport's
    // `request` is made again when first asked for, and not kept meanwhile.
    const href = request!.url;
    const rawHeaders = req.rawHeaders;
    const later = this.gate !== undefined
      ? request!
      : () => new Request(href, { headers: headersOf(rawHeaders) });
    this.#wss.handleUpgrade(req, socket, head, (ws) => {
      socket.off("error", onError);
      // Attached in `ws`'s callback, before any message can be emitted.
      this.push(
        attachWebSocket(
          closeWithGrace(ws as WebSocket & WsLike),
          this.#params.transport,
          remoteAddr,
          [],
          later,
        ),
      );
    });
  }
}

/** The request as a fetch `Request`, or `null` if its `Host` makes no URL. */
function toRequest(req: IncomingMessage): Request | null {
  const host = req.headers.host ?? `${req.socket.localAddress}:${req.socket.localPort}`;
  let url: URL;
  try {
    url = new URL(req.url ?? "/", `http://${host}`);
  } catch {
    return null;
  }
  const headers = headersOf(req.rawHeaders);
  const method = req.method ?? "GET";
  const hasBody = method !== "GET" && method !== "HEAD";
  const init: RequestInit & { duplex?: "half" } = { method, headers };
  if (hasBody) {
    init.body = Readable.toWeb(req) as unknown as ReadableStream<Uint8Array>;
    init.duplex = "half";
  }
  return new Request(url, init);
}

/** Node's raw header list (name, value, name, value…) as fetch `Headers`. */
function headersOf(raw: string[]): Headers {
  const headers = new Headers();
  for (let i = 0; i + 1 < raw.length; i += 2) {
    try {
      headers.append(raw[i], raw[i + 1]);
    } catch {
      // A header fetch refuses (an invalid name or value): left out.
    }
  }
  return headers;
}

function headerPairs(headers: Headers): [string, string][] {
  const pairs: [string, string][] = [];
  for (const [name, value] of headers) {
    if (name !== "set-cookie") pairs.push([name, value]);
  }
  for (const cookie of headers.getSetCookie?.() ?? []) pairs.push(["set-cookie", cookie]);
  return pairs;
}

/** A whole HTTP/1.1 response for a socket that will not be upgraded; the connection closes. */
async function rawResponse(response: Response): Promise<Uint8Array> {
  const body = new Uint8Array(await response.arrayBuffer());
  const reason = response.statusText || STATUS_CODES[response.status] || "";
  let head = `HTTP/1.1 ${response.status} ${reason}\r\n`;
  for (const [name, value] of headerPairs(response.headers)) {
    if (name !== "content-length" && name !== "connection") head += `${name}: ${value}\r\n`;
  }
  head += `content-length: ${body.byteLength}\r\nconnection: close\r\n\r\n`;
  const headBytes = new TextEncoder().encode(head);
  const out = new Uint8Array(headBytes.byteLength + body.byteLength);
  out.set(headBytes);
  out.set(body, headBytes.byteLength);
  return out;
}
