/**
 * The conformance driver: runs the case catalogue (`catalogue/`) over raw sockets against one
 * Gotalk implementation and prints one JSON line per case.
 *
 * ```sh
 * # against a running server (cases that need serve options become UNSUPPORTED)
 * deno run -A conformance/driver.ts --url tcp://127.0.0.1:PORT [--name NAME] [--only ID,...]
 * deno run -A conformance/driver.ts --url ws://127.0.0.1:PORT/gotalk/ [--name NAME] ...
 * # the driver starts `CMD ARGS serve --transport tcp|ws --addr 127.0.0.1:0 <options>` itself,
 * # one server per distinct option set, and stops each with SIGTERM (it must exit 0)
 * deno run -A conformance/driver.ts --serve "CMD ARGS" [--transport tcp|ws] --name NAME
 *   [--only ...] [--out DIR]
 * ```
 *
 * Only the cases that run over the transport are run (see `runsOver` in `catalogue/mod.ts`: the
 * `ws` section is WebSocket only, nearly every other case runs over both).
 *
 * stdout: `{"id":…,"verdict":"OK"|"NON-STRICT"|"UNSUPPORTED"|"FAILED","detail":…,"ms":…}` per
 * case. `--out DIR` writes `DIR/NAME.json` for tcp and `DIR/NAME.ws.json` for ws (results and
 * metadata; `report.ts` reads them). `--only` takes ids, or prefixes ending in `/`
 * (`gotalk/streams/`). Exit code 1 if any case FAILED (or a server did not exit 0 on SIGTERM), 2
 * on a usage error, else 0.
 *
 * Uses only `node:` modules, so it runs on Deno, Bun and Node.
 *
 * @module
 */

import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import process from "node:process";
import { type Case, CASES, runsOver, type TransportName, type Verdict } from "./catalogue/mod.ts";
import type { CaseResult } from "./_runner.ts";
import { runCatalogue, splitCommand } from "./_drive.ts";

interface Args {
  url?: string;
  serve?: string;
  transport: TransportName;
  name: string;
  only?: string[];
  out?: string;
}

function usage(msg: string): never {
  process.stderr.write(
    `driver: ${msg}\nusage: driver.ts (--url tcp://HOST:PORT | --url ws://HOST:PORT/PATH | --serve "CMD ARGS" [--transport tcp|ws]) [--name NAME] [--only ID,...] [--out DIR]\n`,
  );
  process.exit(2);
}

function parseArgs(argv: string[]): Args {
  const a: Partial<Args> = {};
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i];
    const v = argv[i + 1];
    if (v === undefined && k !== "--help") usage(`${k} needs a value`);
    switch (k) {
      case "--url":
        a.url = v;
        break;
      case "--serve":
        a.serve = v;
        break;
      case "--transport":
        if (v !== "tcp" && v !== "ws") usage("--transport takes tcp or ws");
        a.transport = v;
        break;
      case "--name":
        a.name = v;
        break;
      case "--only":
        a.only = v.split(",").map((s) => s.trim()).filter(Boolean);
        break;
      case "--out":
        a.out = v;
        break;
      default:
        usage(`unknown argument ${k}`);
    }
    i++;
  }
  if (!!a.url === !!a.serve) usage("give exactly one of --url and --serve");
  if (a.url) {
    if (a.transport) usage("--transport goes with --serve; --url says it by its scheme");
    if (a.url.startsWith("tcp://")) a.transport = "tcp";
    else if (a.url.startsWith("ws://")) a.transport = "ws";
    else usage("--url takes tcp:// or ws:// URLs");
  }
  a.transport ??= "tcp";
  if (!a.name) a.name = a.url ? "server" : a.serve!.split(/\s+/)[0].split("/").pop()!;
  if (!/^[\w.-]+$/.test(a.name)) usage("--name must be letters, digits, _ . -");
  return a as Args;
}

async function main(): Promise<number> {
  const args = parseArgs(process.argv.slice(2));
  const selected = CASES.filter((c) =>
    runsOver(c, args.transport) && (!args.only ||
      args.only.some((o) => o === c.id || (o.endsWith("/") && c.id.startsWith(o))))
  );
  if (selected.length === 0) usage("--only matches no case");
  const started = Date.now();
  const t0 = performance.now();
  const results: (CaseResult & { title: string })[] = [];
  const { servers, serverProblem } = await runCatalogue({
    cases: selected,
    url: args.url,
    serve: args.serve ? splitCommand(args.serve) : undefined,
    transport: args.transport,
    onResult: (c: Case, r: CaseResult): void => {
      results.push({ ...r, title: c.title });
      process.stdout.write(
        JSON.stringify({ id: r.id, verdict: r.verdict, detail: r.detail, ms: r.ms }) + "\n",
      );
    },
    onServerProblem: (detail) => process.stderr.write(`driver: ${detail}\n`),
  });

  const summary: Record<Verdict, number> = { OK: 0, "NON-STRICT": 0, UNSUPPORTED: 0, FAILED: 0 };
  for (const r of results) summary[r.verdict]++;
  const durationMs = Math.round(performance.now() - t0);
  process.stderr.write(
    `driver: ${args.name}${args.transport === "ws" ? "/ws" : ""}: ${
      Object.entries(summary).map(([k, v]) => `${k} ${v}`).join(", ")
    } (${results.length} cases, ${(durationMs / 1000).toFixed(1)} s)\n`,
  );
  if (args.out) {
    await mkdir(args.out, { recursive: true });
    const doc = {
      format: "gotalk-conformance-results/1",
      name: args.name,
      transport: args.transport,
      target: args.url ? { url: args.url } : { serve: args.serve, transport: args.transport },
      startedAt: new Date(started).toISOString(),
      durationMs,
      catalogue: CASES.length,
      applicable: CASES.filter((c) => runsOver(c, args.transport)).length,
      summary,
      servers,
      results,
    };
    const file = args.transport === "ws" ? `${args.name}.ws.json` : `${args.name}.json`;
    await writeFile(join(args.out, file), JSON.stringify(doc, null, 2) + "\n");
  }
  return summary.FAILED > 0 || serverProblem ? 1 : 0;
}

main().then((code) => process.exit(code), (e) => {
  process.stderr.write(`driver: ${e instanceof Error ? e.stack : e}\n`);
  process.exit(1);
});
