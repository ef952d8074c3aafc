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
 * @module
 */
// deno-lint-ignore-file no-console
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { cpus } from "node:os";
import { dirname, join } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { benchWorkers } from "./workers.ts";
import { buildFanout, type FanoutRow, fanoutTable, runFanout } from "./fanout.ts";
import { benchConnMemory } from "./_memory.ts";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const bin = (name: string) => join(root, "node_modules", ".bin", name);
const buildDir = join(root, ".build", "bench");
const goLoad = join(buildDir, "go-load");
const goPeer = join(buildDir, "go-peer");
const nodeClient = join(buildDir, "bench_client.mjs");

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

const quick = process.argv.includes("--quick");
const build = !process.argv.includes("--no-build");
const out = arg("--out") ?? buildDir;
const IMPLS = ["go", "deno", "bun", "node"] as const;
type Impl = typeof IMPLS[number];
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

/** How to start each implementation's `serve` (and, for ours, the bench client). */
const SERVE: Record<Impl, string[]> = {
  go: [goPeer],
  deno: [bin("deno"), "run", "-A", join(root, "conformance", "peer.ts")],
  bun: [bin("bun"), join(root, "conformance", "peer.ts")],
  node: ["node", join(root, ".build", "node", "conformance", "peer.js")],
};
const CLIENT: Record<Exclude<Impl, "go">, string[]> = {
  deno: [bin("deno"), "run", "-A", join(root, "bench", "_client.ts")],
  bun: [bin("bun"), join(root, "bench", "_client.ts")],
  node: ["node", nodeClient],
};

interface Scenario {
  id: string;
  label: string;
  size: number;
  inflight: number;
  conns: number;
  /** go-load arguments (the server rows) for a round (0: the first). */
  load(round: number): string[];
}

/** The warm-up of a round: the full one first, a short one (new connections) after. */
function warmup(round: number): number {
  return round === 0 ? warmupMs : Math.min(warmupMs, 250);
}

function timing(round: number): string[] {
  return ["--warmup", `${warmup(round)}ms`, "--duration", `${durationMs}ms`];
}

function pipeline(id: string, label: string, size: number, inflight: number, conns = 1): Scenario {
  return {
    id,
    label,
    size,
    inflight,
    conns,
    load: (round) => [
      "pipeline",
      "--size",
      String(size),
      "--inflight",
      String(inflight),
      "--conns",
      String(conns),
      ...timing(round),
    ],
  };
}

const manyConns = quick ? 10 : 100;
const streamBytes = quick ? "8MiB" : "256MiB";
const SERVER_ROWS: Scenario[] = [
  pipeline("16b-x1", "16 B, 1 in flight, 1 conn", 16, 1),
  pipeline("16b-x64", "16 B, 64 in flight, 1 conn", 16, 64),
  pipeline("1k-x64", "1 KiB, 64 in flight, 1 conn", 1024, 64),
  pipeline("64k-x16", "64 KiB echo, 16 in flight, 1 conn", 65536, 16),
  {
    id: "stream-256m",
    label: `${streamBytes} through stream-echo (64 KiB parts, 4 MiB window)`,
    size: 65536,
    inflight: 64,
    conns: 1,
    load: (round) => [
      "stream",
      "--bytes",
      streamBytes,
      "--part",
      "64KiB",
      "--window",
      "4MiB",
      "--warmup-bytes",
      round > 0 ? "0" : quick ? "1MiB" : "32MiB",
    ],
  },
  pipeline(`${manyConns}c-x16`, `16 B, ${manyConns} conns x 16 in flight`, 16, 16, manyConns),
];
/** A server row over WebSocket: two messages per request, or one (`coalesce`). */
function overWebSocket(s: Scenario, coalesce = false): Scenario {
  return {
    ...s,
    id: `ws-${s.id}${coalesce ? "-1msg" : ""}`,
    label: `ws: ${s.label}${coalesce ? ", 1 msg" : ""}`,
    load: (round) => [...s.load(round), "--ws", "/gotalk/", ...(coalesce ? ["--coalesce"] : [])],
  };
}
const wsConns = quick ? 10 : 50;
const WS_ROWS: Scenario[] = [
  ...SERVER_ROWS.filter((s) => !s.id.startsWith("stream") && s.conns === 1).map((s) =>
    overWebSocket(s)
  ),
  overWebSocket(
    pipeline(`${wsConns}c-x16`, `16 B, ${wsConns} conns x 16 in flight`, 16, 16, wsConns),
  ),
  overWebSocket(SERVER_ROWS[1], true),
  overWebSocket(SERVER_ROWS[2], true),
  overWebSocket(
    pipeline(`${wsConns}c-x16`, `16 B, ${wsConns} conns x 16 in flight`, 16, 16, wsConns),
    true,
  ),
];
const CLIENT_ROWS: Scenario[] = [
  pipeline("client-16b-x1", "client: 16 B, 1 in flight", 16, 1),
  pipeline("client-16b-x64", "client: 16 B, 64 in flight", 16, 64),
  pipeline("client-64k-x16", "client: 64 KiB echo, 16 in flight", 65536, 16),
];
const IDLE_CONNS = quick ? 50 : 1000;
const SLEEP_CONNS = quick ? 2 : 10;
const SLEEP_EACH = quick ? 50 : 1000;
const SLEEP_MS = quick ? 200 : 2000;

/** One measurement, as go-load and `_client.ts` print it. */
interface Measured {
  requests: number;
  seconds: number;
  rps: number;
  mbps: number;
  p50_us: number;
  p99_us: number;
}

interface Row extends Partial<Measured> {
  scenario: string;
  label: string;
  impl: string;
  /** Requests/s (MB/s for the stream row) over the Go reference's. */
  ratio?: number;
  /** Every round's requests/s (the row shows the median round). */
  rounds_rps?: number[];
  error?: string;
}

interface MemoryRow {
  scenario: string;
  label: string;
  impl: Impl;
  /** VmRSS once listening, before any connection (MiB). */
  baseline_mib?: number;
  /** VmHWM after the load (MiB). */
  peak_mib?: number;
  /** peak over Go's peak. */
  ratio?: number;
  error?: string;
}

// ---------------------------------------------------------------------------------------------
// Processes

interface Running {
  child: ChildProcess;
  addr: string;
  stop(): Promise<void>;
}

function childEnv(): Record<string, string | undefined> {
  return { ...process.env, NO_COLOR: "1", DENO_NO_UPDATE_CHECK: "1" };
}

/** Starts `serve` and waits (bounded) for its READY line. */
function startServer(impl: Impl, transport: "tcp" | "ws" = "tcp"): Promise<Running> {
  const [cmd, ...pre] = SERVE[impl];
  const child = spawn(cmd, [...pre, "serve", "--transport", transport, "--addr", "127.0.0.1:0"], {
    cwd: root,
    stdio: ["ignore", "pipe", "pipe"],
    env: childEnv(),
  });
  let stderr = "";
  child.stderr!.on("data", (d) => stderr = (stderr + d).slice(-4000));
  const exited = new Promise<void>((resolve) => child.on("exit", () => resolve()));
  return new Promise((resolve, reject) => {
    let buf = "";
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`${impl} serve printed no READY line within 30 s: ${stderr}`));
    }, 30_000);
    child.stdout!.on("data", (d) => {
      buf += d;
      const m = /^READY (?:tcp|ws):\/\/([^\s/]+)\S*$/m.exec(buf);
      if (!m) return;
      clearTimeout(timer);
      resolve({
        child,
        addr: m[1],
        async stop() {
          if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
          const t = setTimeout(() => child.kill("SIGKILL"), 5000);
          await exited;
          clearTimeout(t);
        },
      });
    });
    child.on("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`${impl} serve exited ${code} before READY: ${stderr}`));
    });
  });
}

/**
 * Runs a command to completion (killed after `timeoutMs`), calling `onLine` with each stdout
 * line; resolves with the last JSON line.
 */
function runJson(
  cmd: string[],
  timeoutMs: number,
  onLine?: (line: string) => void,
): Promise<Record<string, unknown>> {
  const child = spawn(cmd[0], cmd.slice(1), {
    cwd: root,
    stdio: ["ignore", "pipe", "pipe"],
    env: childEnv(),
  });
  let stdout = "";
  let stderr = "";
  let pending = "";
  child.stdout!.on("data", (d) => {
    stdout += d;
    pending += d;
    let nl;
    while ((nl = pending.indexOf("\n")) >= 0) {
      onLine?.(pending.slice(0, nl));
      pending = pending.slice(nl + 1);
    }
  });
  child.stderr!.on("data", (d) => stderr = (stderr + d).slice(-4000));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.on("exit", (code, signal) => {
      clearTimeout(timer);
      const last = stdout.trim().split("\n").filter((l) => l.startsWith("{")).at(-1);
      if (code === 0 && last) resolve(JSON.parse(last));
      else {
        const why = signal ? `killed (${signal}) after ${timeoutMs} ms` : `exited ${code}`;
        reject(new Error(`${cmd[0].split("/").at(-1)} ${why}: ${stderr.trim().slice(-500)}`));
      }
    });
  });
}

function procStatus(pid: number, field: "VmHWM" | "VmRSS"): number | undefined {
  try {
    const m = new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(
      readFileSync(`/proc/${pid}/status`, "utf8"),
    );
    return m ? Number(m[1]) / 1024 : undefined;
  } catch {
    return undefined; // not Linux, or the process is gone
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

function measured(r: Record<string, unknown>): Measured {
  return {
    requests: Number(r.requests),
    seconds: Number(r.seconds),
    rps: Number(r.rps),
    mbps: Number(r.mbps),
    p50_us: Number(r.p50_us),
    p99_us: Number(r.p99_us),
  };
}

function loadTimeout(s: Scenario): number {
  return s.id.startsWith("stream") ? 120_000 : warmupMs + durationMs + 30_000;
}

/**
 * Measures `impls` on `scenarios`: for each scenario, `rounds` rounds, each running `measure`
 * for every implementation in turn (the order rotates), and keeps each one's median round.
 */
async function measureRounds(
  scenarios: Scenario[],
  impls: string[],
  measure: (s: Scenario, impl: string, round: number) => Promise<Measured>,
): Promise<Row[]> {
  const rows: Row[] = [];
  for (const s of scenarios) {
    const results = new Map<string, Measured[]>(impls.map((i) => [i, []]));
    const errors = new Map<string, string>();
    for (let round = 0; round < rounds; round++) {
      const order = impls.map((_, k) => impls[(k + round) % impls.length]);
      for (const impl of order) {
        if (errors.has(impl)) continue;
        try {
          results.get(impl)!.push(await measure(s, impl, round));
        } catch (e) {
          errors.set(impl, errorText(e));
        }
      }
    }
    for (const impl of impls) {
      const row: Row = { scenario: s.id, label: s.label, impl };
      const error = errors.get(impl);
      if (error !== undefined) {
        failures++;
        row.error = error;
        console.log(`${impl.padEnd(11)} ${s.label}: FAILED ${error}`);
      } else {
        const all = results.get(impl)!;
        const sorted = [...all].sort((a, b) => a.rps - b.rps);
        Object.assign(row, sorted[Math.floor((sorted.length - 1) / 2)]);
        row.rounds_rps = all.map((m) => Math.round(m.rps));
        console.log(
          `${impl.padEnd(11)} ${s.label.padEnd(56)} ${fmtInt(row.rps!).padStart(10)} req/s ` +
            `${fmtNum(row.mbps!).padStart(8)} MB/s  p50 ${fmtNum(row.p50_us!)} µs  p99 ${
              fmtNum(row.p99_us!)
            } µs`,
        );
      }
      rows.push(row);
    }
  }
  return rows;
}

// ---------------------------------------------------------------------------------------------
// Build

function version(cmd: string[]): string {
  try {
    return execFileSync(cmd[0], cmd.slice(1), { encoding: "utf8" }).trim().split("\n")[0];
  } catch {
    return "unknown";
  }
}

mkdirSync(buildDir, { recursive: true });
mkdirSync(out, { recursive: true });
const needGo = servers.includes("go") || clients.length > 0;
if (build || !existsSync(goLoad) || (needGo && !existsSync(goPeer))) {
  console.log("building go-load and the Go reference peer (gotalk v1.3.7)...");
  execFileSync("go", ["build", "-o", goLoad, "."], {
    cwd: join(root, "bench", "go-load"),
    stdio: "inherit",
  });
  execFileSync("go", ["build", "-o", goPeer, "."], {
    cwd: join(root, "conformance", "go-peer"),
    stdio: "inherit",
  });
}
// `--quick` (a smoke test, run after the test command built it) reuses an existing Node build.
if (servers.includes("node") && ((build && !quick) || !existsSync(SERVE.node[1]))) {
  console.log("building the Node build (scripts/build_npm.ts)...");
  execFileSync(bin("deno"), ["run", "-A", join(root, "scripts", "build_npm.ts")], {
    cwd: root,
    stdio: "inherit",
    env: childEnv(),
  });
}
if (clients.includes("node") && (build || !existsSync(nodeClient))) {
  execFileSync(bin("esbuild"), [
    join(root, "bench", "_client.ts"),
    "--bundle",
    "--platform=node",
    "--format=esm",
    "--target=node20",
    "--log-level=warning",
    `--outfile=${nodeClient}`,
  ], { cwd: root, stdio: "inherit" });
}

const env = {
  cpus: cpus().length,
  cpu: cpus()[0]?.model ?? "unknown",
  go: version(["go", "version"]),
  deno: version([bin("deno"), "--version"]),
  bun: version([bin("bun"), "--version"]),
  node: version(["node", "--version"]),
};
console.log(
  `${env.cpus} x ${env.cpu}; ${env.go}; ${env.deno}; bun ${env.bun}; node ${env.node}` +
    (quick ? " (--quick: tiny load, numbers mean nothing)" : ""),
);

// ---------------------------------------------------------------------------------------------
// Server rows

let failures = 0;

/**
 * Starts `impls`' servers over `transport`, all at once (an idle one costs nothing), and measures
 * `scenarios` against them with go-load.
 */
async function serverTable(
  scenarios: Scenario[],
  impls: Impl[],
  transport: "tcp" | "ws",
): Promise<Row[]> {
  const running = new Map<string, Running>();
  for (const impl of impls) {
    try {
      running.set(impl, await startServer(impl, transport));
    } catch (e) {
      failures++;
      console.log(`${impl} (${transport}): ${errorText(e)}`);
    }
  }
  const rows = await measureRounds(
    scenarios,
    impls.filter((i) => running.has(i)),
    async (s, impl, round) =>
      measured(
        await runJson(
          [goLoad, ...s.load(round), "--addr", running.get(impl)!.addr],
          loadTimeout(s),
        ),
      ),
  );
  await Promise.all([...running.values()].map((r) => r.stop()));
  addRatios(rows);
  return rows;
}

const serverRows = parts.includes("servers") ? await serverTable(SERVER_ROWS, servers, "tcp") : [];
// WebSocket rows: the same load over `serve --transport ws`.
const wsRows = parts.includes("websocket") ? await serverTable(WS_ROWS, servers, "ws") : [];

// ---------------------------------------------------------------------------------------------
// Client rows: each client against one Go server.

let clientRows: Row[] = [];
if (parts.includes("clients") && clients.length > 0) {
  let server: Running | undefined;
  try {
    server = await startServer("go");
  } catch (e) {
    failures++;
    console.log(`go server for the client rows: ${errorText(e)}`);
  }
  if (server) {
    const addr = server.addr;
    clientRows = await measureRounds(
      CLIENT_ROWS,
      clients.map((c) => `${c} client`),
      async (s, name, round) => {
        const impl = name.split(" ")[0] as Impl;
        const shape = ["--size", String(s.size), "--inflight", String(s.inflight)];
        const cmd = impl === "go"
          ? [goLoad, "gotalk-client", "--addr", addr, ...shape, ...timing(round)]
          : [
            ...CLIENT[impl],
            "bench",
            "--url",
            `tcp://${addr}`,
            ...shape,
            "--warmup-ms",
            String(warmup(round)),
            "--duration-ms",
            String(durationMs),
          ];
        return measured(await runJson(cmd, loadTimeout(s)));
      },
    );
    await server.stop();
  }
  addRatios(clientRows, "go client");
}

// ---------------------------------------------------------------------------------------------
// Memory: a fresh server for each measurement.

const memoryRows: MemoryRow[] = [];
const MEMORY = [
  {
    id: "idle",
    label: `${fmtInt(IDLE_CONNS)} idle connections`,
    load: ["idle", "--conns", String(IDLE_CONNS), "--hold", quick ? "300ms" : "2s"],
    // Sampled while the connections are held.
    mark: "ready",
  },
  {
    id: "inflight",
    label: `${fmtInt(SLEEP_CONNS * SLEEP_EACH)} requests in flight (${SLEEP_CONNS} conns, ` +
      `sleep ${SLEEP_MS} ms)`,
    load: [
      "sleepers",
      "--conns",
      String(SLEEP_CONNS),
      "--inflight",
      String(SLEEP_EACH),
      "--ms",
      String(SLEEP_MS),
    ],
    mark: "sent",
  },
];
for (const impl of parts.includes("memory") ? servers : []) {
  for (const m of MEMORY) {
    const row: MemoryRow = { scenario: m.id, label: m.label, impl };
    let server: Running | undefined;
    try {
      server = await startServer(impl);
      await sleep(quick ? 100 : 500);
      const pid = server.child.pid!;
      row.baseline_mib = procStatus(pid, "VmRSS");
      await runJson([goLoad, ...m.load, "--addr", server.addr], 120_000);
      // VmHWM is the peak since the process started: it covers the whole load.
      row.peak_mib = procStatus(pid, "VmHWM");
      console.log(
        `${impl.padEnd(5)} ${m.label.padEnd(56)} peak RSS ${fmtNum(row.peak_mib ?? NaN)} MiB ` +
          `(at start ${fmtNum(row.baseline_mib ?? NaN)} MiB)`,
      );
    } catch (e) {
      failures++;
      row.error = errorText(e);
      console.log(`${impl} ${m.label}: FAILED ${row.error}`);
    }
    await server?.stop();
    memoryRows.push(row);
  }
}
for (const row of memoryRows) {
  const go = memoryRows.find((r) => r.scenario === row.scenario && r.impl === "go");
  if (go?.peak_mib && row.peak_mib) row.ratio = row.peak_mib / go.peak_mib;
}

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
// Per-connection memory: one idle connection's cost, bare / ours / Go (bench/_memory.ts).
const connmem = parts.includes("connmem")
  ? await benchConnMemory({ root, goLoad, goPeer, runtimes: servers, quick })
  : { rows: [], markdown: [], failures: 0 };
failures += connmem.failures;

// ---------------------------------------------------------------------------------------------
// Reports

function addRatios(rows: Row[], reference = "go"): void {
  for (const row of rows) {
    const ref = rows.find((r) => r.scenario === row.scenario && r.impl === reference);
    if (ref?.rps === undefined || row.rps === undefined) continue;
    row.ratio = row.scenario.startsWith("stream") ? row.mbps! / ref.mbps! : row.rps / ref.rps;
  }
}

function fmtInt(n: number): string {
  return Math.round(n).toLocaleString("en-US");
}

function fmtNum(n: number): string {
  if (!Number.isFinite(n)) return "–";
  if (n >= 100) return fmtInt(n);
  return n >= 10 ? n.toFixed(1) : n.toFixed(2);
}

function throughputTable(title: string, rows: Row[], reference: string): string[] {
  const lines = [
    `## ${title}`,
    "",
    `| scenario | ${rows === clientRows ? "client" : "server"} | req/s | MB/s | p50 µs | p99 µs ` +
    `| × ${reference} |`,
    "|---|---|---:|---:|---:|---:|---:|",
  ];
  let last = "";
  for (const r of rows) {
    const label = r.label === last ? "" : r.label;
    last = r.label;
    if (r.error) {
      lines.push(`| ${label} | ${r.impl} | **failed**: ${r.error.replaceAll("|", "/")} | | | | |`);
      continue;
    }
    lines.push(
      `| ${label} | ${r.impl} | ${fmtInt(r.rps!)} | ${fmtNum(r.mbps!)} | ${fmtNum(r.p50_us!)} | ${
        fmtNum(r.p99_us!)
      } | ${r.ratio === undefined ? "–" : r.ratio.toFixed(2)} |`,
    );
  }
  lines.push("");
  return lines;
}

const md: string[] = [
  "# gotalk benchmark",
  "",
  `${env.cpus} x ${env.cpu}; ${env.go}; ${env.deno}; bun ${env.bun}; node ${env.node}.` +
  (quick ? " **--quick: tiny load, the numbers mean nothing.**" : ""),
  `Each cell is the median of ${rounds} round(s), the implementations measured in turn; a ` +
  `round is a warm-up (${warmupMs} ms in the first, then ${Math.min(warmupMs, 250)} ms) and ` +
  `${durationMs} ms measured (the stream row: a fixed size). MB/s counts payload bytes both ` +
  "ways. The stream row's req/s is parts/s and its latency a part's round trip; its ratio " +
  "compares MB/s.",
  "",
  ...throughputTable("Servers (load: go-load, raw-socket pipelined framer)", serverRows, "Go"),
];
if (wsRows.length) {
  md.push(
    ...throughputTable(
      "WebSocket servers (load: go-load --ws, header and payload as two messages; 1 msg: one)",
      wsRows,
      "Go",
    ),
  );
}
if (clientRows.length) {
  md.push(
    ...throughputTable(
      "Clients against the Go server (Go: gotalk's Sock.BufferRequest)",
      clientRows,
      "Go client",
    ),
  );
}
if (memoryRows.length) {
  md.push(
    "## Peak memory (VmHWM) of the server",
    "",
    "| scenario | server | RSS at start MiB | peak RSS MiB | × Go |",
    "|---|---|---:|---:|---:|",
  );
  let last = "";
  for (const r of memoryRows) {
    const label = r.label === last ? "" : r.label;
    last = r.label;
    md.push(
      r.error
        ? `| ${label} | ${r.impl} | **failed**: ${r.error.replaceAll("|", "/")} | | |`
        : `| ${label} | ${r.impl} | ${fmtNum(r.baseline_mib ?? NaN)} | ${
          fmtNum(r.peak_mib ?? NaN)
        } | ${r.ratio === undefined ? "–" : r.ratio.toFixed(2)} |`,
    );
  }
  md.push("");
}
md.push(...workers.markdown);
if (fanoutRows.length) md.push(...fanoutTable(fanoutRows));
md.push(...connmem.markdown);
const report = md.join("\n");
writeFileSync(join(out, "bench.md"), report);
writeFileSync(
  join(out, "bench.json"),
  JSON.stringify(
    {
      date: new Date().toISOString(),
      quick,
      rounds,
      warmup_ms: warmupMs,
      duration_ms: durationMs,
      env,
      servers: serverRows,
      websocket: wsRows,
      clients: clientRows,
      memory: memoryRows,
      workers: workers.rows,
      fanout: fanoutRows,
      connmem: connmem.rows,
    },
    null,
    2,
  ) + "\n",
);
console.log("\n" + report);
console.log(`wrote ${join(out, "bench.md")} and ${join(out, "bench.json")}`);
console.log(failures === 0 ? "bench: ok" : `bench: ${failures} measurement(s) failed`);
process.exit(failures === 0 ? 0 : 1);
