/**
 * The interop matrix: builds the Go reference peer, then runs
 *
 * 1. `check` of every implementation against `serve` of every implementation (TS on Deno, Bun
 *    and Node; Go), over each transport;
 * 2. the case catalogue (`driver.ts`) against `serve` of every implementation, over each
 *    transport (report columns `ts-deno` for tcp, `ts-deno/ws` for ws);
 * 3. the idle test: our client holds an idle connection to a Go server that has Go's default
 *    30 s read timeout, and a Go client (30 s read timeout) holds one to our server, each for
 *    40 s, without being dropped (runs in the background while 1 and 2 run). This is where
 *    the catalogue's coverage map points for Go's 30 s default read timeout and its clients'
 *    20 s heartbeats: the catalogue's servers run with the contract's defaults (no timeout).
 *
 * `--jobs N` runs up to N catalogue drivers at once (default 2). With `ws` among the transports it
 * also runs the gotalk.js probe (`gotalk_js.ts`) on Bun and on Deno.
 *
 * It writes `DIR/matrix.json`, `DIR/matrix.md`, the catalogue results, and (through
 * `report.ts`) `DIR/report.md`, prints the tables, and exits 1 if any cell, case or idle test
 * failed.
 *
 * ```sh
 * deno run -A conformance/matrix.ts [--out DIR] [--impls ts-deno,ts-bun,ts-node,go]
 *   [--transports tcp,ws] [--idle-ms 40000] [--no-idle] [--no-catalogue] [--jobs 2]
 * ```
 *
 * The Node implementation runs the compiled build (`.build/node/conformance/peer.js`): run
 * `deno run -A scripts/build_npm.ts` first (the test command does).
 *
 * @module
 */
// deno-lint-ignore-file no-console
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";

const started = performance.now();
const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const bin = (name: string) => join(root, "node_modules", ".bin", name);
const goPeer = join(root, ".build", "go-peer");

/** How to start each implementation's peer. */
const IMPLS: Record<string, string[]> = {
  "ts-deno": [bin("deno"), "run", "-A", join(root, "conformance", "peer.ts")],
  "ts-bun": [bin("bun"), join(root, "conformance", "peer.ts")],
  "ts-node": ["node", join(root, ".build", "node", "conformance", "peer.js")],
  "go": [goPeer],
};

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

const out = arg("--out") ?? join(root, "conformance", "reports");
const impls = (arg("--impls") ?? Object.keys(IMPLS).join(",")).split(",");
const transports = (arg("--transports") ?? "tcp").split(",");
for (const t of transports) {
  if (t !== "tcp" && t !== "ws") throw new Error(`Unknown transport ${t}`);
}
/** How many checks every `check` runs (conformance/README.md). */
const CHECKS = 15;
const idleMs = Number(arg("--idle-ms") ?? 40_000);
const runIdle = !process.argv.includes("--no-idle");
const runCatalogue = !process.argv.includes("--no-catalogue");
const jobs = Number(arg("--jobs") ?? 2);
for (const i of impls) if (!IMPLS[i]) throw new Error(`Unknown implementation ${i}`);
mkdirSync(out, { recursive: true });

interface Server {
  url: string;
  child: ChildProcess;
  stop(): Promise<number | null>;
}

/** Starts `serve` and waits (bounded) for its READY line. */
function startServer(impl: string, transport: string, extra: string[] = []): Promise<Server> {
  const [cmd, ...pre] = IMPLS[impl];
  const child = spawn(cmd, [
    ...pre,
    "serve",
    "--transport",
    transport,
    "--addr",
    "127.0.0.1:0",
    ...extra,
  ], { cwd: root, stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, NO_COLOR: "1" } });
  let stderr = "";
  child.stderr!.on("data", (d) => stderr += d);
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  return new Promise((resolve, reject) => {
    let buf = "";
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`${impl} serve printed no READY line within 30 s: ${stderr}`));
    }, 30_000);
    child.stdout!.on("data", (d) => {
      buf += d;
      const m = /^READY (\S+)$/m.exec(buf);
      if (!m) return;
      clearTimeout(timer);
      resolve({
        url: m[1],
        child,
        async stop() {
          // process.kill: Deno's child.kill misreports a handled SIGTERM.
          if (child.exitCode === null) process.kill(child.pid!, "SIGTERM");
          const t = setTimeout(() => child.kill("SIGKILL"), 10_000);
          const code = await exited;
          clearTimeout(t);
          return code;
        },
      });
    });
    child.on("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`${impl} serve exited ${code} before READY: ${stderr}`));
    });
  });
}

interface CheckResult {
  id: string;
  ok: boolean;
  ms?: number;
  detail?: string;
}

/** Runs `check` (bounded) and parses its JSON lines. */
function runCheck(
  impl: string,
  url: string,
  extra: string[] = [],
  timeoutMs = 120_000,
): Promise<{ code: number | null; results: CheckResult[]; stderr: string }> {
  const [cmd, ...pre] = IMPLS[impl];
  const child = spawn(cmd, [...pre, "check", "--url", url, ...extra], {
    cwd: root,
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, NO_COLOR: "1" },
  });
  let stdout = "";
  let stderr = "";
  child.stdout!.on("data", (d) => stdout += d);
  child.stderr!.on("data", (d) => stderr += d);
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.on("exit", (code) => {
      clearTimeout(timer);
      const results = stdout.split("\n").filter((l) => l.startsWith("{")).map((l) =>
        JSON.parse(l) as CheckResult
      );
      resolve({ code, results, stderr });
    });
  });
}

// ---------------------------------------------------------------------------------------------

console.log("building the Go reference peer (github.com/rsms/gotalk v1.3.7)...");
execFileSync("go", ["build", "-o", goPeer, "."], {
  cwd: join(root, "conformance", "go-peer"),
  stdio: "inherit",
});
if (impls.includes("ts-node") && !existsSync(IMPLS["ts-node"][1])) {
  throw new Error("No Node build: run `deno run -A scripts/build_npm.ts` first");
}

let failures = 0;

// 3. The idle tests, in the background.
interface IdleResult {
  name: string;
  ok: boolean;
  detail: string;
}
const idle: Promise<IdleResult[]> = runIdle ? idleTests() : Promise.resolve([]);

async function idleTests(): Promise<IdleResult[]> {
  const tsImpls = impls.filter((i) => i.startsWith("ts-"));
  const tasks: Array<Promise<IdleResult>> = [];
  const oneIdle = async (name: string, server: Server, client: string): Promise<IdleResult> => {
    const r = await runCheck(client, server.url, ["--idle", String(idleMs)], idleMs + 60_000);
    const res = r.results.find((x) => x.id === "idle");
    return {
      name,
      ok: r.code === 0 && res?.ok === true,
      detail: res?.detail ?? (res ? `${res.ms} ms` : `exit ${r.code}: ${r.stderr.slice(-300)}`),
    };
  };
  // Our clients against a Go server with Go's default 30 s read timeout.
  if (impls.includes("go")) {
    const go = await startServer("go", "tcp", ["--read-timeout", "30000"]);
    for (const c of tsImpls) {
      tasks.push(
        oneIdle(`${c} client idle ${idleMs / 1000} s on go server (30 s read timeout)`, go, c),
      );
    }
    // A Go client (30 s read timeout) against our servers with the library defaults.
    for (const s of tsImpls) {
      const ts = await startServer(s, "tcp", ["--defaults"]);
      tasks.push(
        oneIdle(`go client idle ${idleMs / 1000} s on ${s} server (library defaults)`, ts, "go")
          .finally(() => ts.stop()),
      );
    }
    const results = await Promise.all(tasks);
    await go.stop();
    return results;
  }
  return [];
}

// 1. The check matrix.
type Cell = { ok: boolean; passed: number; failed: string[]; code: number | null };
const matrix: Record<string, Record<string, Record<string, Cell>>> = {};
for (const transport of transports) {
  matrix[transport] = {};
  for (const serverImpl of impls) {
    const server = await startServer(serverImpl, transport);
    matrix[transport][serverImpl] = {};
    for (const clientImpl of impls) {
      const r = await runCheck(clientImpl, server.url);
      const failed = r.results.filter((x) => !x.ok).map((x) => `${x.id}: ${x.detail}`);
      const ok = r.code === 0 && failed.length === 0 && r.results.length >= CHECKS;
      if (!ok) {
        failures++;
        if (r.results.length < CHECKS) failed.push(`exit ${r.code}: ${r.stderr.slice(-500)}`);
      }
      matrix[transport][serverImpl][clientImpl] = {
        ok,
        passed: r.results.filter((x) => x.ok).length,
        failed,
        code: r.code,
      };
      console.log(
        `${transport}: ${clientImpl.padEnd(8)} check -> ${serverImpl.padEnd(8)} serve: ` +
          (ok ? `ok (${r.results.length} checks)` : `FAILED\n  ${failed.join("\n  ")}`),
      );
    }
    const code = await server.stop();
    if (code !== 0) {
      failures++;
      console.log(`${serverImpl} serve exited ${code} on SIGTERM (want 0)`);
    }
  }
}

// 1b. The gotalk.js probe (client-side facts no server case can see), where gotalk.js runs (Bun)
// and where it must not (Deno).
interface ProbeLine {
  id: string;
  ok: boolean;
  detail?: string;
}
const probes: { runtime: string; code: number | null; lines: ProbeLine[]; stderr: string }[] = [];
if (transports.includes("ws")) {
  for (
    const [runtime, cmd] of [
      ["bun", [bin("bun"), join(root, "conformance", "gotalk_js.ts")]],
      ["deno", [bin("deno"), "run", "-A", join(root, "conformance", "gotalk_js.ts")]],
    ] as const
  ) {
    const r = await new Promise<{ code: number | null; stdout: string; stderr: string }>(
      (resolve) => {
        const child = spawn(cmd[0], cmd.slice(1), {
          cwd: root,
          stdio: ["ignore", "pipe", "pipe"],
          env: { ...process.env, NO_COLOR: "1" },
        });
        let stdout = "";
        let stderr = "";
        child.stdout!.on("data", (d) => stdout += d);
        child.stderr!.on("data", (d) => stderr += d);
        const timer = setTimeout(() => child.kill("SIGKILL"), 60_000);
        child.on("exit", (code) => {
          clearTimeout(timer);
          resolve({ code, stdout, stderr });
        });
      },
    );
    const lines = r.stdout.split("\n").filter((l) => l.startsWith("{")).map((l) =>
      JSON.parse(l) as ProbeLine
    );
    probes.push({ runtime, code: r.code, lines, stderr: r.stderr.slice(-500) });
    if (r.code !== 0 || lines.length === 0) failures++;
    console.log(
      `gotalk.js probe on ${runtime}: ${
        r.code === 0 ? `ok (${lines.map((l) => l.id).join(", ")})` : `FAILED (exit ${r.code})`
      }`,
    );
  }
}

// 2. The catalogue against every server, over every transport.
const catalogueMs: Record<string, number> = {};
if (runCatalogue) {
  // Result files of an earlier run (another set of transports or implementations) would be
  // reported with this one's.
  for (const f of readdirSync(out)) {
    if (/^[\w.-]+\.json$/.test(f) && !/^(matrix|report)\.json$/.test(f)) rmSync(join(out, f));
  }
  // Up to `jobs` drivers at once: the catalogue mostly waits (timeouts, pauses, silences).
  const queue = transports.flatMap((t) => impls.map((i) => [i, t] as const));
  await Promise.all(Array.from({ length: Math.max(1, jobs) }, async () => {
    for (let next = queue.shift(); next; next = queue.shift()) {
      const [impl, transport] = next;
      const t0 = performance.now();
      const code = await catalogue(impl, transport);
      catalogueMs[transport === "tcp" ? impl : `${impl}/${transport}`] = performance.now() - t0;
      // The Go reference's deviations are NON-STRICT, never FAILED: any FAILED is a failure.
      if (code !== 0) failures++;
    }
  }));
  execFileSync(bin("deno"), ["run", "-A", join(root, "conformance", "report.ts"), out], {
    stdio: "inherit",
    env: { ...process.env, NO_COLOR: "1" },
  });
}

/** Runs the catalogue (bounded: 5 min) against `impl`'s server over `transport`. */
function catalogue(impl: string, transport: string): Promise<number | null> {
  return new Promise<number | null>((resolve) => {
    const child = spawn(bin("deno"), [
      "run",
      "-A",
      join(root, "conformance", "driver.ts"),
      "--serve",
      IMPLS[impl].join(" "),
      "--transport",
      transport,
      "--name",
      impl,
      "--out",
      out,
    ], {
      cwd: root,
      stdio: ["ignore", "ignore", "inherit"],
      env: { ...process.env, NO_COLOR: "1" },
    });
    const timer = setTimeout(() => child.kill("SIGKILL"), 300_000);
    child.on("exit", (c) => {
      clearTimeout(timer);
      resolve(c);
    });
  });
}

const idleResults = await idle;
for (const r of idleResults) if (!r.ok) failures++;

// Reports.
const lines: string[] = ["# Interop matrix", ""];
for (const transport of transports) {
  lines.push(`## ${transport}: rows = \`check\` client, columns = \`serve\` server`, "");
  lines.push(`| client \\ server | ${impls.join(" | ")} |`);
  lines.push(`|---|${impls.map(() => "---").join("|")}|`);
  for (const c of impls) {
    const cells = impls.map((s) => {
      const cell = matrix[transport][s][c];
      return cell.ok ? `ok (${cell.passed})` : `**FAILED** (${cell.failed.length})`;
    });
    lines.push(`| ${c} | ${cells.join(" | ")} |`);
  }
  lines.push("");
}
if (probes.length) {
  lines.push(
    "## gotalk.js client probe (conformance/gotalk_js.ts)",
    "",
    "| runtime | probe | result |",
    "|---|---|---|",
  );
  for (const p of probes) {
    if (p.lines.length === 0) {
      lines.push(`| ${p.runtime} | — | **FAILED**: exit ${p.code} ${p.stderr} |`);
    }
    for (const l of p.lines) {
      lines.push(
        `| ${p.runtime} | ${l.id} | ${l.ok ? "ok" : "**FAILED**"}${
          l.detail ? `: ${l.detail}` : ""
        } |`,
      );
    }
  }
  lines.push("");
}
if (Object.keys(catalogueMs).length) {
  lines.push("## Catalogue run times", "", "| server | seconds |", "|---|---|");
  for (const t of transports) {
    for (const i of impls) {
      const k = t === "tcp" ? i : `${i}/${t}`;
      if (catalogueMs[k] !== undefined) {
        lines.push(`| ${k} | ${(catalogueMs[k] / 1000).toFixed(1)} |`);
      }
    }
  }
  lines.push("");
}
if (idleResults.length) {
  lines.push("## Idle connections", "", "| test | result |", "|---|---|");
  for (const r of idleResults) {
    lines.push(`| ${r.name} | ${r.ok ? "ok" : "**FAILED**"}: ${r.detail} |`);
  }
  lines.push("");
}
const md = lines.join("\n");
writeFileSync(join(out, "matrix.md"), md);
writeFileSync(
  join(out, "matrix.json"),
  JSON.stringify({ matrix, probes, catalogueMs, idle: idleResults }, null, 2),
);
console.log("\n" + md);
console.log(
  `conformance: ${failures === 0 ? "all green" : `${failures} failure(s)`} in ${
    ((performance.now() - started) / 1000).toFixed(0)
  } s`,
);
process.exit(failures === 0 ? 0 : 1);
