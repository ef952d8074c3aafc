/**
 * The workers part of `bench/bench.ts` (`--parts workers`): 100 connections (16 B echo, 16 in
 * flight each, from go-load) against one port served by 1 and by 2 worker processes, on Deno,
 * Bun and Node (`bench/_workers_server.ts`). All the servers run at once (an idle one costs
 * nothing); each round measures them in turn, rotating the order, and a row reports its median
 * round. The load generator shares the machine's cores with the workers: with 2 cores, a second
 * worker competes with go-load, and the table shows what that gives, as it is.
 *
 * @module
 */
// deno-lint-ignore-file no-console
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { createServer } from "node:net";
import { join } from "node:path";
import process from "node:process";

/** What the benchmark harness passes in. */
export interface WorkersBenchOptions {
  root: string;
  /** The go-load binary. */
  goLoad: string;
  /** Where the Node server's bundle goes. */
  buildDir: string;
  runtimes: string[];
  quick: boolean;
  build: boolean;
  rounds: number;
  warmupMs: number;
  durationMs: number;
}

/** One row: a runtime with a number of workers. */
export interface WorkersRow {
  scenario: string;
  runtime: string;
  workers: number;
  rps?: number;
  mbps?: number;
  p50_us?: number;
  p99_us?: number;
  /** Requests/s over the same runtime's one-worker row. */
  ratio?: number;
  rounds_rps?: number[];
  error?: string;
}

interface Server {
  child: ChildProcess;
  port: number;
  stop(): Promise<void>;
}

const COUNTS = [1, 2];

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const addr = s.address();
      s.close(() => resolve(typeof addr === "object" && addr ? addr.port : 0));
    });
  });
}

function command(o: WorkersBenchOptions, runtime: string): string[] {
  const bin = (name: string) => join(o.root, "node_modules", ".bin", name);
  const script = join(o.root, "bench", "_workers_server.ts");
  if (runtime === "deno") return [bin("deno"), "run", "-A", script];
  if (runtime === "bun") return [bin("bun"), script];
  return ["node", join(o.buildDir, "workers_server.mjs")];
}

async function start(o: WorkersBenchOptions, runtime: string, workers: number): Promise<Server> {
  const port = await freePort();
  const [cmd, ...pre] = command(o, runtime);
  const child = spawn(cmd, [...pre, "--workers", String(workers), "--port", String(port)], {
    cwd: o.root,
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, NO_COLOR: "1", DENO_NO_UPDATE_CHECK: "1" },
  });
  let stderr = "";
  child.stderr!.on("data", (d) => stderr = (stderr + d).slice(-4000));
  const exited = new Promise<void>((resolve) => child.on("exit", () => resolve()));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`${runtime} x${workers} printed no READY line within 60 s: ${stderr}`));
    }, 60_000);
    let out = "";
    child.stdout!.on("data", (d) => {
      out += d;
      if (!/^READY /m.test(out)) return;
      clearTimeout(timer);
      resolve();
    });
    child.on("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`${runtime} x${workers} exited ${code} before READY: ${stderr}`));
    });
  });
  return {
    child,
    port,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
      const t = setTimeout(() => child.kill("SIGKILL"), 10_000);
      await exited;
      clearTimeout(t);
    },
  };
}

function load(o: WorkersBenchOptions, port: number, round: number): Promise<WorkersRow> {
  const conns = o.quick ? 10 : 100;
  const warmup = round === 0 ? o.warmupMs : Math.min(o.warmupMs, 250);
  const args = ["pipeline", "--size", "16", "--inflight", "16", "--conns", String(conns)];
  args.push("--warmup", `${warmup}ms`, "--duration", `${o.durationMs}ms`);
  args.push("--addr", `127.0.0.1:${port}`);
  return new Promise((resolve, reject) => {
    const child = spawn(o.goLoad, args, { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let err = "";
    child.stdout!.on("data", (d) => out += d);
    child.stderr!.on("data", (d) => err = (err + d).slice(-2000));
    const timer = setTimeout(() => child.kill("SIGKILL"), warmup + o.durationMs + 30_000);
    child.on("exit", (code) => {
      clearTimeout(timer);
      const last = out.trim().split("\n").filter((l) => l.startsWith("{")).at(-1);
      if (code !== 0 || !last) return reject(new Error(`go-load exited ${code}: ${err.trim()}`));
      const r = JSON.parse(last);
      resolve({
        scenario: "",
        runtime: "",
        workers: 0,
        rps: Number(r.rps),
        mbps: Number(r.mbps),
        p50_us: Number(r.p50_us),
        p99_us: Number(r.p99_us),
      });
    });
  });
}

/**
 * Runs the workers rows and returns them, with their Markdown table and the number of
 * measurements that failed.
 */
export async function benchWorkers(
  o: WorkersBenchOptions,
): Promise<{ rows: WorkersRow[]; markdown: string[]; failures: number }> {
  const conns = o.quick ? 10 : 100;
  const scenario = `${conns}c-x16-workers`;
  if (o.runtimes.includes("node")) {
    execFileSync(join(o.root, "node_modules", ".bin", "esbuild"), [
      join(o.root, "bench", "_workers_server.ts"),
      "--bundle",
      "--platform=node",
      "--format=esm",
      "--target=node20",
      "--log-level=warning",
      `--outfile=${join(o.buildDir, "workers_server.mjs")}`,
    ], { cwd: o.root, stdio: "inherit" });
  }
  const configs = o.runtimes.flatMap((runtime) => COUNTS.map((workers) => ({ runtime, workers })));
  const rows: WorkersRow[] = configs.map((c) => ({ scenario, ...c, rounds_rps: [] }));
  const servers = new Map<WorkersRow, Server>();
  for (const row of rows) {
    try {
      servers.set(row, await start(o, row.runtime, row.workers));
    } catch (e) {
      row.error = e instanceof Error ? e.message : String(e);
    }
  }
  const results = new Map<WorkersRow, WorkersRow[]>(rows.map((r) => [r, []]));
  for (let round = 0; round < o.rounds; round++) {
    const order = rows.map((_, k) => rows[(k + round) % rows.length]);
    for (const row of order) {
      const server = servers.get(row);
      if (row.error !== undefined || server === undefined) continue;
      try {
        results.get(row)!.push(await load(o, server.port, round));
      } catch (e) {
        row.error = e instanceof Error ? e.message : String(e);
      }
    }
  }
  await Promise.all([...servers.values()].map((s) => s.stop()));
  let failures = 0;
  for (const row of rows) {
    if (row.error !== undefined) {
      failures++;
      console.log(`${row.runtime} x${row.workers} workers: FAILED ${row.error}`);
      continue;
    }
    const all = results.get(row)!;
    const median = [...all].sort((a, b) => a.rps! - b.rps!)[Math.floor((all.length - 1) / 2)];
    Object.assign(row, {
      rps: median.rps,
      mbps: median.mbps,
      p50_us: median.p50_us,
      p99_us: median.p99_us,
      rounds_rps: all.map((m) => Math.round(m.rps!)),
    });
  }
  for (const row of rows) {
    const one = rows.find((r) => r.runtime === row.runtime && r.workers === 1);
    if (one?.rps !== undefined && row.rps !== undefined) row.ratio = row.rps / one.rps;
  }
  const int = (n: number) => Math.round(n).toLocaleString("en-US");
  const markdown = [
    `## Workers: one port, ${conns} connections x 16 in flight, 16 B echo`,
    "",
    "Worker processes behind one port (reusePort on Deno and Bun, node:cluster on Node); the " +
    "load generator runs on the same cores.",
    "",
    "| runtime | workers | req/s | p50 µs | p99 µs | × 1 worker |",
    "|---|---:|---:|---:|---:|---:|",
  ];
  for (const r of rows) {
    markdown.push(
      r.error !== undefined
        ? `| ${r.runtime} | ${r.workers} | **failed**: ${r.error.replaceAll("|", "/")} | | | |`
        : `| ${r.runtime} | ${r.workers} | ${int(r.rps!)} | ${int(r.p50_us!)} | ${
          int(r.p99_us!)
        } | ${r.ratio!.toFixed(2)} |`,
    );
  }
  markdown.push("");
  for (const line of markdown) console.log(line);
  return { rows, markdown, failures };
}
