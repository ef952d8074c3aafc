/**
 * The end-to-end benchmark: in one run it starts each server (the Go reference, gotalk v1.3.7,
 * and ours on Deno, Bun and Node), drives the same load at each from the same Go load generator
 * (`bench/go-load/`), measures our client against the Go server next to gotalk's own client,
 * and measures peak memory. It prints Markdown tables and writes `bench.md` and `bench.json`.
 *
 * ```sh
 * node_modules/.bin/deno run -A bench/bench.ts [--quick] [--out DIR] [--servers go,deno,bun,node]
 *   [--clients go,deno,bun,node] [--parts servers,websocket,clients,memory,workers,fanout,connmem] [--no-build]
 *   [--rounds N] [--warmup-ms N] [--duration-ms N]
 * ```
 *
 * - Server rows: go-load's raw-socket pipelined framer (`pipeline`, `stream`) against `serve` of
 *   `conformance/peer.ts` (ours) and of `conformance/go-peer` (Go). All servers run at once (an
 *   idle one costs nothing) and each row measures them in turn, `--rounds` times (default 3),
 *   rotating the order, so that a change in the machine's background load hits them alike; a
 *   row reports each implementation's median round. A round is a warm-up (1 s in the first
 *   round, 250 ms after) and then a fixed `--duration-ms` (default 1000); the stream row's round
 *   is a fixed 256 MiB (after a 32 MiB warm-up stream in the first round).
 * - WebSocket rows (`websocket`): the pipeline rows (and 50 connections) over `serve --transport
 *   ws` of each implementation, go-load `--ws`: each request's header and payload as two binary
 *   messages, as gotalk.js sends them; the "1 msg" rows send each request as one message
 *   (`--coalesce`, as our coalescing client does). Results are read as a byte stream.
 * - Client rows: `bench/_client.ts bench` (our Peer as a client) and `go-load
 *   gotalk-client` (gotalk's `Sock.BufferRequest`) against one Go server, in rounds likewise.
 * - Workers (`bench/workers.ts`): 100 connections against one port served by 1 and by 2
 *   worker processes on Deno, Bun and Node (`startWorkers`).
 * - Memory: a fresh server per measurement; peak RSS (`VmHWM` in `/proc/PID/status`) with 1,000
 *   idle connections, and with 10,000 `sleep` requests (2 s each) in flight at once.
 * - Fan-out (`bench/fanout.ts`): one 64 B notification to 1,000 members, `topic.notify` and a
 *   hand loop of `peer.notify` on each runtime beside the Go reference's loop of `Notify`.
 *
 * MB/s counts payload bytes both ways (request and result). Ratios are to the Go reference (the
 * Go server, or the Go client), above 1 is better; for memory, below 1 is smaller. `--quick`
 * runs a tiny load in seconds, to check that everything runs (its numbers mean nothing). Exits 1
 * if any measurement failed.
 *
 * Needs Go (to build the load generator and the reference peer into `.build/bench/`); Node's
 * server runs the compiled build in `.build/node/` (rebuilt here with `scripts/build_npm.ts`;
 * `--quick` only builds it when missing) and Node's client an esbuild bundle of
 * `bench/_client.ts`. `--no-build` reuses whatever was built before.
 *
 * This file is the command line: its flags and which parts run. The parts live beside it:
 * `_procs.ts` (builds, processes, `/proc`), `_scenarios.ts` (the server, WebSocket, client and
 * peak memory tables), `_report.ts` (ratios, Markdown, `bench.md` and `bench.json`),
 * `workers.ts`, `fanout.ts` and `_memory.ts` (per-connection memory).
 *
 * @module
 */
// deno-lint-ignore-file no-console
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import process from "node:process";
import { benchWorkers } from "./workers.ts";
import { buildFanout, type FanoutRow, fanoutTable, runFanout } from "./fanout.ts";
import { benchConnMemory } from "./_memory.ts";
import { buildDir, buildTools, environment, goLoad, type Impl, IMPLS, root } from "./_procs.ts";
import { envLine, type Section, writeReport } from "./_report.ts";
import {
  clientTable,
  peakMemoryTable,
  scenarios,
  serverTable,
  type Table,
  type Timing,
} from "./_scenarios.ts";

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

const quick = process.argv.includes("--quick");
const build = !process.argv.includes("--no-build");
const out = arg("--out") ?? buildDir;
const list = (v: string | undefined, all: readonly string[]) =>
  (v ?? all.join(",")).split(",").filter((x) => x !== "");
const servers = list(arg("--servers"), IMPLS) as Impl[];
const clients = list(arg("--clients"), IMPLS) as Impl[];
const PARTS = ["servers", "websocket", "clients", "memory", "workers", "fanout", "connmem"];
const parts = list(arg("--parts"), PARTS);
for (const p of parts) if (!PARTS.includes(p)) throw new Error(`Unknown part ${p}`);
for (const i of [...servers, ...clients]) {
  if (!IMPLS.includes(i)) throw new Error(`Unknown implementation ${i}`);
}
const warmupMs = Number(arg("--warmup-ms") ?? (quick ? 100 : 1000));
const durationMs = Number(arg("--duration-ms") ?? (quick ? 200 : 1000));
const rounds = Number(arg("--rounds") ?? (quick ? 1 : 3));
if (!(rounds >= 1 && warmupMs >= 0 && durationMs > 0)) {
  throw new RangeError("--rounds must be at least 1 and --duration-ms positive");
}
const timing: Timing = { rounds, warmupMs, durationMs };

mkdirSync(out, { recursive: true });
buildTools({ servers, clients, build, quick });
const env = environment();
console.log(envLine(env) + (quick ? " (--quick: tiny load, numbers mean nothing)" : ""));

let failures = 0;
const none = { rows: [], failures: 0 };
/** Counts a table's failures into the run's; returns its rows. */
function tally<R>(table: Table<R>): R[] {
  failures += table.failures;
  return table.rows;
}

const lists = scenarios(quick, timing);
const serverRows = tally(
  parts.includes("servers") ? await serverTable(lists.tcp, servers, "tcp", timing) : none,
);
// WebSocket rows: the same load over `serve --transport ws`.
const wsRows = tally(
  parts.includes("websocket") ? await serverTable(lists.ws, servers, "ws", timing) : none,
);
// Client rows: each client against one Go server.
const clientRows = tally(
  parts.includes("clients") && clients.length > 0
    ? await clientTable(lists.client, clients, timing)
    : none,
);
// WebSocket client rows: gotalk.js on Bun and our clients against Go's WebSocket server.
const wsClientRows = tally(
  parts.includes("websocket") && clients.some((c) => c !== "go")
    ? await clientTable(lists.client, clients, timing, "ws")
    : none,
);
// Memory: a fresh server for each measurement.
const memoryRows = tally(parts.includes("memory") ? await peakMemoryTable(servers, quick) : none);

// Workers: 1 and 2 worker processes behind one port (bench/workers.ts).
const workers = parts.includes("workers")
  ? await benchWorkers({
    root,
    goLoad,
    buildDir,
    runtimes: servers.filter((s) => s !== "go"),
    quick,
    build,
    rounds,
    warmupMs,
    durationMs,
  })
  : { rows: [], markdown: [], failures: 0 };
failures += workers.failures;
// Fan-out: one notification to 1,000 members (bench/fanout.ts).
let fanoutRows: FanoutRow[] = [];
if (parts.includes("fanout")) {
  buildFanout(servers);
  fanoutRows = await runFanout({ runtimes: servers, rounds, quick });
  failures += fanoutRows.filter((r) => r.error).length;
}
const fanout: Section = {
  rows: fanoutRows,
  markdown: fanoutRows.length ? fanoutTable(fanoutRows) : [],
};
// Per-connection memory: one idle connection's cost, bare / ours / Go (bench/_memory.ts).
const connmem = parts.includes("connmem")
  ? await benchConnMemory({ runtimes: servers, quick })
  : { rows: [], markdown: [], failures: 0 };
failures += connmem.failures;

const report = writeReport(out, {
  env,
  quick,
  rounds,
  warmupMs,
  durationMs,
  servers: serverRows,
  websocket: wsRows,
  clients: clientRows,
  wsClients: wsClientRows,
  memory: memoryRows,
  workers,
  fanout,
  connmem,
});
console.log("\n" + report);
console.log(`wrote ${join(out, "bench.md")} and ${join(out, "bench.json")}`);
console.log(failures === 0 ? "bench: ok" : `bench: ${failures} measurement(s) failed`);
process.exit(failures === 0 ? 0 : 1);
