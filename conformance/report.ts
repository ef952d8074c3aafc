/**
 * Builds the conformance matrix from driver results.
 *
 * ```sh
 * deno run -A conformance/report.ts DIR
 * ```
 *
 * Reads every `DIR/*.json` written by `driver.ts --out DIR` (one per implementation), writes
 * `DIR/report.md` (a table with one row per case and one column per implementation, a summary of
 * verdict counts per implementation, and the details behind every verdict other than OK) and
 * `DIR/report.json`, and prints the summary table.
 *
 * @module
 */

import { readdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import process from "node:process";
import { CASES, type Verdict } from "./cases.ts";

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
    return { name: doc.name, counts, total: byImpl[i].size };
  });
  const summaryTable = table(
    ["implementation", ...VERDICTS, "total"],
    summary.map((s) => [s.name, ...VERDICTS.map((v) => String(s.counts[v])), String(s.total)]),
  );

  const names = impls.map((d) => d.name);
  const matrix = table(
    ["case", "title", ...names],
    ids.map((id) => [id, titles.get(id) ?? "", ...byImpl.map((m) => m.get(id)?.verdict ?? "—")]),
  );
  const notes: string[] = [];
  for (const id of ids) {
    for (const [i, m] of byImpl.entries()) {
      const r = m.get(id);
      if (r && r.verdict !== "OK") {
        notes.push(`- \`${id}\` **${names[i]}** ${r.verdict}: ${r.detail}`);
      }
    }
  }

  const md = [
    "# Gotalk conformance report",
    "",
    `Generated ${new Date().toISOString()} from ${impls.length} result file(s). Verdicts: OK ` +
    "(as the rsms/gotalk README says), NON-STRICT (deviates from the README the way the Go " +
    "reference does), UNSUPPORTED (the implementation cannot be configured for the case), FAILED.",
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
  ].join("\n");
  await writeFile(join(dir, "report.md"), md);
  await writeFile(
    join(dir, "report.json"),
    JSON.stringify(
      {
        format: "gotalk-conformance-report/1",
        implementations: impls.map((d) => ({
          name: d.name,
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
  return 0;
}

main().then((code) => process.exit(code), (e) => {
  process.stderr.write(`report: ${e instanceof Error ? e.stack : e}\n`);
  process.exit(1);
});
