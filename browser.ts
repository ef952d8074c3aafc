// This module is browser compatible.

/**
 * The entry point of the browser bundle (`scripts/build_browser.ts` builds it into
 * `.build/browser/gotalk.js`, one ESM file; both packages ship it as
 * `@gotalk/gotalk/browser-bundle`, which `browserBundleRoute()` serves): everything in `mod.ts` (peers, handlers, servers,
 * {@linkcode ReconnectingPeer}, the wire codec) plus the WebSocket client of
 * `@gotalk/gotalk/websocket`. Nothing runtime-specific: no `node:` modules, no Deno or Bun APIs.
 *
 * A page loads the bundle from wherever it is served, such as `/gotalk/gotalk.js` (see
 * `src/server/bundle_route.ts`), next to the Gotalk WebSocket endpoint at `/gotalk/`.
 *
 * @example A page that stays connected
 * ```ts ignore
 * import { connectWebSocket, Handlers, ReconnectingPeer } from "/gotalk/gotalk.js";
 *
 * const handlers = new Handlers().handleNotification("message", (m) => console.log(m));
 * const client = new ReconnectingPeer({
 *   connect: (signal) => connectWebSocket(new URL("/gotalk/", location.href), { signal }),
 *   handlers,
 * });
 * console.log(await client.request("echo", "hello"));
 * ```
 *
 * @example The same API, checked here over an in-memory pipe
 * ```ts
 * import { Handlers, Peer, pipePair } from "./browser.ts";
 * import assert from "node:assert/strict";
 *
 * const [a, b] = pipePair();
 * const server = new Peer(a, { handlers: new Handlers().handle("echo", (v: string) => v) });
 * const client = new Peer(b);
 * assert.equal(await client.request("echo", "hi"), "hi");
 * await client.close();
 * await server.closed;
 * ```
 *
 * @module
 */

export * from "./mod.ts";
export { connectWebSocket, webSocketTransport } from "./src/transports/websocket/client.ts";
export type {
  WebSocketConnectOptions,
  WebSocketConstructor,
  WebSocketTransportOptions,
} from "./src/transports/websocket/client.ts";
