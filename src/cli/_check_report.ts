// The reports of `gotalk check`: h2spec-style text lines, the JSON document and JUnit XML.
// Internal to the command.

import { palette } from "./_tap_io.ts";

/** The four verdicts of the conformance catalogue. */
export type Verdict = "OK" | "NON-STRICT" | "UNSUPPORTED" | "FAILED";

/** One checked case: a catalogue case (`gotalk/<section>/<n>`) or a client check. */
export interface CheckResult {
  id: string;
  section: string;
  title: string;
  verdict: Verdict;
  detail: string;
  ms: number;
}

/** Counts by verdict. */
export function summarize(results: readonly CheckResult[]): Record<Verdict, number> {
  const s: Record<Verdict, number> = { OK: 0, "NON-STRICT": 0, UNSUPPORTED: 0, FAILED: 0 };
  for (const r of results) s[r.verdict]++;
  return s;
}

/** The summary line. */
export function summaryLine(results: readonly CheckResult[], seconds: number): string {
  const s = summarize(results);
  return `${results.length} cases: ${s.OK} OK, ${
    s["NON-STRICT"]
  } NON-STRICT, ${s.UNSUPPORTED} UNSUPPORTED, ${s.FAILED} FAILED (${seconds.toFixed(1)} s)`;
}

/** Text lines for one result, with a section heading first when the section changes. */
export class TextReport {
  readonly #c: ReturnType<typeof palette>;
  #section = "";

  constructor(colour: boolean) {
    this.#c = palette(colour);
  }

  /** The lines to print for `r`. */
  lines(r: CheckResult): string[] {
    const c = this.#c;
    const out: string[] = [];
    if (r.section !== this.#section) {
      this.#section = r.section;
      out.push(c.bold(r.section));
    }
    const mark = r.verdict === "OK"
      ? c.green("✔ OK         ")
      : r.verdict === "NON-STRICT"
      ? c.yellow("~ NON-STRICT ")
      : r.verdict === "UNSUPPORTED"
      ? c.dim("- UNSUPPORTED")
      : c.red("× FAILED     ");
    out.push(`  ${mark} ${r.id}  ${r.title}`);
    if (r.verdict !== "OK" && r.detail) {
      const paint = r.verdict === "FAILED" ? c.red : c.dim;
      out.push(`      ${paint(r.detail)}`);
    }
    return out;
  }
}

const xml = (s: string): string =>
  s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;")
    // deno-lint-ignore no-control-regex -- not allowed in XML 1.0
    .replace(/[\x00-\x08\x0b\x0c\x0e-\x1f]/g, "?");

/** JUnit XML: a suite per section; FAILED is a failure, UNSUPPORTED skipped. */
export function junit(name: string, results: readonly CheckResult[], seconds: number): string {
  const sections = [...new Set(results.map((r) => r.section))];
  const s = summarize(results);
  const lines = [
    `<?xml version="1.0" encoding="UTF-8"?>`,
    `<testsuites name="${
      xml(name)
    }" tests="${results.length}" failures="${s.FAILED}" skipped="${s.UNSUPPORTED}" time="${
      seconds.toFixed(3)
    }">`,
  ];
  for (const section of sections) {
    const rs = results.filter((r) => r.section === section);
    const f = rs.filter((r) => r.verdict === "FAILED").length;
    const k = rs.filter((r) => r.verdict === "UNSUPPORTED").length;
    const t = rs.reduce((a, r) => a + r.ms, 0) / 1000;
    lines.push(
      `  <testsuite name="${
        xml(section)
      }" tests="${rs.length}" failures="${f}" skipped="${k}" time="${t.toFixed(3)}">`,
    );
    for (const r of rs) {
      const open = `    <testcase name="${xml(r.id)}" classname="${xml(section)}" time="${
        (r.ms / 1000).toFixed(3)
      }"`;
      if (r.verdict === "FAILED") {
        lines.push(`${open}>`, `      <failure message="${xml(r.detail)}"/>`, `    </testcase>`);
      } else if (r.verdict === "UNSUPPORTED") {
        lines.push(`${open}>`, `      <skipped message="${xml(r.detail)}"/>`, `    </testcase>`);
      } else if (r.verdict === "NON-STRICT") {
        lines.push(
          `${open}>`,
          `      <system-out>NON-STRICT: ${xml(r.detail)}</system-out>`,
          `    </testcase>`,
        );
      } else lines.push(`${open}/>`);
    }
    lines.push(`  </testsuite>`);
  }
  lines.push(`</testsuites>`);
  return lines.join("\n") + "\n";
}
