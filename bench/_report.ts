/**
 * The report of `bench/bench.ts`: the rows' shapes, the ratios to the Go reference, number
 * formats, the Markdown tables, and `bench.md` and `bench.json`.
 *
 * @module
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Env, Impl } from "./_procs.ts";

/** One measurement, as go-load and `_client.ts` print it. */
export interface Measured {
  requests: number;
  seconds: number;
  rps: number;
  mbps: number;
  p50_us: number;
  p99_us: number;
}

/** One implementation on one scenario of a throughput table (its median round). */
export interface Row extends Partial<Measured> {
  scenario: string;
  label: string;
  impl: string;
  /** Requests/s (MB/s for the stream row) over the Go reference's. */
  ratio?: number;
  /** Every round's requests/s (the row shows the median round). */
  rounds_rps?: number[];
  error?: string;
}

/** One server on one scenario of the peak memory table. */
export interface MemoryRow {
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

/** Sets each row's ratio to the `reference` implementation's row of the same scenario. */
export function addRatios(rows: Row[], reference = "go"): void {
  for (const row of rows) {
    const ref = rows.find((r) => r.scenario === row.scenario && r.impl === reference);
    if (ref?.rps === undefined || row.rps === undefined) continue;
    row.ratio = row.scenario.startsWith("stream") ? row.mbps! / ref.mbps! : row.rps / ref.rps;
  }
}

/** Sets each memory row's ratio: its peak over Go's peak on the same scenario. */
export function addMemoryRatios(rows: MemoryRow[]): void {
  for (const row of rows) {
    const go = rows.find((r) => r.scenario === row.scenario && r.impl === "go");
    if (go?.peak_mib && row.peak_mib) row.ratio = row.peak_mib / go.peak_mib;
  }
}

/** An integer with thousands separators. */
export function fmtInt(n: number): string {
  return Math.round(n).toLocaleString("en-US");
}

/** A number to about three significant digits ("–" if not finite). */
export function fmtNum(n: number): string {
  if (!Number.isFinite(n)) return "–";
  if (n >= 100) return fmtInt(n);
  return n >= 10 ? n.toFixed(1) : n.toFixed(2);
}

/** A throughput table; `column` heads the implementation column. */
export function throughputTable(
  title: string,
  rows: Row[],
  reference: string,
  column: "client" | "server" = "server",
): string[] {
  const lines = [
    `## ${title}`,
    "",
    `| scenario | ${column} | req/s | MB/s | p50 µs | p99 µs ` +
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

/** The peak memory table (nothing if there are no rows). */
export function memoryTable(rows: MemoryRow[]): string[] {
  if (!rows.length) return [];
  const md = [
    "## Peak memory (VmHWM) of the server",
    "",
    "| scenario | server | RSS at start MiB | peak RSS MiB | × Go |",
    "|---|---|---:|---:|---:|",
  ];
  let last = "";
  for (const r of rows) {
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
  return md;
}

/** The environment line that heads the console output and the report. */
export function envLine(env: Env): string {
  return `${env.cpus} x ${env.cpu}; ${env.go}; ${env.deno}; bun ${env.bun}; node ${env.node}; ${env.ws}`;
}

/** A part measured elsewhere (workers, fan-out, per-connection memory): its rows and table. */
export interface Section {
  rows: readonly unknown[];
  markdown: string[];
}

/** Everything a run measured, and how. */
export interface Report {
  env: Env;
  quick: boolean;
  rounds: number;
  warmupMs: number;
  durationMs: number;
  servers: Row[];
  websocket: Row[];
  clients: Row[];
  /** Clients over WebSocket against the Go server: gotalk.js on Bun, and ours. */
  wsClients: Row[];
  memory: MemoryRow[];
  workers: Section;
  fanout: Section;
  connmem: Section;
}

/** The report as Markdown. */
export function markdown(r: Report): string {
  const md: string[] = [
    "# gotalk benchmark",
    "",
    `${envLine(r.env)}.` +
    (r.quick ? " **--quick: tiny load, the numbers mean nothing.**" : ""),
    `Each cell is the median of ${r.rounds} round(s), the implementations measured in turn; a ` +
    `round is a warm-up (${r.warmupMs} ms in the first, then ${Math.min(r.warmupMs, 250)} ms) ` +
    `and ${r.durationMs} ms measured (the stream row: a fixed size). MB/s counts payload bytes ` +
    "both ways. The stream row's req/s is parts/s and its latency a part's round trip; its " +
    "ratio compares MB/s.",
    "",
    ...throughputTable("Servers (load: go-load, raw-socket pipelined framer)", r.servers, "Go"),
  ];
  if (r.websocket.length) {
    md.push(
      ...throughputTable(
        "WebSocket servers (load: go-load --ws, header and payload as two messages; 1 msg: one)",
        r.websocket,
        "Go",
      ),
    );
  }
  if (r.clients.length) {
    md.push(
      ...throughputTable(
        "Clients against the Go server (Go: gotalk's Sock.BufferRequest)",
        r.clients,
        "Go client",
        "client",
      ),
    );
  }
  if (r.wsClients.length) {
    md.push(
      ...throughputTable(
        "WebSocket clients against the Go server (gotalk.js: the reference's browser client, " +
          "on Bun; +c: coalesceWrites)",
        r.wsClients,
        "gotalk.js",
        "client",
      ),
    );
  }
  md.push(...memoryTable(r.memory));
  md.push(...r.workers.markdown, ...r.fanout.markdown, ...r.connmem.markdown);
  return md.join("\n");
}

/** Writes `bench.md` and `bench.json` into `out`; returns the Markdown. */
export function writeReport(out: string, r: Report): string {
  const report = markdown(r);
  writeFileSync(join(out, "bench.md"), report);
  writeFileSync(
    join(out, "bench.json"),
    JSON.stringify(
      {
        date: new Date().toISOString(),
        quick: r.quick,
        rounds: r.rounds,
        warmup_ms: r.warmupMs,
        duration_ms: r.durationMs,
        env: r.env,
        servers: r.servers,
        websocket: r.websocket,
        clients: r.clients,
        ws_clients: r.wsClients,
        memory: r.memory,
        workers: r.workers.rows,
        fanout: r.fanout.rows,
        connmem: r.connmem.rows,
      },
      null,
      2,
    ) + "\n",
  );
  return report;
}
