// A worker for the tests and examples of startWorkers: on the port given as its last argument,
// shared with the other workers (reusePort; cluster on Node), over TCP (or WebSocket when an
// argument is `ws`), it serves `pid` (its process id) and `index` (its workerIndex()), then
// tells the primary it is ready.
import process from "node:process";
import { Handlers } from "../peer/handlers.ts";
import { Peer } from "../peer/peer.ts";
import type { Listener } from "../peer/transport.ts";
import type { ListenOptions } from "./socket_options.ts";
import { runtimeName } from "./_test_factories.ts";

const runtime = runtimeName();
const adapter: {
  listen(options: ListenOptions): Promise<Listener>;
  workerIndex(): number | undefined;
  workerReady(): void;
} = runtime === "deno"
  ? await import("./deno.ts")
  : runtime === "bun"
  ? await import("./bun.ts")
  : await import("./node.ts");

// `hang`: never ready (the test of readyTimeoutMs); the primary kills it. `exit-first`: worker 0
// exits at once (the test of a worker that fails to start), the others hang.
const mode = process.argv.at(-1);
if (mode === "exit-first" && adapter.workerIndex() === 0) process.exit(3);
if (mode === "hang" || mode === "exit-first") {
  await new Promise(() => setInterval(() => {}, 60_000));
}
const port = Number(process.argv.at(-1));
const handlers = new Handlers()
  .handle("pid", () => process.pid)
  .handle("index", () => adapter.workerIndex());
// `ws PORT`: a WebSocket server instead of TCP.
const listener: Listener = process.argv.includes("ws")
  ? await (runtime === "deno"
    ? await import("./websocket/deno.ts")
    : runtime === "bun"
    ? await import("./websocket/bun.ts")
    : await import("./websocket/node.ts")).serveWebSocket({
      hostname: "127.0.0.1",
      port,
      reusePort: true,
    })
  : await adapter.listen({ hostname: "127.0.0.1", port, reusePort: true });
adapter.workerReady();
for (let transport; (transport = await listener.accept()) !== null;) {
  new Peer(transport, { handlers });
}
