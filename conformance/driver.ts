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

import { type ChildProcess, spawn } from "node:child_process";
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import process from "node:process";
import {
  type Case,
  CASES,
  runsOver,
  serveArgs,
  type ServeOptions,
  type TransportName,
  type Verdict,
} from "./catalogue/mod.ts";
import { type CaseResult, runCase, type ServerControl } from "./_runner.ts";

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

/** Splits a command line on whitespace, honouring single and double quotes. */
function splitCommand(s: string): string[] {
  const out: string[] = [];
  const re = /"([^"]*)"|'([^']*)'|(\S+)/g;
  for (const m of s.matchAll(re)) out.push(m[1] ?? m[2] ?? m[3]);
  return out;
}

/** A server started by the driver. */
class Server implements ServerControl {
  readonly url: string;
  readonly #child: ChildProcess;
  readonly #exit: Promise<number | null>;
  readonly stderrTail: () => string;

  constructor(url: string, child: ChildProcess, exit: Promise<number | null>, tail: () => string) {
    this.url = url;
    this.#child = child;
    this.#exit = exit;
    this.stderrTail = tail;
  }

  sigterm(): void {
    // process.kill, not child.kill: Deno's node:child_process reports a child it signalled as
    // killed by that signal even when the child handled it and exited 0.
    try {
      process.kill(this.#child.pid!, "SIGTERM");
    } catch {
      // already gone: waitExit reports how it ended
    }
  }

  waitExit(timeoutMs: number): Promise<number | null | undefined> {
    return Promise.race([
      this.#exit,
      new Promise<undefined>((r) => setTimeout(() => r(undefined), timeoutMs)),
    ]);
  }

  kill(): void {
    this.#child.kill("SIGKILL");
  }
}

type Started = { server: Server } | { unsupported: string } | { failed: string };

const READY_TIMEOUT_MS = 30000;

/** Starts `cmd serve ...` and waits for its READY line. */
function startServer(
  cmd: string[],
  transport: TransportName,
  options: ServeOptions,
): Promise<Started> {
  const args = [
    ...cmd.slice(1),
    "serve",
    "--transport",
    transport,
    "--addr",
    "127.0.0.1:0",
    ...serveArgs(options),
  ];
  const child = spawn(cmd[0], args, { stdio: ["ignore", "pipe", "pipe"] });
  let stderr = "";
  const tail = (): string => stderr.trim().split("\n").slice(-3).join(" / ");
  child.stderr!.setEncoding("utf8");
  child.stderr!.on("data", (s: string) => {
    stderr = (stderr + s).slice(-8192);
  });
  const exit = new Promise<number | null>((resolve) => {
    child.on("exit", (code) => resolve(code));
    child.on("error", () => resolve(-1));
  });
  return new Promise((resolve) => {
    let out = "";
    let settled = false;
    const settle = (s: Started): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(s);
    };
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      settle({ failed: `no READY line within ${READY_TIMEOUT_MS} ms (stderr: ${tail()})` });
    }, READY_TIMEOUT_MS);
    child.stdout!.setEncoding("utf8");
    child.stdout!.on("data", (s: string) => {
      if (settled) return;
      out = (out + s).slice(-4096);
      const m = /^READY (\S+)\s*$/m.exec(out);
      if (m) settle({ server: new Server(m[1], child, exit, tail) });
    });
    exit.then(async (code) => {
      await new Promise((r) => setTimeout(r, 20)); // let stderr drain
      if (code === 2) settle({ unsupported: `serve exited 2: ${tail()}` });
      else settle({ failed: `serve exited ${code} before READY (stderr: ${tail()})` });
    });
  });
}

function optionKey(o: ServeOptions | undefined): string {
  return serveArgs(o).join(" ");
}

interface ServerRecord {
  options: string;
  url?: string;
  status: "ok" | "unsupported" | "failed";
  detail?: string;
  exitCode?: number | null;
}

async function main(): Promise<number> {
  const args = parseArgs(process.argv.slice(2));
  const selected = CASES.filter((c) =>
    runsOver(c, args.transport) && (!args.only ||
      args.only.some((o) => o === c.id || (o.endsWith("/") && c.id.startsWith(o))))
  );
  if (selected.length === 0) usage("--only matches no case");
  const cmd = args.serve ? splitCommand(args.serve) : [];
  const started = Date.now();
  const t0 = performance.now();
  const servers = new Map<string, Promise<Started>>();
  let serverProblem = false;
  const records = new Map<string, ServerRecord>();
  const results: (CaseResult & { title: string })[] = [];
  const emit = (c: Case, r: CaseResult): void => {
    results.push({ ...r, title: c.title });
    process.stdout.write(
      JSON.stringify({ id: r.id, verdict: r.verdict, detail: r.detail, ms: r.ms }) + "\n",
    );
  };
  const skip = (c: Case, verdict: Verdict, detail: string): void =>
    emit(c, { id: c.id, verdict, detail, ms: 0 });

  for (const c of selected) {
    const key = optionKey(c.serve);
    if (args.url) {
      if (c.ownServer) skip(c, "UNSUPPORTED", "needs --serve (the case stops its own server)");
      else if (key) skip(c, "UNSUPPORTED", `needs serve option ${key}`);
      else emit(c, await runCase(c, args.url));
      continue;
    }
    if (c.ownServer) {
      const s = await startServer(cmd, args.transport, c.serve ?? {});
      if ("server" in s) {
        const r = await runCase(c, s.server.url, s.server);
        if ((await s.server.waitExit(0)) === undefined) {
          s.server.kill();
          await s.server.waitExit(5000);
        }
        emit(c, r);
      } else if ("unsupported" in s) skip(c, "UNSUPPORTED", s.unsupported);
      else skip(c, "FAILED", s.failed);
      continue;
    }
    if (!servers.has(key)) {
      servers.set(key, startServer(cmd, args.transport, c.serve ?? {}));
      const s = await servers.get(key)!;
      records.set(key, {
        options: key,
        ...("server" in s
          ? { status: "ok", url: s.server.url }
          : "unsupported" in s
          ? { status: "unsupported", detail: s.unsupported }
          : { status: "failed", detail: s.failed }),
      });
    }
    let s = await servers.get(key)!;
    if ("server" in s && (await s.server.waitExit(0)) !== undefined) {
      // The shared server died during an earlier case: note it, start a fresh one so that the
      // remaining cases are judged on their own.
      const rec = records.get(key)!;
      serverProblem = true;
      rec.status = "failed";
      rec.detail = `${rec.detail ? `${rec.detail}; ` : ""}exited (${await s.server.waitExit(
        0,
      )}) during the case before ${c.id} (stderr: ${s.server.stderrTail()})`;
      process.stderr.write(`driver: server [${key || "default"}] ${rec.detail}\n`);
      servers.set(key, startServer(cmd, args.transport, c.serve ?? {}));
      s = await servers.get(key)!;
    }
    if ("server" in s) emit(c, await runCase(c, s.server.url));
    else if ("unsupported" in s) {
      skip(c, "UNSUPPORTED", `${s.unsupported} (needs serve option ${key})`);
    } else skip(c, "FAILED", s.failed);
  }

  for (const [key, p] of servers) {
    const s = await p;
    if (!("server" in s)) continue;
    s.server.sigterm();
    let code = await s.server.waitExit(5000);
    const rec = records.get(key)!;
    if (code === undefined) {
      s.server.kill();
      code = await s.server.waitExit(5000);
      rec.detail = "did not exit within 5 s of SIGTERM (killed)";
    }
    rec.exitCode = code ?? null;
    if (code !== 0) {
      serverProblem = true;
      rec.status = "failed";
      rec.detail ??= `exited ${code} on SIGTERM (stderr: ${s.server.stderrTail()})`;
      process.stderr.write(`driver: server [${key || "default"}] ${rec.detail}\n`);
    }
  }

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
      servers: [...records.values()],
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
