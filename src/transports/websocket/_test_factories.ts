/**
 * Connection factories over WebSocket for the behaviour suites: this runtime's server adapter
 * (`deno.ts`, `bun.ts` or `node.ts` here) with its client. Test-only.
 *
 * @module
 */

import type { Transport } from "../../peer/transport.ts";
import type { ConnectionFactory } from "../_test_factories.ts";
import { acceptPair, runtimeName } from "../_test_factories.ts";
import type { WebSocketConnectOptions } from "./client.ts";
import type { WebSocketListener, WebSocketServeOptions } from "./_server_core.ts";

/** What every WebSocket server module exports. */
export interface WebSocketAdapter {
  serveWebSocket(options: WebSocketServeOptions): Promise<WebSocketListener>;
  connectWebSocket(url: string | URL, options?: WebSocketConnectOptions): Promise<Transport>;
}

/** This runtime's WebSocket server module (imported dynamically: one runtime's only). */
export async function wsAdapter(): Promise<WebSocketAdapter> {
  const runtime = runtimeName();
  return runtime === "deno"
    ? await import("./deno.ts")
    : runtime === "bun"
    ? await import("./bun.ts")
    : await import("./node.ts");
}

/** A factory over `adapter`: a server on 127.0.0.1, a free port, and a client connected to it. */
export function wsFactory(
  name: string,
  adapter: WebSocketAdapter,
  connectOptions: WebSocketConnectOptions = {},
): ConnectionFactory {
  return {
    name,
    async pair() {
      const listener = await adapter.serveWebSocket({ hostname: "127.0.0.1", port: 0 });
      return await acceptPair(
        listener,
        () =>
          adapter.connectWebSocket(listener.url, {
            ...connectOptions,
            signal: AbortSignal.timeout(10_000),
          }),
      );
    },
  };
}

/**
 * The WebSocket factories for this runtime: `ws` (its server adapter and client),
 * `ws-coalesced` (the same with a client that sends each write as one message) and, on Deno and
 * Bun, `ws-node` (the `node:http` + `ws` adapter through their Node compatibility).
 */
export async function wsFactories(): Promise<ConnectionFactory[]> {
  const adapter = await wsAdapter();
  const list = [
    wsFactory("ws", adapter),
    wsFactory("ws-coalesced", adapter, { coalesceWrites: true }),
  ];
  if (runtimeName() !== "node") {
    list.push(wsFactory("ws-node", await import("./node.ts")));
  }
  return list;
}
