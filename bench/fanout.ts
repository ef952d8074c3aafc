// deno-lint-ignore-file no-console
/**
 * The fan-out rows of `npm run bench`: one 64 B notification to 1,000 members, repeated, in
 * messages delivered per second. The members are raw connections of one Go process
 * (`bench/go-fanout recv`), the same for every server; the servers are the Go reference (a loop
 * of `Sock.Notify` over its 1,000 socks: `go-fanout serve`) and ours on Deno, Bun and Node
 * (`bench/_fanout_server.ts`), each both with `topic.notify` (one encode, the same frame bytes
 * to every member) and with a hand loop of `peer.notify`. A rate is members x notifications
 * over the time from the server's first notify to the last member's last frame (one machine,
 * one wall clock).
 *
 * Run alone: `deno run -A bench/fanout.ts [--quick] [--rounds N]`.
 *
 * @module
 */

import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { dirname, join } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const bin = (name: string) => join(root, "node_modules", ".bin", name);
const buildDir = join(root, ".build", "bench");
const goFanout = join(buildDir, "go-fanout");
const nodeServer = join(buildDir, "fanout_server.mjs");
const script = join(root, "bench", "_fanout_server.ts");

/** One fan-out measurement (the median of the rounds). */
export interface FanoutRow {
  impl: string;
  /** How the server fans out: `topic.notify`, a hand loop of `peer.notify`, Go's loop. */
  how: string;
  members: number;
  notifications: number;
  /** Messages delivered per second (members x notifications / seconds). */
  msgs_per_s?: number;
  /** Against the Go reference's rate. */
  ratio?: number;
  error?: string;
}

/** What to run. */
export interface FanoutOptions {
  runtimes: readonly string[];
  rounds: number;
  quick: boolean;
}

/** Builds the Go program and the Node bundle. */
export function buildFanout(runtimes: readonly string[]): void {
  execFileSync("go", ["build", "-o", goFanout, "."], {
    cwd: join(root, "bench", "go-fanout"),
    stdio: "inherit",
  });
  if (runtimes.includes("node")) {
    execFileSync(bin("esbuild"), [
      script,
      "--bundle",
      "--platform=node",
      "--format=esm",
      "--target=node20",
      "--log-level=warning",
      `--outfile=${nodeServer}`,
    ], { cwd: root, stdio: "inherit" });
  }
}

/** Lines of a child's stdout, as they come. */
function lineReader(child: ChildProcess): () => Promise<string> {
  let buf = "";
  const waiting: Array<(line: string) => void> = [];
  const ready: string[] = [];
  child.stdout!.on("data", (d) => {
    buf += d;
    let nl;
    while ((nl = buf.indexOf("\n")) >= 0) {
      const l = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      const w = waiting.shift();
      w ? w(l) : ready.push(l);
    }
  });
  return () =>
    new Promise((resolve, reject) => {
      const l = ready.shift();
      if (l !== undefined) return resolve(l);
      const timer = setTimeout(() => reject(new Error("No line within 120 s")), 120_000);
      waiting.push((line) => {
        clearTimeout(timer);
        resolve(line);
      });
    });
}

function start(cmd: string[]): { child: ChildProcess; next: () => Promise<string> } {
  const child = spawn(cmd[0], cmd.slice(1), {
    cwd: root,
    stdio: ["pipe", "pipe", "inherit"],
    env: { ...process.env, NO_COLOR: "1", DENO_NO_UPDATE_CHECK: "1" },
  });
  return { child, next: lineReader(child) };
}

/** One run: a server, the receivers, the rate. */
async function once(serverCmd: string[], members: number, count: number): Promise<number> {
  const server = start(serverCmd);
  let recv: ReturnType<typeof start> | undefined;
  try {
    const addr = /^READY tcp:\/\/(\S+)$/.exec(await server.next())?.[1];
    if (addr === undefined) throw new Error("The server printed no READY line");
    recv = start([
      goFanout,
      "recv",
      "--addr",
      addr,
      "--conns",
      String(members),
      "--count",
      String(count),
    ]);
    if ((await recv.next()) !== "READY") throw new Error("The receivers printed no READY");
    server.child.stdin!.write("go\n");
    const started = JSON.parse(await server.next());
    const ended = JSON.parse(await recv.next());
    if (started.skipped > 0) throw new Error(`${started.skipped} members were skipped`);
    return members * count / ((ended.end_ns - started.start_ns) / 1e9);
  } finally {
    server.child.stdin!.end();
    for (const c of [server.child, recv?.child]) {
      if (c === undefined || c.exitCode !== null) continue;
      const exited = new Promise((resolve) => c.once("exit", resolve));
      const t = setTimeout(() => c.kill("SIGKILL"), 5000);
      await exited;
      clearTimeout(t);
    }
  }
}

/** The server command of each row. */
function rowsToRun(runtimes: readonly string[], members: number, count: number) {
  const shape = ["--conns", String(members), "--count", String(count), "--size", "64"];
  const ours: Record<string, string[]> = {
    deno: [bin("deno"), "run", "-A", script],
    bun: [bin("bun"), script],
    node: ["node", nodeServer],
  };
  const rows: Array<{ impl: string; how: string; cmd: string[] }> = [
    { impl: "go", how: "loop of Sock.Notify", cmd: [goFanout, "serve", ...shape] },
  ];
  for (const r of runtimes) {
    if (!(r in ours)) continue;
    rows.push({ impl: r, how: "topic.notify", cmd: [...ours[r], "--mode", "topic", ...shape] });
    rows.push({
      impl: r,
      how: "loop of peer.notify",
      cmd: [...ours[r], "--mode", "loop", ...shape],
    });
  }
  return rows;
}

/** Runs every row `rounds` times, interleaved; each row's figure is its median. */
export async function runFanout(options: FanoutOptions): Promise<FanoutRow[]> {
  const members = options.quick ? 50 : 1000;
  const count = options.quick ? 20 : 1000;
  const plan = rowsToRun(options.runtimes, members, count);
  const samples = plan.map(() => [] as number[]);
  const errors: Array<string | undefined> = plan.map(() => undefined);
  for (let round = 0; round < options.rounds; round++) {
    for (const [i, row] of plan.entries()) {
      if (errors[i] !== undefined) continue;
      try {
        const rate = await once(row.cmd, members, count);
        samples[i].push(rate);
        console.log(
          `fan-out ${row.impl.padEnd(5)} ${row.how.padEnd(20)} ${Math.round(rate)} msgs/s`,
        );
      } catch (e) {
        errors[i] = e instanceof Error ? e.message : String(e);
        console.log(`fan-out ${row.impl} ${row.how}: FAILED ${errors[i]}`);
      }
    }
  }
  const rows: FanoutRow[] = plan.map((row, i) => {
    const s = samples[i].sort((a, b) => a - b);
    return {
      impl: row.impl,
      how: row.how,
      members,
      notifications: count,
      msgs_per_s: s.length > 0 ? s[Math.floor(s.length / 2)] : undefined,
      error: errors[i],
    };
  });
  const go = rows[0].msgs_per_s;
  for (const r of rows) if (go && r.msgs_per_s) r.ratio = r.msgs_per_s / go;
  return rows;
}

/** The Markdown table of the rows. */
export function fanoutTable(rows: FanoutRow[]): string[] {
  const first = rows[0];
  const lines = [
    `## Fan-out: one 64 B notification to ${first?.members.toLocaleString("en-US")} members`,
    "",
    `${first?.notifications} notifications, each to every member (raw TCP members in one Go ` +
    "process); messages delivered per second, from the first notify to the last member's " +
    "last frame.",
    "",
    "| server | fan-out | msgs/s | × Go |",
    "|---|---|---:|---:|",
  ];
  for (const r of rows) {
    lines.push(
      r.error
        ? `| ${r.impl} | ${r.how} | **failed**: ${r.error.replaceAll("|", "/")} | |`
        : `| ${r.impl} | ${r.how} | ${Math.round(r.msgs_per_s!).toLocaleString("en-US")} | ${
          r.ratio?.toFixed(2) ?? "–"
        } |`,
    );
  }
  lines.push("");
  return lines;
}

if (import.meta.main) {
  const quick = process.argv.includes("--quick");
  const i = process.argv.indexOf("--rounds");
  const runtimes = ["deno", "bun", "node"];
  buildFanout(runtimes);
  const rows = await runFanout({
    runtimes,
    rounds: i >= 0 ? Number(process.argv[i + 1]) : quick ? 1 : 3,
    quick,
  });
  console.log("\n" + fanoutTable(rows).join("\n"));
  console.log(JSON.stringify(rows));
  process.exit(rows.some((r) => r.error) ? 1 : 0);
}
