/**
 * The stress harness's process side: starting an implementation's `serve` (optionally under a
 * low `ulimit -n`), and what Linux says about it in /proc (RSS, CPU time, open descriptors).
 *
 * @module
 */
import { type ChildProcess, spawn } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";

/** The checkout's root. */
export const root: string = join(dirname(fileURLToPath(import.meta.url)), "..");
const bin = (name: string) => join(root, "node_modules", ".bin", name);

/** How to start each implementation's peer (as conformance/matrix.ts does). */
export const IMPLS: Record<string, string[]> = {
  "ts-deno": [bin("deno"), "run", "-A", join(root, "conformance", "peer.ts")],
  "ts-bun": [bin("bun"), join(root, "conformance", "peer.ts")],
  "ts-node": ["node", join(root, ".build", "node", "conformance", "peer.js")],
  "go": [join(root, ".build", "go-peer")],
};

/** A running `serve`. */
export interface Served {
  impl: string;
  pid: number;
  port: number;
  url: string;
  child: ChildProcess;
  /** What it printed on stderr so far. */
  stderr(): string;
  /** SIGTERM, then SIGKILL after 5 s; resolves when it has exited. */
  stop(): Promise<void>;
}

/**
 * Starts `impl serve --transport T --addr 127.0.0.1:0 ...extra` and waits (bounded) for READY.
 * With `nofile`, the server runs under `ulimit -n nofile` (through `sh`, whose `exec` keeps the
 * pid, so /proc/PID is the server's).
 */
export function startServe(
  impl: string,
  transport: "tcp" | "ws",
  extra: string[] = [],
  nofile?: number,
): Promise<Served> {
  const argv = [
    ...IMPLS[impl],
    "serve",
    "--transport",
    transport,
    "--addr",
    "127.0.0.1:0",
    ...extra,
  ];
  const quoted = argv.map((a) => `'${a.replaceAll("'", "'\\''")}'`).join(" ");
  const [cmd, args] = nofile === undefined
    ? [argv[0], argv.slice(1)]
    : ["sh", ["-c", `ulimit -n ${nofile} && exec ${quoted}`]];
  const child = spawn(cmd, args, {
    cwd: root,
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, NO_COLOR: "1" },
  });
  let stderr = "";
  child.stderr!.on("data", (d) => stderr += d);
  const exited = new Promise<void>((resolve) => child.on("exit", () => resolve()));
  return new Promise((resolve, reject) => {
    let out = "";
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`${impl} serve printed no READY line within 30 s: ${stderr}`));
    }, 30_000);
    child.stdout!.on("data", (d) => {
      out += d;
      const m = /^READY (\S+)$/m.exec(out);
      if (!m) return;
      clearTimeout(timer);
      const port = Number(/:(\d+)(?:\/|$)/.exec(m[1])![1]);
      resolve({
        impl,
        pid: child.pid!,
        port,
        url: m[1],
        child,
        stderr: () => stderr,
        async stop() {
          if (child.exitCode === null && child.signalCode === null) {
            process.kill(child.pid!, "SIGTERM");
          }
          const t = setTimeout(() => child.kill("SIGKILL"), 5_000);
          await exited;
          clearTimeout(t);
        },
      });
    });
    child.on("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`${impl} serve exited ${code} before READY: ${stderr}`));
    });
  });
}

/** Resident set size of `pid`, in bytes (VmRSS). */
export function rssBytes(pid: number): number {
  const s = readFileSync(`/proc/${pid}/status`, "utf8");
  return Number(/VmRSS:\s+(\d+) kB/.exec(s)![1]) * 1024;
}

/** CPU time `pid` has used (user + system, all threads), in seconds. */
export function cpuSeconds(pid: number): number {
  const s = readFileSync(`/proc/${pid}/stat`, "utf8");
  // The fields after the command name, which is in parentheses and may hold spaces.
  const f = s.slice(s.lastIndexOf(")") + 2).split(" ");
  // utime and stime are fields 14 and 15 (1-based), i.e. 11 and 12 after the name; USER_HZ is
  // 100 on every Linux this runs on.
  return (Number(f[11]) + Number(f[12])) / 100;
}

/** How many file descriptors `pid` has open. */
export function fdCount(pid: number): number {
  return readdirSync(`/proc/${pid}/fd`).length;
}

/** Waits `ms`. */
export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/**
 * Polls `value` every `everyMs` until it is stable (`samples` readings within `slack`) or
 * `maxMs` passed; returns the last reading. A way to read a figure after things settled, never a
 * timing assertion.
 */
export async function settle(
  value: () => number,
  slack: number,
  options: { everyMs?: number; samples?: number; maxMs?: number } = {},
): Promise<number> {
  const every = options.everyMs ?? 200;
  const samples = options.samples ?? 4;
  const deadline = Date.now() + (options.maxMs ?? 5_000);
  const seen: number[] = [value()];
  while (Date.now() < deadline) {
    await sleep(every);
    seen.push(value());
    const last = seen.slice(-samples);
    if (last.length === samples && Math.max(...last) - Math.min(...last) <= slack) break;
  }
  return seen[seen.length - 1];
}

/** `n` bytes as MiB with one decimal. */
export function mib(n: number): string {
  return `${(n / (1 << 20)).toFixed(1)} MiB`;
}

/** A row's outcome: whether its bounds held, a one-line summary of its figures, and more lines. */
export interface Row {
  ok: boolean;
  figures: string;
  details?: string[];
  /** The figures as numbers, for the JSON report. */
  data?: Record<string, unknown>;
}

/** Starts the implementation under test (stopped by the harness after the row). */
export type Start = (
  transport: "tcp" | "ws",
  extra?: string[],
  nofile?: number,
) => Promise<Served>;
