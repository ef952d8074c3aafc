/**
 * The stress section: small versions of issue 15's abuse scenarios against a live `serve` of
 * each implementation (a fresh child process per scenario), with figures printed and the bounds
 * asserted for ours. The Go reference runs the same rows where cheap, printed beside ours and
 * never asserted.
 *
 * ```
 * deno run -A conformance/stress.ts [--impls ts-deno,ts-bun,ts-node,go] [--only ROWS] [--json FILE]
 * ```
 *
 * Rows (`--only`): `noread`, `flood`, `stalled`, `fd`, `fd-ws`, `churn`, `ws`, `fuzz`. Every bound is on
 * bytes, counts or CPU seconds; waits are bounded by hang guards only. Node runs the compiled
 * build in .build/node/ (scripts/build_npm.ts) and Go the peer in .build/go-peer (built by
 * conformance/matrix.ts or `go build -o .build/go-peer .` in conformance/go-peer); an
 * implementation that is not built is skipped with a note. Exits non-zero if a bound fails.
 *
 * @module
 */
// deno-lint-ignore-file no-console
import { existsSync, writeFileSync } from "node:fs";
import process from "node:process";
import { IMPLS, type Row, type Served, type Start, startServe } from "./_stress_proc.ts";
import {
  churn,
  fdExhaustion,
  fdExhaustionWs,
  flood,
  fuzz,
  noRead,
  stalled,
} from "./_stress_rows.ts";
import { wsAbuse } from "./_stress_ws.ts";

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

/** A scenario: runs against one implementation and returns its figures and verdict. */
type Scenario = (impl: string, start: Start) => Promise<Row>;

const SCENARIOS: Record<string, Scenario> = {
  noread: noRead,
  flood,
  stalled,
  fd: fdExhaustion,
  "fd-ws": fdExhaustionWs,
  churn,
  ws: wsAbuse,
  fuzz,
};

const impls = (arg("--impls") ?? "ts-deno,ts-bun,ts-node,go").split(",");
const only = (arg("--only") ?? Object.keys(SCENARIOS).join(",")).split(",");
for (const i of impls) if (!IMPLS[i]) throw new Error(`Unknown implementation ${i}`);
for (const s of only) if (!SCENARIOS[s]) throw new Error(`Unknown row ${s}`);

const started = performance.now();
const results: Array<Row & { impl: string; row: string; seconds: number }> = [];
let failed = 0;
for (const impl of impls) {
  const exe = IMPLS[impl][impl === "ts-deno" ? 3 : impl === "go" ? 0 : 1];
  if (!existsSync(exe)) {
    console.log(`${impl}: skipped (${exe} is not built)`);
    if (impl !== "go") failed++;
    continue;
  }
  for (const name of only) {
    // Go skips two rows: it holds some mutated connections for seconds, which makes the fuzz
    // row cost a minute, and the issue already has its churn figures.
    if (impl === "go" && (name === "fuzz" || name === "churn")) continue;
    const servers: Served[] = [];
    const start = async (transport: "tcp" | "ws", extra: string[] = [], nofile?: number) => {
      const s = await startServe(impl, transport, extra, nofile);
      servers.push(s);
      return s;
    };
    const t0 = performance.now();
    let row: Row;
    try {
      row = await SCENARIOS[name](impl, start);
    } catch (e) {
      // A server that died is the usual cause: say so, with the end of what it printed.
      const dead = servers.filter((x) => x.child.exitCode !== null || x.child.signalCode !== null);
      row = {
        ok: false,
        figures: `error: ${e instanceof Error ? e.message : e}`,
        details: dead.map((x) =>
          `${impl} serve exited (${x.child.exitCode ?? x.child.signalCode}); its stderr ends: ` +
          x.stderr().slice(-600)
        ),
      };
    } finally {
      await Promise.all(servers.map((s) => s.stop()));
    }
    const seconds = (performance.now() - t0) / 1000;
    // Go's rows are figures to compare with, not verdicts.
    const asserted = impl !== "go";
    if (asserted && !row.ok) failed++;
    const verdict = !asserted ? "(Go: not asserted)" : row.ok ? "ok" : "FAILED";
    console.log(
      `${name.padEnd(8)} ${impl.padEnd(8)} ${verdict} ${row.figures} [${seconds.toFixed(1)} s]`,
    );
    for (const d of row.details ?? []) console.log(`    ${d}`);
    results.push({ ...row, impl, row: name, seconds });
  }
}
const total = (performance.now() - started) / 1000;
console.log(
  `\nstress: ${results.filter((r) => r.impl !== "go" && r.ok).length} passed, ${failed} failed ` +
    `(${results.filter((r) => r.impl === "go").length} Go rows, not asserted) in ${
      total.toFixed(1)
    } s`,
);
const json = arg("--json");
if (json) writeFileSync(json, JSON.stringify({ results, failed, seconds: total }, null, 2));
process.exit(failed === 0 ? 0 : 1);
