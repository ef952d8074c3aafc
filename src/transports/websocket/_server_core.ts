// This module is browser compatible.

/**
 * What the WebSocket servers for Deno, Bun and Node share: options, the origin policy, the
 * routing of a request (routes hook, path, upgrade, origin) and the queue of accepted
 * connections. The public types here are re-exported by each server module.
 *
 * @module
 */

import type { ConnectionGate, ListenAddr, Listener } from "../../peer/transport.ts";
import { AcceptQueue } from "../_listener.ts";
import { checkHostname, checkPort } from "../_socket_util.ts";
import {
  transportParams,
  type WebSocketTransportOptions,
  type WebSocketTransportParams,
} from "./_connection.ts";

/**
 * Options for a WebSocket server's request handler: where it upgrades, whom it lets in, and a
 * hook for other requests.
 *
 * @example The endpoint at another path
 * ```ts
 * import { webSocketHandler, type WebSocketHandlerOptions } from "@gotalk/gotalk/websocket-deno";
 * import assert from "node:assert/strict";
 *
 * const options: WebSocketHandlerOptions = { path: "/rpc/" };
 * const gotalk = webSocketHandler(options);
 * assert.equal((await gotalk.handler(new Request("http://localhost/rpc/"))).status, 426); // wants an upgrade
 * assert.equal((await gotalk.handler(new Request("http://localhost/gotalk/"))).status, 404);
 * gotalk.close();
 * ```
 */
export interface WebSocketHandlerOptions extends WebSocketTransportOptions {
  /**
   * The path at which WebSocket upgrades are accepted (matched exactly). Gotalk's Go server and
   * gotalk.js use `/gotalk/`.
   *
   * @default {"/gotalk/"}
   */
  path?: string;
  /**
   * Decides whether an upgrade with this `Origin` header (`null` when there is none) is
   * accepted; a refused upgrade gets 403. The default, {@linkcode isSameOrigin}, accepts only an
   * origin whose host and port are those of the request's `Host` header, and refuses a missing
   * or `null` origin as the Go server does: a page on another site cannot open a connection
   * (cross-site WebSocket hijacking), and a client outside a browser must send an `Origin`, as it
   * must for Go. The `connectWebSocket` functions of this library send one that passes.
   *
   * @default {isSameOrigin}
   */
  allowOrigin?: (origin: string | null, request: Request) => boolean;
  /**
   * Consulted first for every request, upgrades included: a `Response` it returns is sent as
   * is, `undefined` passes the request on (an upgrade at `path`, or 404). The hook for serving
   * other content, such as a browser bundle at `/gotalk/gotalk.js`, or for refusing upgrades
   * (authentication).
   *
   * @default {undefined}
   */
  routes?: (request: Request) => Response | undefined | Promise<Response | undefined>;
}

/**
 * Options for `serveWebSocket`: a {@linkcode WebSocketHandlerOptions} plus where to listen.
 *
 * @example A server on any free port, at its own path
 * ```ts
 * import { Handlers, Peer, Server } from "@gotalk/gotalk";
 * import { connectWebSocket, serveWebSocket, type WebSocketServeOptions } from "@gotalk/gotalk/websocket-deno";
 * import assert from "node:assert/strict";
 *
 * const options: WebSocketServeOptions = { hostname: "127.0.0.1", port: 0, path: "/rpc/" };
 * const listener = await serveWebSocket(options);
 * const server = new Server(listener, { handlers: new Handlers().handle("ping", () => "pong") });
 * assert.match(listener.url, /^ws:\/\/127\.0\.0\.1:\d+\/rpc\/$/);
 * const client = new Peer(await connectWebSocket(listener.url));
 * assert.equal(await client.request("ping"), "pong");
 * await client.close();
 * await server.close();
 * ```
 */
export interface WebSocketServeOptions extends WebSocketHandlerOptions {
  /**
   * The address to listen on.
   *
   * @default {"127.0.0.1"}
   */
  hostname?: string;
  /** The port to listen on; 0 picks a free one. */
  port: number;
  /**
   * The largest WebSocket message accepted, in bytes; a larger one closes the connection (code
   * 1009). Gotalk sends each payload as one message, so this must be at least the peers'
   * `maxPayloadBytes`. Enforced by every `serveWebSocket`; Deno's WebSocket (under `webSocketHandler`) has no such
   * setting.
   *
   * @default {67108864}
   */
  maxMessageBytes?: number;
  /**
   * Sets `SO_REUSEPORT` (Deno's and Bun's servers), so that several processes serve one port
   * and the kernel spreads connections among them, as `listen`'s option of the same name does.
   * Node 20's server has no such option (passed on; honoured from Node 22.12): its workers
   * share the port through `node:cluster`.
   *
   * @default {false}
   */
  reusePort?: boolean;
}

/**
 * A {@linkcode Listener} whose connections are WebSockets, from `serveWebSocket`.
 *
 * @example Accepting one connection by hand
 * ```ts
 * import { Handlers, Peer } from "@gotalk/gotalk";
 * import { connectWebSocket, serveWebSocket } from "@gotalk/gotalk/websocket-deno";
 * import assert from "node:assert/strict";
 *
 * const listener = await serveWebSocket({ hostname: "127.0.0.1", port: 0 });
 * const connecting = connectWebSocket(listener.url);
 * const server = new Peer((await listener.accept())!, {
 *   handlers: new Handlers().handle("ping", () => "pong"),
 * });
 * const client = new Peer(await connecting);
 * assert.equal(await client.request("ping"), "pong");
 * await client.close();
 * await server.closed;
 * listener.close();
 * ```
 */
export interface WebSocketListener extends Listener {
  /** The WebSocket URL clients connect to, such as `ws://127.0.0.1:1234/gotalk/`. */
  readonly url: string;
}

/** Default of {@linkcode WebSocketServeOptions.maxMessageBytes}: 64 MiB. */
export const DEFAULT_MAX_MESSAGE_BYTES = 64 * 1024 * 1024;

/**
 * The default origin policy: whether `origin` names the same host and port as the request's
 * `Host` header (the scheme is not compared, since a proxy may terminate TLS). A missing or
 * `null` origin, or one that is not a URL, is refused.
 *
 * @param origin The request's `Origin` header, or `null` when it has none.
 * @param request The upgrade request.
 * @returns Whether to accept the upgrade.
 *
 * @example Allowing one more origin besides the same one
 * ```ts
 * import { isSameOrigin } from "@gotalk/gotalk/websocket-deno";
 * import assert from "node:assert/strict";
 *
 * const allowOrigin = (origin: string | null, request: Request) =>
 *   origin === "https://app.example.com" || isSameOrigin(origin, request);
 * const request = new Request("http://localhost:8080/gotalk/", {
 *   headers: { host: "localhost:8080" },
 * });
 * assert.equal(allowOrigin("http://localhost:8080", request), true);
 * assert.equal(allowOrigin("https://app.example.com", request), true);
 * assert.equal(allowOrigin("https://evil.example", request), false);
 * assert.equal(allowOrigin(null, request), false);
 * ```
 */
export function isSameOrigin(origin: string | null, request: Request): boolean {
  if (origin === null || origin === "null") return false;
  let from: URL;
  try {
    from = new URL(origin);
  } catch {
    return false;
  }
  if (from.protocol !== "http:" && from.protocol !== "https:") return false;
  const host = request.headers.get("host") ?? new URL(request.url).host;
  let to: URL;
  try {
    to = new URL(`${from.protocol}//${host}`);
  } catch {
    return false;
  }
  return from.host === to.host;
}

/** Checked and defaulted handler options. */
export interface HandlerParams {
  path: string;
  allowOrigin: (origin: string | null, request: Request) => boolean;
  routes: ((request: Request) => Response | undefined | Promise<Response | undefined>) | undefined;
  transport: WebSocketTransportParams;
}

/** Checked and defaulted serve options. */
export interface ServeParams extends HandlerParams {
  hostname: string;
  port: number;
  maxMessageBytes: number;
  reusePort: boolean;
}

/** Validates and defaults {@linkcode WebSocketHandlerOptions}. */
export function handlerParams(options: WebSocketHandlerOptions | undefined): HandlerParams {
  if (options !== undefined && (typeof options !== "object" || options === null)) {
    throw new TypeError("options must be an object");
  }
  const path = options?.path ?? "/gotalk/";
  if (typeof path !== "string" || !path.startsWith("/")) {
    throw new TypeError(`path must be a string starting with "/", got ${String(path)}`);
  }
  const { allowOrigin, routes } = options ?? {};
  if (allowOrigin !== undefined && typeof allowOrigin !== "function") {
    throw new TypeError("allowOrigin must be a function");
  }
  if (routes !== undefined && typeof routes !== "function") {
    throw new TypeError("routes must be a function");
  }
  return {
    path,
    allowOrigin: allowOrigin ?? isSameOrigin,
    routes,
    transport: transportParams(options),
  };
}

/** Validates and defaults {@linkcode WebSocketServeOptions}. */
export function serveParams(options: WebSocketServeOptions): ServeParams {
  if (typeof options !== "object" || options === null) {
    throw new TypeError("options must be an object");
  }
  const hostname = checkHostname(options.hostname);
  const port = checkPort(options.port, 0);
  const { maxMessageBytes = DEFAULT_MAX_MESSAGE_BYTES } = options;
  if (typeof maxMessageBytes !== "number") throw new TypeError("maxMessageBytes must be a number");
  if (!Number.isInteger(maxMessageBytes) || maxMessageBytes < 1) {
    throw new RangeError(`maxMessageBytes must be a positive integer, got ${maxMessageBytes}`);
  }
  const { reusePort = false } = options;
  if (typeof reusePort !== "boolean") throw new TypeError("reusePort must be a boolean");
  return { ...handlerParams(options), hostname, port, maxMessageBytes, reusePort };
}

function textResponse(status: number, text: string, headers?: Record<string, string>): Response {
  return new Response(text + "\n", {
    status,
    headers: { "content-type": "text/plain; charset=utf-8", ...headers },
  });
}

/**
 * Routes one request: the `routes` hook first, then an upgrade at `path` if the request is a
 * WebSocket upgrade from an allowed origin. Returns the response to send, or `null` to upgrade.
 */
export async function route(request: Request, params: HandlerParams): Promise<Response | null> {
  if (params.routes) {
    const response = await params.routes(request);
    if (response !== undefined) return response;
  }
  if (new URL(request.url).pathname !== params.path) return textResponse(404, "Not Found");
  const upgrade = request.headers.get("upgrade");
  if (request.method !== "GET" || upgrade === null || upgrade.toLowerCase() !== "websocket") {
    return textResponse(426, "Upgrade Required: this is a Gotalk WebSocket endpoint", {
      upgrade: "websocket",
    });
  }
  if (!params.allowOrigin(request.headers.get("origin"), request)) {
    return textResponse(403, "Forbidden: origin not allowed");
  }
  return null;
}

/** Formats the listener's URL, bracketing IPv6 addresses. */
export function listenerUrl(addr: ListenAddr, path: string): string {
  const host = addr.hostname.includes(":") ? `[${addr.hostname}]` : addr.hostname;
  return `ws://${host}:${addr.port}${path}`;
}

/**
 * The accepting side of a WebSocket server: the shared accept queue, fed by the runtime's
 * upgrade handler, with the URL clients connect to. Until {@linkcode WebSocketAcceptor.listening}
 * is called (a handler mounted in the user's own server) its `addr` is `{ hostname: "", port: 0 }`
 * and its `url` just the path.
 */
export class WebSocketAcceptor extends AcceptQueue implements WebSocketListener {
  #path: string;
  #url: string;
  /** Set by a `Server` with `onConnect`: run for each upgrade, before it happens. */
  gate: ConnectionGate | undefined = undefined;

  constructor(path: string) {
    super();
    this.#path = path;
    this.#url = path;
    this.kind = "websocket";
  }

  /**
   * Runs the gate for an upgrade `route` let through: the refusal to answer with (the gate's
   * status, 500 if it failed, 503 once closed), or `null` to upgrade.
   */
  async admit(request: Request, remoteAddr: string | undefined): Promise<Response | null> {
    const gate = this.gate;
    if (gate !== undefined) {
      let verdict;
      try {
        verdict = await gate({ kind: "websocket", remoteAddr, request });
      } catch {
        return textResponse(500, "Internal Server Error");
      }
      if (!verdict.accept) return textResponse(verdict.status, verdict.message);
    }
    return this.closed ? textResponse(503, "Service Unavailable") : null;
  }

  get url(): string {
    return this.#url;
  }

  /** Records where the acceptor's own HTTP server listens, and how to stop it. */
  override listening(addr: ListenAddr, onClose: () => void): void {
    super.listening(addr, onClose);
    this.#url = listenerUrl(addr, this.#path);
  }
}
