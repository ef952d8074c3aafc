// Test helpers for the `gotalk` command: run it as a child process on the runtime running the
// tests (Node runs the compiled build in .build/node/), our conformance peer as a server, and the
// Go reference peer (built once into .build/go-peer). Every wait is bounded.

import { type ChildProcess, spawn } from "node:child_process";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { goPeer as buildGoPeer } from "./_test_cli.ts";

const compiled = import.meta.url.endsWith(".js");
const ext = compiled ? "js" : "ts";
const g = globalThis as { Deno?: unknown; Bun?: unknown };
const runtime = g.Deno ? "deno" : g.Bun ? "bun" : "node";

/** The command line that runs `file` (a .ts file on Deno and Bun, its .js build on Node). */
function script(file: URL): string[] {
  const path = fileURLToPath(file);
  return runtime === "deno" ? [process.execPath, "run", "-A", path] : [process.execPath, path];
}

/** `gotalk` on this runtime. */
export const GOTALK: string[] = script(new URL(`./gotalk.${ext}`, import.meta.url));
/** Our conformance peer on this runtime. */
export const OUR_PEER: string[] = script(
  new URL(`../../conformance/peer.${ext}`, import.meta.url),
);

/** Rejects when `promise` takes longer than `ms`. */
export async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`${what}: nothing within ${ms} ms`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** A started child with its output so far. */
export interface Child {
  readonly child: ChildProcess;
  stdout: string;
  stderr: string;
  /** Resolves with the exit code once it exited. */
  readonly exited: Promise<number | null>;
  /** Resolves with the first match of `re` on stdout or stderr (bounded). */
  waitFor(re: RegExp, ms: number): Promise<RegExpExecArray>;
  /** SIGTERM, then SIGKILL after 5 s; resolves with the exit code. */
  stop(): Promise<number | null>;
}

/** Starts `cmd`. */
export function start(cmd: string[]): Child {
  const child = spawn(cmd[0], cmd.slice(1), {
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, NO_COLOR: "1" },
  });
  const exited = new Promise<number | null>((resolve) => {
    child.on("close", (code) => resolve(code));
    child.on("error", () => resolve(-1));
  });
  const waiters = new Set<() => void>();
  const c: Child = {
    child,
    stdout: "",
    stderr: "",
    exited,
    waitFor(re, ms) {
      return within(
        new Promise((resolve, reject) => {
          const test = () => {
            const m = re.exec(c.stdout) ?? re.exec(c.stderr);
            if (m) {
              waiters.delete(test);
              resolve(m);
            }
          };
          waiters.add(test);
          test();
          exited.then(() => {
            test();
            reject(new Error(`${cmd.join(" ")} exited before ${re}: ${c.stderr}`));
          });
        }),
        ms,
        `${re} from ${cmd.join(" ")} (stderr: ${c.stderr})`,
      );
    },
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), 5000);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
  };
  child.stdout!.setEncoding("utf8");
  child.stderr!.setEncoding("utf8");
  child.stdout!.on("data", (s: string) => {
    c.stdout += s;
    for (const w of [...waiters]) w();
  });
  child.stderr!.on("data", (s: string) => {
    c.stderr += s;
    for (const w of [...waiters]) w();
  });
  return c;
}

/** Runs `cmd` to the end (bounded). */
export async function run(
  cmd: string[],
  ms: number,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const c = start(cmd);
  const timer = setTimeout(() => c.child.kill("SIGKILL"), ms);
  const code = await c.exited;
  clearTimeout(timer);
  return { code, stdout: c.stdout, stderr: c.stderr };
}

/** Starts `peer serve --transport tcp`; resolves with it and its URL. */
export async function serve(peer: string[]): Promise<{ server: Child; url: string }> {
  const server = start([...peer, "serve", "--transport", "tcp", "--addr", "127.0.0.1:0"]);
  const m = await server.waitFor(/^READY (\S+)$/m, 30_000);
  return { server, url: m[1] };
}

/** The Go reference peer, built once into .build/go-peer (shared with the call tests). */
export function goPeer(): Promise<string> {
  return Promise.resolve().then(buildGoPeer);
}
