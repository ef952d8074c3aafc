// deno-lint-ignore-file no-console -- a command line tool prints
// `gotalk check URL | --spawn CMD`: the conformance catalogue (conformance/catalogue/) and, for a
// spawned implementation, its client checks, reported in h2spec style.

import { writeFileSync } from "node:fs";
import { runCatalogue, splitCommand, startServer } from "../../conformance/_drive.ts";
import { CASES, runsOver, type TransportName } from "../../conformance/catalogue/mod.ts";
import { parseFlags } from "./_flags_tap.ts";
import { UsageError } from "./_url.ts";
import { type CheckResult, junit, summarize, summaryLine, TextReport } from "./_check_report.ts";
import { runClientChecks } from "./_check_client.ts";
import { useColour } from "./_tap_io.ts";

/** The help text of `gotalk check`. */
export const HELP = `Usage: gotalk check [options] URL
       gotalk check [options] --spawn "CMD ARGS" [--transport tcp|ws]

Runs the conformance catalogue (${CASES.length} cases with stable ids, in sections, modelled on
h2spec) against a Gotalk implementation and prints, for each case, its verdict:
  OK            behaves as the rsms/gotalk README says
  NON-STRICT    departs from the README exactly as the Go reference (rsms/gotalk v1.3.7) does
  UNSUPPORTED   cannot be set up here (e.g. a serve option, with a URL)
  FAILED        anything else; the detail says what was seen
then a summary line.

URL is a running server: tcp://HOST:PORT or ws://HOST:PORT/PATH. It should serve the
conformance operations (echo, upper, fail, sleep, stream-echo, ...: gotalk serve does); cases
that need server options or stop the server are UNSUPPORTED.

--spawn runs a peer that follows the conformance peer contract (conformance/README.md):
"CMD ARGS serve --transport tcp|ws --addr 127.0.0.1:0 [options]", once per option set, and
then its client: "CMD ARGS check --url URL" against its own server (section "client").

Options:
  --only IDS         ids or sections, comma-separated (gotalk/streams/3,gotalk/ws/)
  --transport T      tcp (default) or ws, with --spawn
  --no-client        with --spawn: skip the client checks
  --json             print one JSON document instead of text
  --junit FILE       also write a JUnit XML report to FILE

Exit status: 0 no case FAILED, 1 some FAILED (or a spawned server misbehaved), 2 usage.

Examples:
  gotalk check tcp://127.0.0.1:1234
  gotalk check --only gotalk/handshake/,gotalk/framing/ ws://127.0.0.1:8080/gotalk/
  gotalk check --spawn "./go-peer" --junit report.xml
  gotalk check --spawn "deno run -A conformance/peer.ts" --transport ws --json`;

/** Runs `gotalk check ARGS`; resolves with the exit status. */
export async function main(argv: string[]): Promise<number> {
  let url: string | undefined, cmd: string[] | undefined, transport: TransportName;
  let only: string[] | undefined, json: boolean, junitFile: string | undefined, client: boolean;
  try {
    const p = parseFlags("gotalk check", argv, {
      booleans: ["json", "no-client"],
      values: ["spawn", "transport", "only", "junit"],
    });
    const spawn = p.values.get("spawn");
    if (p.positional.length > 1 || (p.positional.length === 1) === (spawn !== undefined)) {
      throw new UsageError("gotalk check needs a URL or --spawn CMD (one of them)");
    }
    url = p.positional[0];
    const t = p.values.get("transport");
    if (url !== undefined) {
      if (t !== undefined) throw new UsageError("gotalk check: --transport goes with --spawn");
      if (url.startsWith("tcp://")) transport = "tcp";
      else if (url.startsWith("ws://")) transport = "ws";
      else throw new UsageError("gotalk check: URL must be tcp://HOST:PORT or ws://HOST:PORT/PATH");
    } else {
      cmd = splitCommand(spawn!);
      if (cmd.length === 0) throw new UsageError("gotalk check: --spawn needs a command");
      if (t !== undefined && t !== "tcp" && t !== "ws") {
        throw new UsageError("gotalk check: --transport takes tcp or ws");
      }
      transport = t ?? "tcp";
    }
    only = p.values.get("only")?.split(",").map((s) => s.trim()).filter(Boolean);
    json = p.booleans.has("json");
    junitFile = p.values.get("junit");
    client = cmd !== undefined && !p.booleans.has("no-client");
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    console.error(`${e.message}\n\n${HELP}`);
    return 2;
  }
  const wanted = (id: string): boolean =>
    !only || only.some((o) => o === id || (o.endsWith("/") && id.startsWith(o)));
  const cases = CASES.filter((c) => runsOver(c, transport) && wanted(c.id));
  const clientWanted = client && (!only || only.some((o) => o === "client/" || o === "client"));
  if (cases.length === 0 && !clientWanted) {
    console.error("gotalk check: --only matches no case");
    return 2;
  }
  const text = new TextReport(useColour("stdout"));
  const results: CheckResult[] = [];
  const add = (r: CheckResult): void => {
    results.push(r);
    if (!json) { for (const line of text.lines(r)) console.log(line); }
  };
  const t0 = performance.now();
  const problems: string[] = [];
  const outcome = await runCatalogue({
    cases,
    url,
    serve: cmd,
    transport,
    onResult: (c, r) => add({ id: r.id, section: c.section, title: c.title, ...pick(r), ms: r.ms }),
    onServerProblem: (detail) => {
      problems.push(detail);
      if (!json) console.error(`gotalk check: ${detail}`);
    },
  });
  if (cmd !== undefined && clientWanted) {
    await clientChecks(cmd, transport, add);
  }
  const seconds = (performance.now() - t0) / 1000;
  const target = url ?? `spawn:${cmd!.join(" ")}`;
  if (json) {
    console.log(JSON.stringify(
      {
        format: "gotalk-check/1",
        target,
        transport,
        summary: summarize(results),
        servers: outcome.servers,
        problems,
        durationMs: Math.round(seconds * 1000),
        results,
      },
      null,
      2,
    ));
  } else console.log(summaryLine(results, seconds));
  if (junitFile !== undefined) {
    writeFileSync(junitFile, junit(`gotalk check ${target} (${transport})`, results, seconds));
  }
  return summarize(results).FAILED > 0 || outcome.serverProblem ? 1 : 0;
}

function pick(r: { verdict: CheckResult["verdict"]; detail: string }) {
  return { verdict: r.verdict, detail: r.detail };
}

/** Runs `CMD check --url` against `CMD serve` (default options) and reports section `client`. */
async function clientChecks(
  cmd: string[],
  transport: TransportName,
  add: (r: CheckResult) => void,
): Promise<void> {
  const s = await startServer(cmd, transport, {});
  const result = (id: string, ok: boolean, detail: string, ms: number): CheckResult => ({
    id: `client/${id}`,
    section: "client",
    title: `the client check ${id}`,
    verdict: ok ? "OK" : "FAILED",
    detail,
    ms,
  });
  if (!("server" in s)) {
    add(result("run", false, "unsupported" in s ? s.unsupported : s.failed, 0));
    return;
  }
  try {
    for (const c of await runClientChecks(cmd, s.server.url)) {
      add(result(c.id, c.ok, c.detail, c.ms));
    }
  } finally {
    s.server.sigterm();
    if ((await s.server.waitExit(5000)) === undefined) s.server.kill();
  }
}
