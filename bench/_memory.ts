// deno-lint-ignore-file no-console
/**
 * The per-connection memory rows of `npm run bench` (part `connmem`): what one handshaken idle
 * connection costs a server, in KiB of RSS. For each server (a fresh process each time): read
 * the RSS of its whole process tree (the pid and its descendants, from `/proc`) once it has had
 * {@linkcode WARMUP_CONNS} connections and dropped them (what it compiles and sizes once for its
 * connection paths is not a cost per connection), open N
 * connections with `go-load idle` (it prints `{"ready":N}` once all are handshaken, then holds
 * them), sample the RSS until it settles (bounded), and take (after - before) / N. N is 1,000
 * and 10,000, and as many as the open-file limit allows up to 20,000 (at least 15,000: where V8's
 * young generation, a fixed cost of up to about 48 MiB that grows with what survives its
 * scavenges, is grown in the bare Deno server too, so the division no longer shows when each
 * server happened to grow it) (`--quick`: 50 and 200). The servers, per runtime and transport (TCP, WebSocket):
 * bare (`bench/_bare.mjs`, the runtime's socket API without the library), ours (`serve` of
 * `conformance/peer.ts`) and the Go reference (`go-peer serve`); on Deno also both with
 * `--v8-flags=--max-semi-space-size=1` ({@linkcode DENO_PINNED}). The open-file limit of the
 * server and of the load generator is raised to what the hard limit allows (at most 65,536).
 *
 * Run alone: `deno run -A bench/bench.ts --parts connmem [--quick]`.
 *
 * @module
 */

import type { ChildProcess } from "node:child_process";
import {
  errorText,
  fileLimit,
  goLoad,
  READY,
  RUN,
  SERVE,
  serveArgs,
  sleep,
  spawnLimited,
  stopChild,
  treeRss,
  waitLine,
} from "./_procs.ts";

/** One server at one N. */
export interface ConnMemRow {
  transport: "tcp" | "ws";
  runtime: string;
  /** `bare`, `ours` or `go`. */
  server: string;
  conns: number;
  /** RSS of the server's process tree before and after (KiB). */
  before_kib?: number;
  after_kib?: number;
  /** (after - before) / conns. */
  kib_per_conn?: number;
  /** Whether the RSS settled before the sampling gave up. */
  settled?: boolean;
  /** How many processes the tree had. */
  procs?: number;
  error?: string;
}

/** What to run. */
export interface ConnMemOptions {
  /** Of deno, bun, node, go (go: the Go reference rows). */
  runtimes: readonly string[];
  quick: boolean;
}

/** Connections each server gets, and drops, before its RSS is first read. */
export const WARMUP_CONNS = 200;

/** Samples until two in a row are within 1% (or 256 KiB), at most `max` samples. */
async function settle(pid: number, everyMs: number, max: number) {
  let last = treeRss(pid);
  for (let i = 0; i < max; i++) {
    await sleep(everyMs);
    const now = treeRss(pid);
    if (Math.abs(now.kib - last.kib) <= Math.max(256, last.kib * 0.01)) {
      return { ...now, settled: true };
    }
    last = now;
  }
  return { ...last, settled: false };
}

/** Waits (bounded) for `child`'s first stdout line matching `re`; its groups. */
function waitFor(child: ChildProcess, re: RegExp, ms: number, what: string): Promise<string[]> {
  return waitLine(child, re, {
    ms,
    stderrTail: 2000,
    timeout: () => `${what}: nothing within ${ms} ms`,
    exited: (code, stderr) => `${what} exited ${code}: ${stderr.trim().slice(-400)}`,
  });
}

/**
 * Deno again with V8's young generation held at its smallest (the same flag for the bare server
 * and ours): how the RSS compares once it shows only what the connections keep, not when each
 * server's young generation took its last growth step.
 */
export const DENO_PINNED = "deno, young gen pinned";
const PINNED_FLAG = "--v8-flags=--max-semi-space-size=1";

function serverCmd(runtime: string, server: string, t: "tcp" | "ws"): string[] {
  if (server === "go") return [...SERVE.go, ...serveArgs(t)];
  if (runtime === DENO_PINNED) {
    const [deno, run, ...rest] = serverCmd("deno", server, t);
    return [deno, run, PINNED_FLAG, ...rest];
  }
  const rt = runtime as keyof typeof RUN;
  if (server === "bare") return [...RUN[rt], "bench/_bare.mjs", t, "127.0.0.1:0"];
  return [...SERVE[rt], ...serveArgs(t)];
}

async function measure(
  o: ConnMemOptions,
  row: ConnMemRow,
  limit: number,
): Promise<void> {
  let server: ChildProcess | undefined;
  let load: ChildProcess | undefined;
  try {
    server = spawnLimited(serverCmd(row.runtime, row.server, row.transport), limit);
    const [, addr, path] = await waitFor(
      server,
      READY,
      30_000,
      `${row.runtime} ${row.server} serve`,
    );
    const hold = o.quick ? "30s" : "300s";
    const ws = row.transport === "ws" ? ["--ws", path ?? "/gotalk/"] : [];
    // Warm-up: connections made and dropped before the first figure, so that what a server
    // compiles and sizes once for its connection paths is not divided among the N.
    const warm = o.quick ? 20 : WARMUP_CONNS;
    load = spawnLimited(
      [goLoad, "idle", "--conns", String(warm), "--hold", hold, "--addr", addr, ...ws],
      limit,
    );
    await waitFor(load, /^\{"ready":\d+\}$/m, 60_000, "go-load idle (warm-up)");
    await stopChild(load);
    load = undefined;
    const before = await settle(server.pid!, o.quick ? 100 : 300, o.quick ? 5 : 10);
    row.before_kib = before.kib;
    load = spawnLimited(
      [goLoad, "idle", "--conns", String(row.conns), "--hold", hold, "--addr", addr, ...ws],
      limit,
    );
    await waitFor(load, /^\{"ready":\d+\}$/m, 120_000, "go-load idle");
    const after = await settle(server.pid!, o.quick ? 100 : 500, o.quick ? 5 : 20);
    row.after_kib = after.kib;
    row.settled = after.settled;
    row.procs = after.procs;
    row.kib_per_conn = (after.kib - before.kib) / row.conns;
  } catch (e) {
    row.error = errorText(e);
  } finally {
    await stopChild(load);
    await stopChild(server);
  }
}

/** Runs the rows; returns them with the markdown of the table. */
export async function benchConnMemory(
  o: ConnMemOptions,
): Promise<{ rows: ConnMemRow[]; markdown: string[]; failures: number; limit: number }> {
  const limit = fileLimit();
  const counts = o.quick ? [50, 200] : [1000, 10_000];
  // Leave room for the process's own files (a runtime keeps a few dozen open).
  const most = Math.min(20_000, Math.floor((limit - 1_000) / 1_000) * 1_000);
  if (!o.quick && most >= 15_000) counts.push(most);
  console.log(`per-connection memory: open-file limit ${limit}, N = ${counts.join(", ")}`);
  const rows: ConnMemRow[] = [];
  const js = o.runtimes.filter((r) => r !== "go");
  for (const transport of ["tcp", "ws"] as const) {
    const servers: Array<[string, string]> = [];
    for (const rt of js) servers.push([rt, "bare"], [rt, "ours"]);
    if (js.includes("deno")) servers.push([DENO_PINNED, "bare"], [DENO_PINNED, "ours"]);
    if (o.runtimes.includes("go")) servers.push(["go", "go"]);
    for (const [runtime, server] of servers) {
      for (const conns of counts) {
        const row: ConnMemRow = { transport, runtime, server, conns };
        await measure(o, row, limit);
        console.log(
          `${transport.padEnd(3)} ${runtime.padEnd(4)} ${server.padEnd(4)} ${
            String(conns).padStart(6)
          } conns: ` +
            (row.error ??
              `${
                  row.kib_per_conn!.toFixed(1)
                } KiB/conn (${row.before_kib} -> ${row.after_kib} KiB` +
                `, ${row.procs} proc${row.procs === 1 ? "" : "s"}` +
                `${row.settled ? "" : ", not settled"})`),
        );
        rows.push(row);
      }
    }
  }
  return {
    rows,
    markdown: connMemTable(rows, counts, limit, o.quick),
    failures: rows.filter((r) => r.error).length,
    limit,
  };
}

function cell(r: ConnMemRow | undefined): string {
  if (!r) return "–";
  if (r.error || r.kib_per_conn === undefined) return "failed";
  return r.kib_per_conn.toFixed(1) + (r.settled ? "" : "*");
}

/**
 * KiB that each connection added between `from` and `to` connections costs a server: the growth
 * of (RSS after - RSS before) from one N to the next, over the connections added. What a process
 * sizes once (V8's young generation takes its steps at some N and not others) shows in the
 * figure at one N but not in this slope, unless a step falls between the two.
 */
export function addedKib(
  rows: ConnMemRow[],
  key: Pick<ConnMemRow, "transport" | "runtime" | "server">,
  from: number,
  to: number,
): number | undefined {
  const total = (n: number) => {
    const r = rows.find((r) =>
      r.transport === key.transport && r.runtime === key.runtime && r.server === key.server &&
      r.conns === n
    );
    return r?.kib_per_conn === undefined ? undefined : r.kib_per_conn * n;
  };
  const a = total(from);
  const b = total(to);
  return a === undefined || b === undefined ? undefined : (b - a) / (to - from);
}

/** The markdown table: KiB per connection at each N, and ours / max(Go, 1.25 x bare). */
export function connMemTable(
  rows: ConnMemRow[],
  counts: number[],
  limit: number,
  quick: boolean,
): string[] {
  const fmt = (n: number) => n.toLocaleString("en-US");
  /** The N the target is judged at: from the second on (the first is mostly fixed costs). */
  const judged = counts.slice(1);
  /** The slope between the last two N, when there are three. */
  const span = counts.length >= 3 ? counts.slice(-2) : undefined;
  const spanText = span ? `${fmt(span[0])} → ${fmt(span[1])}` : "";
  const md = [
    "### Memory per idle connection (RSS of the server's process tree)",
    "",
    `KiB per handshaken idle connection: (RSS with N connections held by \`go-load idle\` - RSS ` +
    `before) / N, a fresh server each time, "before" read once ${WARMUP_CONNS} connections were ` +
    `made and dropped; open-file limit ${fmt(limit)}. Target: ours ÷ ` +
    `max(Go, 1.25 × bare) ≤ 1, at each N from the second. \\* RSS had not settled when sampling ` +
    `stopped.` +
    (span
      ? ` "Added": KiB each connection added from ${spanText} costs (the growth of RSS after - ` +
        `RSS before, over the connections added), and ours ÷ max(Go, 1.25 × bare) of that.`
      : "") +
    (quick ? " **--quick: the numbers mean nothing.**" : ""),
    "",
    `| Transport | Runtime | Server | ${counts.map((n) => `KiB/conn @ ${fmt(n)}`).join(" | ")} ` +
    `| ${judged.map((n) => `ours ÷ max(Go, 1.25 × bare) @ ${fmt(n)}`).join(" | ")} |` +
    (span ? ` added KiB/conn ${spanText} | ours ÷ max(Go, 1.25 × bare), added |` : ""),
    `|---|---|---|${counts.map(() => "---:").join("|")}|${judged.map(() => "---:").join("|")}|` +
    (span ? "---:|---:|" : ""),
  ];
  const ratio = (ours?: number, go?: number, bare?: number) => {
    const ref = Math.max(go ?? -Infinity, bare === undefined ? -Infinity : 1.25 * bare);
    return ours !== undefined && ref > 0 ? (ours / ref).toFixed(2) : "–";
  };
  const at = (t: string, rt: string, s: string, n: number) =>
    rows.find((r) => r.transport === t && r.runtime === rt && r.server === s && r.conns === n);
  for (const t of ["tcp", "ws"]) {
    for (const r of rows.filter((r) => r.transport === t && r.conns === counts[0])) {
      const ratios = judged.map((n) =>
        r.server !== "ours" ? "" : ratio(
          at(t, r.runtime, "ours", n)?.kib_per_conn,
          at(t, "go", "go", n)?.kib_per_conn,
          at(t, r.runtime, "bare", n)?.kib_per_conn,
        )
      );
      if (span) {
        const added = (runtime: string, server: string) =>
          addedKib(rows, { transport: t as "tcp" | "ws", runtime, server }, span[0], span[1]);
        const mine = added(r.runtime, r.server);
        ratios.push(
          mine === undefined ? "–" : mine.toFixed(1),
          r.server !== "ours" ? "" : ratio(mine, added("go", "go"), added(r.runtime, "bare")),
        );
      }
      const label = r.server === "go" ? "Go" : r.server;
      md.push(
        `| ${t === "tcp" ? "TCP" : "WebSocket"} | ${r.runtime} | ${label} | ${
          counts.map((n) => cell(at(t, r.runtime, r.server, n))).join(" | ")
        } | ${ratios.join(" | ")} |`,
      );
    }
  }
  md.push("");
  return md;
}
