/**
 * A child process for the fd-exhaustion tests: serves `echo` with a {@linkcode Server} on this
 * runtime's listener, prints `READY <port>` and then one `ERROR <code>` line per failed accept
 * (at most one a second is expected: that is the backoff). Run it under a low `ulimit -n`.
 * Test-only.
 *
 * Usage: `_test_fd_child.ts tcp|tls|ws [node]` (`node`: the `node:net` / `node:http` adapters,
 * on Deno and Bun too). It runs until killed: it installs no signal or stdin handler, since
 * Deno panics when it registers one once out of descriptors.
 *
 * @module
 */

import process from "node:process";
import { Handlers } from "../peer/handlers.ts";
import type { Listener } from "../peer/transport.ts";
import { Server } from "../server/server.ts";
import { runtimeName, testCertificate } from "./_test_factories.ts";
import type { ConnectOptions, ListenOptions } from "./socket_options.ts";

const [kind = "tcp", engine = runtimeName()] = process.argv.slice(2);

interface Adapter {
  listen(options: ListenOptions): Promise<Listener>;
  connect(options: ConnectOptions): Promise<unknown>;
}
interface WsAdapter {
  serveWebSocket(options: { hostname: string; port: number }): Promise<Listener>;
}

async function listener(): Promise<Listener> {
  const options = { hostname: "127.0.0.1", port: 0 };
  if (kind === "ws") {
    const ws: WsAdapter = engine === "deno"
      ? await import("./websocket/deno.ts")
      : engine === "bun"
      ? await import("./websocket/bun.ts")
      : await import("./websocket/node.ts");
    return await ws.serveWebSocket(options);
  }
  const adapter: Adapter = engine === "deno"
    ? await import("./deno.ts")
    : engine === "bun"
    ? await import("./bun.ts")
    : await import("./node.ts");
  return await adapter.listen(kind === "tls" ? { ...options, tls: testCertificate() } : options);
}

// Deno sets up its signal handling lazily, about half a second after start (and panics if no
// descriptor is free then): register a listener now so that it happens before exhaustion.
const denoSignals = (globalThis as { Deno?: { addSignalListener(s: string, f: () => void): void } })
  .Deno;
denoSignals?.addSignalListener("SIGUSR2", () => {});

const server = new Server(await listener(), {
  handlers: new Handlers().handle("echo", (value: unknown) => value),
  onError(error: unknown) {
    const code = (error as { code?: unknown }).code ?? (error as Error).name;
    process.stdout.write(`ERROR ${String(code)}\n`);
  },
});
process.stdout.write(`READY ${server.addr.port}\n`);
