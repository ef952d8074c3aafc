// The runtime glue the `gotalk` command needs, loaded for the runtime it runs on: TCP/TLS
// connect and listen, the WebSocket client and server. Internal to the command.

import type { Listener, Transport } from "../peer/transport.ts";
import type { ConnectOptions, ListenOptions } from "../transports/socket_options.ts";
import type { ChildTransport } from "../transports/stdio_options.ts";
import type { WebSocketConnectOptions } from "../transports/websocket/client.ts";
import type { WebSocketServeOptions } from "../transports/websocket/_server_core.ts";

/** The runtimes the command runs on. */
export type RuntimeName = "deno" | "bun" | "node";

/** Which runtime this is. */
export function runtimeName(): RuntimeName {
  const g = globalThis as { Deno?: unknown; Bun?: unknown };
  return g.Deno !== undefined ? "deno" : g.Bun !== undefined ? "bun" : "node";
}

/** What the command uses of a runtime's transports. */
export interface RuntimeKit {
  readonly name: RuntimeName;
  connect(options: ConnectOptions): Promise<Transport>;
  listen(options: ListenOptions): Promise<Listener>;
  connectWebSocket(url: string | URL, options?: WebSocketConnectOptions): Promise<Transport>;
  serveWebSocket(options: WebSocketServeOptions): Promise<Listener & { readonly url: string }>;
  /** A child process's stdin/stdout as a transport (see the adapters' `spawn`). */
  spawn?(command: string, args: string[]): Promise<ChildTransport>;
  /** This process's stdin/stdout as a transport (see the adapters' `stdio`). */
  stdio?(): Transport;
}

let kit: Promise<RuntimeKit> | undefined;

/** This runtime's transports (imported once, on first use). */
export function runtimeKit(): Promise<RuntimeKit> {
  return kit ??= load(runtimeName());
}

async function load(name: RuntimeName): Promise<RuntimeKit> {
  switch (name) {
    case "deno": {
      const [tcp, ws, wsClient] = await Promise.all([
        import("../transports/deno.ts"),
        import("../transports/websocket/deno.ts"),
        import("../transports/websocket/client.ts"),
      ]);
      return {
        name,
        connect: tcp.connect,
        listen: tcp.listen,
        connectWebSocket: wsClient.connectWebSocket,
        serveWebSocket: ws.serveWebSocket,
        spawn: tcp.spawn,
        stdio: tcp.stdio,
      };
    }
    case "bun": {
      const [tcp, ws, wsClient] = await Promise.all([
        import("../transports/bun.ts"),
        import("../transports/websocket/bun.ts"),
        import("../transports/websocket/client.ts"),
      ]);
      return {
        name,
        connect: tcp.connect,
        listen: tcp.listen,
        connectWebSocket: wsClient.connectWebSocket,
        serveWebSocket: ws.serveWebSocket,
        spawn: tcp.spawn,
        stdio: tcp.stdio,
      };
    }
    case "node": {
      const [tcp, ws] = await Promise.all([
        import("../transports/node.ts"),
        import("../transports/websocket/node.ts"),
      ]);
      return {
        name,
        connect: tcp.connect,
        listen: tcp.listen,
        connectWebSocket: ws.connectWebSocket,
        serveWebSocket: ws.serveWebSocket,
        spawn: tcp.spawn,
        stdio: tcp.stdio,
      };
    }
  }
}
