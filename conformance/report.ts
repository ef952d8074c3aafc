/**
 * Builds the conformance matrix from driver results.
 *
 * ```sh
 * deno run -A conformance/report.ts DIR
 * ```
 *
 * Reads every `DIR/*.json` written by `driver.ts --out DIR` (one per implementation and
 * transport), writes `DIR/report.md` (a summary of verdict counts per implementation and
 * transport, a table with one row per case and one column per implementation and transport —
 * `ts-deno` for tcp, `ts-deno/ws` for WebSocket, `—` where a case does not run over that
 * transport —, the details behind every verdict other than OK, and the coverage map of
 * `shared/interop-notes.md`) and `DIR/report.json`, and prints the summary table. Exits 1 if the
 * coverage map names a case the catalogue does not have.
 *
 * @module
 */

import { readdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import process from "node:process";
import { CASES, INTEROP_NOTES_COVERAGE, type Verdict } from "./catalogue/mod.ts";

const VERDICTS: readonly Verdict[] = ["OK", "NON-STRICT", "UNSUPPORTED", "FAILED"];
const FORMAT = "gotalk-conformance-results/1";

interface Result {
  id: string;
  title?: string;
  verdict: Verdict;
  detail: string;
  ms: number;
}

interface ResultsFile {
  format: string;
  name: string;
  /** `tcp` (also when absent: files from before WebSocket) or `ws`. */
  transport?: string;
  target?: unknown;
  startedAt?: string;
  durationMs?: number;
  results: Result[];
}

function cell(s: string): string {
  return s.replace(/\|/g, "\\|").replace(/\n/g, " ");
}

function table(head: string[], rows: string[][]): string {
  const lines = [
    `| ${head.map(cell).join(" | ")} |`,
    `|${head.map(() => "---").join("|")}|`,
    ...rows.map((r) => `| ${r.map(cell).join(" | ")} |`),
  ];
  return lines.join("\n");
}

async function main(): Promise<number> {
  const dir = process.argv[2];
  if (!dir || process.argv.length > 3) {
    process.stderr.write("usage: report.ts DIR\n");
    return 2;
  }
  const files = (await readdir(dir)).filter((f) => f.endsWith(".json") && f !== "report.json")
    .sort();
  const impls: ResultsFile[] = [];
  for (const f of files) {
    let doc: ResultsFile;
    try {
      doc = JSON.parse(await readFile(join(dir, f), "utf8"));
    } catch (e) {
      process.stderr.write(`report: skipping ${f}: ${e instanceof Error ? e.message : e}\n`);
      continue;
    }
    if (doc?.format !== FORMAT || !Array.isArray(doc.results)) {
      process.stderr.write(`report: skipping ${f}: not a ${FORMAT} file\n`);
      continue;
    }
    impls.push(doc);
  }
  if (impls.length === 0) {
    process.stderr.write(`report: no result files in ${dir}\n`);
    return 1;
  }
  // Columns: every implementation over tcp, then over ws.
  const label = (d: ResultsFile): string =>
    (d.transport ?? "tcp") === "tcp" ? d.name : `${d.name}/${d.transport}`;
  impls.sort((a, b) =>
    Number((a.transport ?? "tcp") !== "tcp") - Number((b.transport ?? "tcp") !== "tcp") ||
    a.name.localeCompare(b.name)
  );

  // Rows: the catalogue's order, then any ids only the result files know.
  const titles = new Map<string, string>(CASES.map((c) => [c.id, c.title]));
  for (const doc of impls) {
    for (const r of doc.results) if (!titles.has(r.id)) titles.set(r.id, r.title ?? "");
  }
  const byImpl = impls.map((doc) => new Map(doc.results.map((r) => [r.id, r])));
  const ids = [...titles.keys()].filter((id) => byImpl.some((m) => m.has(id)));

  const summary = impls.map((doc, i) => {
    const counts = Object.fromEntries(VERDICTS.map((v) => [v, 0])) as Record<Verdict, number>;
    for (const id of ids) {
      const r = byImpl[i].get(id);
      if (r && r.verdict in counts) counts[r.verdict]++;
    }
    return {
      name: label(doc),
      transport: doc.transport ?? "tcp",
      counts,
      total: byImpl[i].size,
      seconds: doc.durationMs === undefined ? undefined : doc.durationMs / 1000,
    };
  });
  const summaryTable = table(
    ["implementation", "transport", ...VERDICTS, "total", "seconds"],
    summary.map((s) => [
      s.name,
      s.transport,
      ...VERDICTS.map((v) => String(s.counts[v])),
      String(s.total),
      s.seconds === undefined ? "" : s.seconds.toFixed(1),
    ]),
  );

  const names = impls.map(label);
  const matrix = table(
    ["case", "title", ...names],
    ids.map((id) => [id, titles.get(id) ?? "", ...byImpl.map((m) => m.get(id)?.verdict ?? "—")]),
  );
  const notes: string[] = [];
  for (const id of ids) {
    // One line per distinct verdict and detail (the same deviation over tcp and ws is one line).
    const groups = new Map<string, string[]>();
    for (const [i, m] of byImpl.entries()) {
      const r = m.get(id);
      if (!r || r.verdict === "OK") continue;
      const key = `${r.verdict}: ${r.detail}`;
      groups.set(key, [...(groups.get(key) ?? []), names[i]]);
    }
    for (const [key, who] of groups) notes.push(`- \`${id}\` **${who.join(", ")}** ${key}`);
  }

  // The coverage map: every item of shared/interop-notes.md, with what checks it.
  const known = new Set(CASES.map((c) => c.id));
  const bad = INTEROP_NOTES_COVERAGE.flatMap((n) => n.cases.filter((id) => !known.has(id)));
  const coverage = table(
    ["interop note", "cases", "also checked by"],
    INTEROP_NOTES_COVERAGE.map((n) => [
      n.note,
      n.cases.map((id) => id.replace(/^gotalk\//, "")).join(", ") || "—",
      [...(n.elsewhere ?? []), ...(n.gap ? [`gap: ${n.gap}`] : [])].join("; ") || "—",
    ]),
  );

  const md = [
    "# Gotalk conformance report",
    "",
    `Generated ${new Date().toISOString()} from ${impls.length} result file(s). Verdicts: OK ` +
    "(as the rsms/gotalk README says), NON-STRICT (deviates from the README the way the Go " +
    "reference does, named in the detail), UNSUPPORTED (the implementation cannot be configured " +
    "for the case, or lacks an optional feature the case names), FAILED. Columns: NAME over " +
    "tcp, NAME/ws over WebSocket; — where a case does not run over that transport.",
    "",
    "## Summary",
    "",
    summaryTable,
    "",
    "## Cases",
    "",
    matrix,
    "",
    "## Details (verdicts other than OK)",
    "",
    ...(notes.length ? notes : ["None."]),
    "",
    "## Coverage of shared/interop-notes.md",
    "",
    coverage,
    "",
  ].join("\n");
  await writeFile(join(dir, "report.md"), md);
  await writeFile(
    join(dir, "report.json"),
    JSON.stringify(
      {
        format: "gotalk-conformance-report/1",
        implementations: impls.map((d) => ({
          name: label(d),
          transport: d.transport ?? "tcp",
          target: d.target,
          startedAt: d.startedAt,
          durationMs: d.durationMs,
        })),
        summary,
        cases: ids.map((id) => ({
          id,
          title: titles.get(id),
          results: Object.fromEntries(
            byImpl.map((m, i) => [names[i], m.get(id) ?? null]).filter(([, r]) => r),
          ),
        })),
      },
      null,
      2,
    ) + "\n",
  );
  process.stdout.write(summaryTable + "\n");
  if (bad.length) {
    process.stderr.write(`report: the coverage map names unknown cases: ${bad.join(", ")}\n`);
    return 1;
  }
  return 0;
}

main().then((code) => process.exit(code), (e) => {
  process.stderr.write(`report: ${e instanceof Error ? e.stack : e}\n`);
  process.exit(1);
});
