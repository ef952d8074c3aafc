/**
 * The server of the workers benchmark (`bench/workers.ts`): `--workers N` processes serving
 * `echo` (a buffer echo) on one TCP port, through this runtime's `startWorkers` (reusePort on
 * Deno and Bun, node:cluster on Node). The primary prints `READY tcp://HOST:PORT` once every
 * worker serves, and stops them on SIGTERM or SIGINT.
 *
 * ```
 * deno run -A bench/_workers_server.ts --workers 2 --port 9000
 * bun bench/_workers_server.ts --workers 2 --port 9000
 * node .build/bench/workers_server.mjs --workers 2 --port 9000
 * ```
 *
 * @module
 */
import process from "node:process";
import { Handlers, Peer } from "../mod.ts";
import type {
  Listener,
  ListenOptions,
  StartWorkersOptions,
  Workers,
} from "../src/transports/deno.ts";

// deno-lint-ignore no-explicit-any
const g = globalThis as any;
const runtime: "deno" | "bun" | "node" = g.Deno ? "deno" : g.Bun ? "bun" : "node";
const adapter: {
  listen(options: ListenOptions): Promise<Listener>;
  startWorkers(options?: StartWorkersOptions): Promise<Workers>;
  workerIndex(): number | undefined;
  workerReady(): void;
} = runtime === "deno"
  ? await import("../src/transports/deno.ts")
  : runtime === "bun"
  ? await import("../src/transports/bun.ts")
  : await import("../src/transports/node.ts");

const args = process.argv.slice(2);
function flag(name: string): number {
  const i = args.indexOf(name);
  const n = Number(i >= 0 ? args[i + 1] : NaN);
  if (!Number.isInteger(n) || n < 0) {
    process.stderr.write(`${name} takes a non-negative integer\n`);
    process.exit(2);
  }
  return n;
}
const port = flag("--port");

if (adapter.workerIndex() === undefined) {
  const workers = await adapter.startWorkers({ count: flag("--workers"), args });
  process.stdout.write(`READY tcp://127.0.0.1:${port}\n`);
  const stop = () => void workers.close().then(() => process.exit(0));
  process.once("SIGTERM", stop);
  process.once("SIGINT", stop);
} else {
  const handlers = new Handlers().handleBuffer("echo", (bytes) => bytes);
  const listener = await adapter.listen({ hostname: "127.0.0.1", port, reusePort: true });
  adapter.workerReady();
  for (let t; (t = await listener.accept()) !== null;) {
    new Peer(t, { handlers, heartbeatIntervalMs: 0 });
  }
}
