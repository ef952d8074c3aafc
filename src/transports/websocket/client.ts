// This module is browser compatible.

/**
 * The Gotalk WebSocket client, on the standard `WebSocket` API: browsers, Deno, Bun, and Node 22
 * or later (Node 20 has no global `WebSocket`: use `@gotalk/gotalk/websocket-node`, which supplies
 * the `ws` package's). Servers are in `@gotalk/gotalk/websocket-deno`, `/websocket-bun` and
 * `/websocket-node`.
 *
 * On the wire this speaks exactly like the Go reference and gotalk.js: binary messages, the
 * handshake, each header and each non-empty payload in a message of its own (gotalk.js reads
 * each message as exactly one header, and the next one as that header's whole payload), while
 * incoming messages are read as one byte stream whose message boundaries mean nothing.
 *
 * @example Talking to a Gotalk WebSocket server
 * ```ts
 * import { Handlers, Peer, Server } from "@gotalk/gotalk";
 * import { connectWebSocket } from "@gotalk/gotalk/websocket";
 * import { serveWebSocket } from "@gotalk/gotalk/websocket-deno"; // or any Gotalk server
 * import assert from "node:assert/strict";
 *
 * const server = new Server(await serveWebSocket({ hostname: "127.0.0.1", port: 0 }), {
 *   handlers: new Handlers().handle("upper", (s: string) => s.toUpperCase()),
 * });
 * const client = new Peer(await connectWebSocket(`ws://127.0.0.1:${server.addr.port}/gotalk/`));
 * assert.equal(await client.request("upper", "hi"), "HI");
 * await client.close();
 * await server.close();
 * ```
 *
 * @module
 */

import type { Transport } from "../../peer/transport.ts";
import { toConnectError } from "../_connect_error.ts";
import { closeQuietly } from "../_socket_util.ts";
import {
  attachWebSocket,
  errorOf,
  transportParams,
  type WebSocketTransportOptions,
} from "./_connection.ts";

export type { WebSocketTransportOptions } from "./_connection.ts";
export type { Transport } from "../../peer/transport.ts";
export { ConnectError } from "../../peer/errors.ts";

/**
 * A `WebSocket` constructor for {@linkcode WebSocketConnectOptions.WebSocket}. It is called as
 * `new WebSocket(url, { protocols, headers })`, the form Deno, Bun, Node 22+ and the `ws` package
 * take.
 *
 * @example The `ws` package's WebSocket, where there is no global one (Node 20)
 * ```ts
 * import { Handlers, Peer, Server } from "@gotalk/gotalk";
 * import { connectWebSocket, type WebSocketConstructor } from "@gotalk/gotalk/websocket";
 * import { serveWebSocket } from "@gotalk/gotalk/websocket-deno";
 * import { WebSocket } from "ws";
 * import assert from "node:assert/strict";
 *
 * const server = new Server(await serveWebSocket({ hostname: "127.0.0.1", port: 0 }), {
 *   handlers: new Handlers().handle("upper", (s: string) => s.toUpperCase()),
 * });
 * const url = `ws://127.0.0.1:${server.addr.port}/gotalk/`;
 * const client = new Peer(await connectWebSocket(url, { WebSocket: WebSocket as WebSocketConstructor }));
 * assert.equal(await client.request("upper", "hi"), "HI");
 * await client.close();
 * await server.close();
 * ```
 */
export type WebSocketConstructor = new (
  url: string,
  options: { protocols?: string[]; headers?: Record<string, string> },
) => WebSocket;

/**
 * Options for {@linkcode connectWebSocket}.
 *
 * @example A server that takes only its own pages' origin
 * ```ts
 * import { Server } from "@gotalk/gotalk";
 * import { connectWebSocket, type WebSocketConnectOptions } from "@gotalk/gotalk/websocket";
 * import { serveWebSocket } from "@gotalk/gotalk/websocket-deno";
 * import assert from "node:assert/strict";
 *
 * const listener = await serveWebSocket({ hostname: "127.0.0.1", port: 0 }); // same-origin only
 * const server = new Server(listener);
 * const options: WebSocketConnectOptions = { origin: "https://elsewhere.example", signal: AbortSignal.timeout(5000) };
 * await assert.rejects(connectWebSocket(`ws://127.0.0.1:${server.addr.port}/gotalk/`, options));
 * await server.close();
 * ```
 */
export interface WebSocketConnectOptions extends WebSocketTransportOptions {
  /**
   * WebSocket subprotocols to offer.
   *
   * @default {undefined}
   */
  protocols?: string | string[];
  /**
   * The `Origin` header to send. Gotalk's Go server refuses an upgrade without one, so outside
   * browsers one is always sent: by default `http://HOST:PORT` of `url` (`https://` for
   * `wss:`), which also passes the same-origin check of this library's servers. Browsers send
   * their page's origin and ignore this.
   *
   * @default {undefined}
   */
  origin?: string;
  /**
   * More request headers for the upgrade (outside browsers only; browsers ignore them).
   *
   * @default {undefined}
   */
  headers?: Record<string, string>;
  /**
   * Aborts connecting; the promise then rejects with the signal's reason.
   *
   * @default {undefined}
   */
  signal?: AbortSignal;
  /**
   * The `WebSocket` implementation to use instead of the global one (required on Node 20).
   *
   * @default {globalThis.WebSocket}
   */
  WebSocket?: WebSocketConstructor;
  /**
   * Send each chunk the peer writes as one WebSocket message (several frames, or part of a
   * large payload), instead of one message per header and per payload as the Go reference
   * does. Every known Gotalk server (Go's, this library's) reads the messages as one byte
   * stream, and gotalk.js, which needs one message per header and payload, is a browser client
   * only, so a client may do this. It matters on Deno: Deno's `WebSocket` client leaves Nagle's
   * algorithm on, so a payload message sent right after its header message waits for the
   * server's delayed ACK, about 40 ms per request; coalescing avoids that. Servers never
   * coalesce.
   *
   * @default {false}
   */
  coalesceWrites?: boolean;
}

const OPEN = 1;

/** Whether this looks like a server-side runtime, where request headers can be set. */
function canSetHeaders(): boolean {
  const g = globalThis as { Deno?: unknown; Bun?: unknown; process?: { versions?: unknown } };
  const versions = g.process?.versions as { node?: unknown } | undefined;
  return g.Deno !== undefined || g.Bun !== undefined || typeof versions?.node === "string";
}

/** The origin sent by default: the URL's own scheme (http/https), host and port. */
function defaultOrigin(url: URL): string {
  const scheme = url.protocol === "wss:" ? "https:" : "http:";
  return `${scheme}//${url.host}`;
}

function checkUrl(url: unknown): URL {
  if (typeof url !== "string" && !(url instanceof URL)) {
    throw new TypeError("url must be a string or a URL");
  }
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new TypeError(`Invalid WebSocket URL ${JSON.stringify(String(url))}`);
  }
  if (parsed.protocol === "http:") parsed.protocol = "ws:";
  else if (parsed.protocol === "https:") parsed.protocol = "wss:";
  if (parsed.protocol !== "ws:" && parsed.protocol !== "wss:") {
    throw new TypeError(`A WebSocket URL starts with ws: or wss:, got ${parsed.protocol}`);
  }
  parsed.hash = "";
  return parsed;
}

function checkConnectOptions(options: WebSocketConnectOptions): void {
  if (typeof options !== "object" || options === null) {
    throw new TypeError("options must be an object");
  }
  const { protocols, origin, headers, signal, WebSocket: ctor } = options;
  if (
    protocols !== undefined && typeof protocols !== "string" &&
    !(Array.isArray(protocols) && protocols.every((p) => typeof p === "string"))
  ) {
    throw new TypeError("protocols must be a string or an array of strings");
  }
  if (origin !== undefined && typeof origin !== "string") {
    throw new TypeError("origin must be a string");
  }
  if (
    headers !== undefined &&
    (typeof headers !== "object" || headers === null ||
      !Object.values(headers).every((v) => typeof v === "string"))
  ) {
    throw new TypeError("headers must be an object of strings");
  }
  if (signal !== undefined && !(signal instanceof AbortSignal)) {
    throw new TypeError("signal must be an AbortSignal");
  }
  if (ctor !== undefined && typeof ctor !== "function") {
    throw new TypeError("WebSocket must be a constructor");
  }
  if (options.coalesceWrites !== undefined && typeof options.coalesceWrites !== "boolean") {
    throw new TypeError("coalesceWrites must be a boolean");
  }
}

/**
 * Opens a WebSocket to a Gotalk server and resolves once it is open.
 *
 * Outside browsers an `Origin` header is always sent (see
 * {@linkcode WebSocketConnectOptions.origin}). The transport's flow control is described at
 * {@linkcode webSocketTransport}.
 *
 * @param url The server's WebSocket URL, such as `ws://localhost:1234/gotalk/` (`http:` and
 * `https:` are taken as `ws:` and `wss:`).
 * @param options Origin, headers, subprotocols, abort signal, flow control, and the `WebSocket`
 * implementation.
 * @returns The connection.
 * @throws {TypeError} If `url` is not a ws:, wss:, http: or https: URL, an option has the wrong
 * type, or there is no `WebSocket` implementation.
 * @throws {RangeError} If a flow-control option is not a positive number.
 *
 * The promise rejects with a {@linkcode ConnectError} when the connection fails (its `address` is
 * the URL; its `code` is `ECONNREFUSED`, `ENOTFOUND`, `ETLS`, `EUPGRADE` when the server answers
 * the upgrade with another status such as 403, or `ECONNECT` when the runtime gives no reason, as
 * browsers and Deno's client for a refused port do), and with the signal's reason when aborted.
 * The transport's `localAddr` is undefined: the standard `WebSocket` does not tell it.
 *
 * @example Connecting with a timeout
 * ```ts
 * import { Handlers, Peer, Server } from "@gotalk/gotalk";
 * import { connectWebSocket } from "@gotalk/gotalk/websocket";
 * import { serveWebSocket } from "@gotalk/gotalk/websocket-deno";
 * import assert from "node:assert/strict";
 *
 * const server = new Server(await serveWebSocket({ hostname: "127.0.0.1", port: 0 }), {
 *   handlers: new Handlers().handle("upper", (s: string) => s.toUpperCase()),
 * });
 * const url = `ws://127.0.0.1:${server.addr.port}/gotalk/`;
 * const client = new Peer(await connectWebSocket(url, { signal: AbortSignal.timeout(5000) }));
 * assert.equal(await client.request("upper", "hi"), "HI");
 * await client.close();
 * await server.close();
 * ```
 */
export async function connectWebSocket(
  url: string | URL,
  options?: WebSocketConnectOptions,
): Promise<Transport> {
  if (options === undefined) options = {};
  const target = checkUrl(url);
  checkConnectOptions(options);
  const params = { ...transportParams(options), coalesceWrites: options.coalesceWrites === true };
  const Ctor = options.WebSocket ??
    (globalThis as unknown as { WebSocket?: WebSocketConstructor }).WebSocket;
  if (Ctor === undefined) {
    throw new TypeError(
      "This runtime has no WebSocket: pass options.WebSocket (on Node, use @gotalk/gotalk/websocket-node)",
    );
  }
  const { signal } = options;
  signal?.throwIfAborted();
  const protocols = typeof options.protocols === "string" ? [options.protocols] : options.protocols;
  let ws: WebSocket;
  if (options.WebSocket !== undefined || canSetHeaders()) {
    const headers: Record<string, string> = { ...options.headers };
    if (!Object.keys(headers).some((k) => k.toLowerCase() === "origin")) {
      headers["Origin"] = options.origin ?? defaultOrigin(target);
    }
    ws = new Ctor(target.href, { protocols, headers });
  } else {
    const Browser = Ctor as unknown as new (url: string, protocols?: string[]) => WebSocket;
    ws = new Browser(target.href, protocols);
  }
  ws.binaryType = "arraybuffer";
  // Messages that arrive between "open" and `attach` (the `ws` package can deliver some before
  // this function resumes) are kept and replayed in order.
  const early: MessageEvent[] = [];
  const onEarly = (event: MessageEvent) => void early.push(event);
  ws.addEventListener("message", onEarly);
  await new Promise<void>((resolve, reject) => {
    let failure: unknown;
    const cleanup = () => {
      ws.removeEventListener("open", onOpen);
      ws.removeEventListener("error", onError);
      ws.removeEventListener("close", onClose);
      signal?.removeEventListener("abort", onAbort);
    };
    const onOpen = () => {
      cleanup();
      resolve();
    };
    const onError = (event: Event) => {
      failure = errorOf(event);
    };
    const onClose = (event: CloseEvent) => {
      cleanup();
      ws.removeEventListener("message", onEarly);
      reject(
        toConnectError(
          target.href,
          failure,
          "websocket",
          `the WebSocket closed (code ${event.code}) before it opened`,
        ),
      );
    };
    const onAbort = () => {
      cleanup();
      ws.removeEventListener("message", onEarly);
      closeQuietly(ws, 1000);
      reject(signal!.reason);
    };
    ws.addEventListener("open", onOpen);
    ws.addEventListener("error", onError);
    ws.addEventListener("close", onClose);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
  ws.removeEventListener("message", onEarly);
  return attachWebSocket(ws, params, target.host, early);
}

/**
 * Wraps an open standard `WebSocket` (or one from the `ws` package) as a {@linkcode Transport}.
 * The transport owns the socket from then on: it sets `binaryType` and listens to its events.
 *
 * Writes re-split the byte stream so that the handshake, each header and each non-empty payload
 * go out as one binary message each, and wait while the socket's `bufferedAmount` is above
 * `writeHighWaterMark`. Incoming binary and text messages are one byte stream. Where the socket
 * can be paused (Bun's `WebSocket` and the `ws` package's have `pause()`), reading pauses while
 * 64 KiB wait unread; a standard WebSocket cannot be paused, so when more than
 * `maxReadBufferBytes` wait unread the connection fails rather than buffering without bound.
 *
 * A WebSocket has no half-close: closing the `writable` closes the WebSocket (code 1000) once
 * what was sent has left, and the `readable` ends when the remote completes the close. A remote
 * close with code 1000, 1001, 1005 or 4000–4003 (gotalk.js closes with 4000 + a ProtocolError
 * code, after sending it) ends the `readable`; any other code errors it with a
 * {@linkcode ConnectionClosedError}. `close()` closes the WebSocket with code 1000.
 *
 * @param ws An open WebSocket.
 * @param options Flow control.
 * @returns The transport.
 * @throws {TypeError} If `ws` is not open.
 * @throws {RangeError} If a flow-control option is not a positive number.
 *
 * @example Wrapping a WebSocket opened elsewhere
 * ```ts
 * import { Handlers, Peer, Server } from "@gotalk/gotalk";
 * import { webSocketTransport } from "@gotalk/gotalk/websocket";
 * import { serveWebSocket } from "@gotalk/gotalk/websocket-deno";
 * import assert from "node:assert/strict";
 *
 * // Deno's own WebSocket sends no Origin header, which the default policy refuses.
 * const listener = await serveWebSocket({ hostname: "127.0.0.1", port: 0, allowOrigin: () => true });
 * const server = new Server(listener, {
 *   handlers: new Handlers().handle("upper", (s: string) => s.toUpperCase()),
 * });
 * const ws = new WebSocket(`ws://127.0.0.1:${server.addr.port}/gotalk/`);
 * await new Promise((resolve, reject) => Object.assign(ws, { onopen: resolve, onerror: reject }));
 * const client = new Peer(webSocketTransport(ws));
 * assert.equal(await client.request("upper", "hi"), "HI");
 * await client.close();
 * await server.close();
 * ```
 */
export function webSocketTransport(
  ws: WebSocket,
  options?: WebSocketTransportOptions,
): Transport {
  const params = transportParams(options);
  if (typeof ws !== "object" || ws === null || typeof ws.send !== "function") {
    throw new TypeError("ws must be a WebSocket");
  }
  if (ws.readyState !== OPEN) throw new TypeError("The WebSocket is not open");
  let remoteAddr: string | undefined;
  try {
    remoteAddr = ws.url ? new URL(ws.url).host : undefined;
  } catch {
    remoteAddr = undefined;
  }
  return attachWebSocket(ws, params, remoteAddr);
}
