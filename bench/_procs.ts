/**
 * The processes of `bench/bench.ts` and `bench/_memory.ts`: where the built tools live, how to
 * build them and start each implementation's `serve`, the `READY` line that gives a server's
 * address, running a load generator to its last JSON line, stopping a child, and reading a
 * process's (or a process tree's) memory from `/proc`.
 *
 * @module
 */
// deno-lint-ignore-file no-console
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync } from "node:fs";
import { cpus } from "node:os";
import { dirname, join } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";

/** The repository's root. */
export const root: string = join(dirname(fileURLToPath(import.meta.url)), "..");
/** A tool installed under `node_modules/.bin/`. */
export const bin = (name: string): string => join(root, "node_modules", ".bin", name);
/** Where the benchmark's builds go (and, by default, its reports). */
export const buildDir: string = join(root, ".build", "bench");
/** The Go load generator (`bench/go-load/`), built. */
export const goLoad: string = join(buildDir, "go-load");
/** The Go reference peer (`conformance/go-peer/`, gotalk v1.3.7), built. */
export const goPeer: string = join(buildDir, "go-peer");
/** Node's bench client: an esbuild bundle of `bench/_client.ts`. */
export const nodeClient: string = join(buildDir, "bench_client.mjs");

/** The implementations: the Go reference and ours on each runtime. */
export const IMPLS = ["go", "deno", "bun", "node"] as const;
/** One of {@linkcode IMPLS}. */
export type Impl = typeof IMPLS[number];

/** How each runtime runs a script (append the script and its arguments). */
export const RUN: Record<Exclude<Impl, "go">, string[]> = {
  deno: [bin("deno"), "run", "-A"],
  bun: [bin("bun")],
  node: ["node"],
};
/** How to start each implementation's peer command (append `serve` and its flags). */
export const SERVE: Record<Impl, string[]> = {
  go: [goPeer],
  deno: [...RUN.deno, join(root, "conformance", "peer.ts")],
  bun: [...RUN.bun, join(root, "conformance", "peer.ts")],
  node: [...RUN.node, join(root, ".build", "node", "conformance", "peer.js")],
};
/** How to start our bench client on each runtime (append `bench` and its flags). */
export const CLIENT: Record<Exclude<Impl, "go">, string[]> = {
  deno: [...RUN.deno, join(root, "bench", "_client.ts")],
  bun: [...RUN.bun, join(root, "bench", "_client.ts")],
  node: [...RUN.node, nodeClient],
};

/** How to start gotalk.js (the reference's browser client) as a load generator, on Bun. */
export const GOTALKJS_CLIENT: string[] = [...RUN.bun, join(root, "bench", "_gotalkjs_client.mjs")];

/** `serve`'s arguments: `transport` on a free port of 127.0.0.1. */
export function serveArgs(transport: "tcp" | "ws"): string[] {
  return ["serve", "--transport", transport, "--addr", "127.0.0.1:0"];
}

/**
 * A server's `READY tcp://HOST:PORT` (or `ws://HOST:PORT/PATH`) line: group 1 is the address,
 * group 2 the WebSocket path if any.
 */
export const READY: RegExp = /^READY (?:tcp|ws):\/\/([^\s/]+)(\/\S*)?$/m;

/** The environment of every child: no colours, no update check. */
export function childEnv(): Record<string, string | undefined> {
  return { ...process.env, NO_COLOR: "1", DENO_NO_UPDATE_CHECK: "1" };
}

/** Spawns `cmd` in `root` with stdout and stderr piped. */
export function spawnPiped(cmd: string[]): ChildProcess {
  return spawn(cmd[0], cmd.slice(1), {
    cwd: root,
    stdio: ["ignore", "pipe", "pipe"],
    env: childEnv(),
  });
}

const quote = (s: string) => `'${s.replaceAll("'", `'\\''`)}'`;

/** The open-file limit to ask for: 65,536 or the hard limit if lower. */
export function fileLimit(): number {
  const hard = execFileSync("sh", ["-c", "ulimit -Hn"], { encoding: "utf8" }).trim();
  return hard === "unlimited" ? 65536 : Math.min(65536, Number(hard));
}

/** Spawns `cmd` under `sh -c 'ulimit -n L && exec ...'` (so the pid is the command's own). */
export function spawnLimited(cmd: string[], limit: number): ChildProcess {
  return spawnPiped(["sh", "-c", `ulimit -n ${limit} && exec ${cmd.map(quote).join(" ")}`]);
}

/** How {@linkcode waitLine} words its failures, and what it does on a timeout. */
export interface LineWait {
  /** How long to wait for the line (ms). */
  ms: number;
  /** The error when no line matched in time, given the tail of stderr. */
  timeout(stderr: string): string;
  /** The error when the child exited first, given its exit code and the tail of stderr. */
  exited(code: number | null, stderr: string): string;
  /** SIGKILL the child on a timeout. */
  kill?: boolean;
  /** How much of stderr to keep (characters, default 4000). */
  stderrTail?: number;
}

/** Resolves with the first stdout match of `re` (bounded); rejects if the child exits first. */
export function waitLine(child: ChildProcess, re: RegExp, w: LineWait): Promise<string[]> {
  let buf = "";
  let stderr = "";
  const tail = w.stderrTail ?? 4000;
  child.stderr!.on("data", (d) => stderr = (stderr + d).slice(-tail));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      if (w.kill) child.kill("SIGKILL");
      reject(new Error(w.timeout(stderr)));
    }, w.ms);
    child.stdout!.on("data", (d) => {
      buf += d;
      const m = re.exec(buf);
      if (!m) return;
      clearTimeout(timer);
      resolve([...m]);
    });
    child.on("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(w.exited(code, stderr)));
    });
  });
}

/** SIGTERMs `child` unless it has exited, SIGKILLs it after `graceMs`, and waits for its exit. */
export async function stopChild(child: ChildProcess | undefined, graceMs = 5000): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.on("exit", r));
  child.kill("SIGTERM");
  const t = setTimeout(() => child.kill("SIGKILL"), graceMs);
  await exited;
  clearTimeout(t);
}

/** A started server. */
export interface Running {
  child: ChildProcess;
  /** HOST:PORT from its READY line. */
  addr: string;
  /** Stops it (SIGTERM, then SIGKILL after 5 s) and waits for its exit. */
  stop(): Promise<void>;
}

/** Starts `impl`'s `serve` and waits (bounded) for its READY line. */
export async function startServer(impl: Impl, transport: "tcp" | "ws" = "tcp"): Promise<Running> {
  const child = spawnPiped([...SERVE[impl], ...serveArgs(transport)]);
  const [, addr] = await waitLine(child, READY, {
    ms: 30_000,
    kill: true,
    timeout: (stderr) => `${impl} serve printed no READY line within 30 s: ${stderr}`,
    exited: (code, stderr) => `${impl} serve exited ${code} before READY: ${stderr}`,
  });
  return { child, addr, stop: () => stopChild(child) };
}

/**
 * Runs a command to completion (killed after `timeoutMs`), calling `onLine` with each stdout
 * line; resolves with the last JSON line.
 */
export function runJson(
  cmd: string[],
  timeoutMs: number,
  onLine?: (line: string) => void,
): Promise<Record<string, unknown>> {
  const child = spawnPiped(cmd);
  let stdout = "";
  let stderr = "";
  let pending = "";
  child.stdout!.on("data", (d) => {
    stdout += d;
    pending += d;
    let nl;
    while ((nl = pending.indexOf("\n")) >= 0) {
      onLine?.(pending.slice(0, nl));
      pending = pending.slice(nl + 1);
    }
  });
  child.stderr!.on("data", (d) => stderr = (stderr + d).slice(-4000));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.on("exit", (code, signal) => {
      clearTimeout(timer);
      const last = stdout.trim().split("\n").filter((l) => l.startsWith("{")).at(-1);
      if (code === 0 && last) resolve(JSON.parse(last));
      else {
        const why = signal ? `killed (${signal}) after ${timeoutMs} ms` : `exited ${code}`;
        reject(new Error(`${cmd[0].split("/").at(-1)} ${why}: ${stderr.trim().slice(-500)}`));
      }
    });
  });
}

/** A `/proc/PID/status` field in KiB; undefined if not Linux or the process is gone. */
export function procStatusKib(pid: number, field: "VmHWM" | "VmRSS"): number | undefined {
  try {
    const m = new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(
      readFileSync(`/proc/${pid}/status`, "utf8"),
    );
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined; // not Linux, or the process is gone
  }
}

/** A `/proc/PID/status` field in MiB; undefined if not Linux or the process is gone. */
export function procStatus(pid: number, field: "VmHWM" | "VmRSS"): number | undefined {
  const kib = procStatusKib(pid, field);
  return kib === undefined ? undefined : kib / 1024;
}

/** The pid and all its descendants (from the ppid field of `/proc/PID/stat`). */
export function tree(pid: number): number[] {
  const children = new Map<number, number[]>();
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, "utf8");
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      const list = children.get(ppid) ?? [];
      list.push(Number(name));
      children.set(ppid, list);
    } catch { /* gone */ }
  }
  const out: number[] = [];
  const todo = [pid];
  while (todo.length && out.length < 10_000) {
    const p = todo.pop()!;
    out.push(p);
    todo.push(...(children.get(p) ?? []));
  }
  return out;
}

/** Sum of VmRSS over the pid's tree (KiB) and how many processes it has. */
export function treeRss(pid: number): { kib: number; procs: number } {
  const pids = tree(pid);
  let kib = 0;
  for (const p of pids) kib += procStatusKib(p, "VmRSS") ?? 0;
  return { kib, procs: pids.length };
}

/** Resolves after `ms`. */
export const sleep = (ms: number): Promise<unknown> => new Promise((r) => setTimeout(r, ms));

/** An error's message (or the thrown value as a string). */
export function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** What {@linkcode buildTools} builds for. */
export interface BuildOptions {
  servers: readonly Impl[];
  clients: readonly Impl[];
  /** Rebuild (`--no-build`: false, reuse what exists). */
  build: boolean;
  /** `--quick`: reuse an existing Node build. */
  quick: boolean;
}

/**
 * Builds into {@linkcode buildDir} what the run needs: go-load and the Go reference peer, the
 * Node build (`scripts/build_npm.ts`) for Node's server, the esbuild bundle for Node's client.
 */
export function buildTools(o: BuildOptions): void {
  mkdirSync(buildDir, { recursive: true });
  const needGo = o.servers.includes("go") || o.clients.length > 0;
  if (o.build || !existsSync(goLoad) || (needGo && !existsSync(goPeer))) {
    console.log("building go-load and the Go reference peer (gotalk v1.3.7)...");
    execFileSync("go", ["build", "-o", goLoad, "."], {
      cwd: join(root, "bench", "go-load"),
      stdio: "inherit",
    });
    execFileSync("go", ["build", "-o", goPeer, "."], {
      cwd: join(root, "conformance", "go-peer"),
      stdio: "inherit",
    });
  }
  // `--quick` (a smoke test, run after the test command built it) reuses an existing Node build.
  if (o.servers.includes("node") && ((o.build && !o.quick) || !existsSync(SERVE.node[1]))) {
    console.log("building the Node build (scripts/build_npm.ts)...");
    execFileSync(bin("deno"), ["run", "-A", join(root, "scripts", "build_npm.ts")], {
      cwd: root,
      stdio: "inherit",
      env: childEnv(),
    });
  }
  if (o.clients.includes("node") && (o.build || !existsSync(nodeClient))) {
    execFileSync(bin("esbuild"), [
      join(root, "bench", "_client.ts"),
      "--bundle",
      "--platform=node",
      "--format=esm",
      "--target=node20",
      // The `ws` package (Node's WebSocket client) stays a package: bundled as ESM it fails.
      "--external:ws",
      "--log-level=warning",
      `--outfile=${nodeClient}`,
    ], { cwd: root, stdio: "inherit" });
  }
}

/** The machine and the tools' versions, as the reports head them. */
export interface Env {
  cpus: number;
  cpu: string;
  go: string;
  deno: string;
  bun: string;
  node: string;
  /** The `ws` package the Deno and Node WebSocket servers run on, and whether `bufferutil` is in. */
  ws: string;
}

function version(cmd: string[]): string {
  try {
    return execFileSync(cmd[0], cmd.slice(1), { encoding: "utf8" }).trim().split("\n")[0];
  } catch {
    return "unknown";
  }
}

/** Reads the {@linkcode Env} (runs each tool's `--version`). */
export function environment(): Env {
  return {
    cpus: cpus().length,
    cpu: cpus()[0]?.model ?? "unknown",
    go: version(["go", "version"]),
    deno: version([bin("deno"), "--version"]),
    bun: version([bin("bun"), "--version"]),
    node: version(["node", "--version"]),
    ws: wsVersion(),
  };
}

/** `ws X` and `bufferutil Y` (its native unmasking) or `no bufferutil`, from node_modules. */
function wsVersion(): string {
  const of = (name: string) => {
    try {
      const file = join(root, "node_modules", name, "package.json");
      return JSON.parse(readFileSync(file, "utf8")).version as string;
    } catch {
      return undefined;
    }
  };
  const bufferutil = of("bufferutil");
  return `ws ${of("ws") ?? "missing"}, ${
    bufferutil ? `bufferutil ${bufferutil}` : "no bufferutil"
  }`;
}
