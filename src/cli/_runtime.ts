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

/** What each runtime's modules give the kit: its socket adapter and WebSocket modules. */
type SocketModule = Pick<RuntimeKit, "connect" | "listen" | "spawn" | "stdio">;

function kitOf(
  name: RuntimeName,
  socket: SocketModule,
  ws: Pick<RuntimeKit, "serveWebSocket">,
  client: Pick<RuntimeKit, "connectWebSocket">,
): RuntimeKit {
  const { connect, listen, spawn, stdio } = socket;
  return {
    name,
    connect,
    listen,
    spawn,
    stdio,
    connectWebSocket: client.connectWebSocket,
    serveWebSocket: ws.serveWebSocket,
  };
}

async function load(name: RuntimeName): Promise<RuntimeKit> {
  switch (name) {
    case "deno": {
      const [socket, ws, client] = await Promise.all([
        import("../transports/deno.ts"),
        import("../transports/websocket/deno.ts"),
        import("../transports/websocket/client.ts"),
      ]);
      return kitOf(name, socket, ws, client);
    }
    case "bun": {
      const [socket, ws, client] = await Promise.all([
        import("../transports/bun.ts"),
        import("../transports/websocket/bun.ts"),
        import("../transports/websocket/client.ts"),
      ]);
      return kitOf(name, socket, ws, client);
    }
    case "node": {
      // Node 20 has no global WebSocket: its WebSocket module has the client too.
      const [socket, ws] = await Promise.all([
        import("../transports/node.ts"),
        import("../transports/websocket/node.ts"),
      ]);
      return kitOf(name, socket, ws, ws);
    }
  }
}
