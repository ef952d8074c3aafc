/**
 * The catalogue run behind `driver.ts` and `gotalk check`: starts the servers a `--serve`
 * command line needs (one per option set, and one per `ownServer` case), runs the selected cases
 * against them or against a running server's URL, and stops every server with SIGTERM.
 *
 * Uses only `node:` modules, so it runs on Deno, Bun and Node.
 *
 * @module
 */

import { type ChildProcess, spawn } from "node:child_process";
import process from "node:process";
import {
  type Case,
  serveArgs,
  type ServeOptions,
  type TransportName,
  type Verdict,
} from "./catalogue/mod.ts";
import { type CaseResult, runCase, type ServerControl } from "./_runner.ts";

/** Splits a command line on whitespace, honouring single and double quotes. */
export function splitCommand(s: string): string[] {
  const out: string[] = [];
  const re = /"([^"]*)"|'([^']*)'|(\S+)/g;
  for (const m of s.matchAll(re)) out.push(m[1] ?? m[2] ?? m[3]);
  return out;
}

/** A server started by the driver. */
export class Server implements ServerControl {
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

export type Started = { server: Server } | { unsupported: string } | { failed: string };

const READY_TIMEOUT_MS = 30000;

/** Starts `cmd serve ...` and waits for its READY line. */
export function startServer(
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

export interface ServerRecord {
  options: string;
  url?: string;
  status: "ok" | "unsupported" | "failed";
  detail?: string;
  exitCode?: number | null;
}

/** What {@linkcode runCatalogue} runs, and against what. */
export interface CatalogueRun {
  /** The cases, in order (already filtered for the transport). */
  cases: readonly Case[];
  /** A running server (cases needing serve options or their own server are UNSUPPORTED)... */
  url?: string;
  /** ...or the command line of a contract peer, started as `CMD ARGS serve ...`. */
  serve?: string[];
  transport: TransportName;
  /** Called with each result as it is known. */
  onResult(c: Case, r: CaseResult): void;
  /** Called with each note about a server (a crash, a bad exit). */
  onServerProblem(detail: string): void;
}

/** What a catalogue run found besides the case results. */
export interface CatalogueOutcome {
  /** The servers started (one per option set). */
  servers: ServerRecord[];
  /** Whether a server died during a case or did not exit 0 on SIGTERM. */
  serverProblem: boolean;
}

/** Runs `run.cases` one after the other; every case and server is bounded. */
export async function runCatalogue(run: CatalogueRun): Promise<CatalogueOutcome> {
  const cmd = run.serve ?? [];
  const servers = new Map<string, Promise<Started>>();
  let serverProblem = false;
  const records = new Map<string, ServerRecord>();
  const emit = run.onResult;
  const skip = (c: Case, verdict: Verdict, detail: string): void =>
    emit(c, { id: c.id, verdict, detail, ms: 0 });

  for (const c of run.cases) {
    const key = optionKey(c.serve);
    if (run.url) {
      if (c.ownServer) skip(c, "UNSUPPORTED", "needs --serve (the case stops its own server)");
      else if (key) skip(c, "UNSUPPORTED", `needs serve option ${key}`);
      else emit(c, await runCase(c, run.url));
      continue;
    }
    if (c.ownServer) {
      const s = await startServer(cmd, run.transport, c.serve ?? {});
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
      servers.set(key, startServer(cmd, run.transport, c.serve ?? {}));
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
      run.onServerProblem(`server [${key || "default"}] ${rec.detail}`);
      servers.set(key, startServer(cmd, run.transport, c.serve ?? {}));
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
      run.onServerProblem(`server [${key || "default"}] ${rec.detail}`);
    }
  }

  return { servers: [...records.values()], serverProblem };
}
