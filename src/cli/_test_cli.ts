/**
 * Helpers of the `gotalk` command's tests: the command run as a child process of the test's own
 * runtime (Node runs the compiled build beside the compiled test), servers started and stopped
 * with bounded waits, and the Go reference peer.
 *
 * @module
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { Buffer } from "node:buffer";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { runtimeName } from "./_runtime.ts";

const here = dirname(fileURLToPath(import.meta.url));

function repoRoot(): string {
  let dir = here;
  for (let i = 0; i < 8 && !existsSync(join(dir, "deno.json")); i++) dir = dirname(dir);
  return dir;
}

/** The repository's root. */
export const root: string = repoRoot();

/** This runtime's name. */
export const runtime: "deno" | "bun" | "node" = runtimeName();

/** The command line that runs `gotalk` on this runtime. */
export function gotalkCommand(): string[] {
  if (runtime === "deno") return [process.execPath, "run", "-A", join(here, "gotalk.ts")];
  if (runtime === "bun") return [process.execPath, join(here, "gotalk.ts")];
  return [process.execPath, join(here, "gotalk.js")];
}

const env = { ...process.env, NO_COLOR: "1", DENO_NO_UPDATE_CHECK: "1" };

/** How a run of the command ended. */
export interface Ran {
  code: number | null;
  stdout: Uint8Array;
  stderr: string;
  /** stdout as text. */
  out: string;
}

/** Runs `gotalk ARGS` to its end (killed after `timeoutMs`), with `input` on its stdin. */
export function gotalk(
  args: string[],
  options: { input?: string | Uint8Array; timeoutMs?: number } = {},
): Promise<Ran> {
  const [cmd, ...pre] = gotalkCommand();
  const child = spawn(cmd, [...pre, ...args], { env, stdio: ["pipe", "pipe", "pipe"] });
  const out: Uint8Array[] = [];
  let stderr = "";
  child.stdout!.on("data", (d: Uint8Array) => out.push(d));
  child.stderr!.on("data", (d) => stderr += d);
  child.stdin!.on("error", () => {}); // a command that exits before reading its stdin
  child.stdin!.end(options.input ?? "");
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill("SIGKILL"), options.timeoutMs ?? 60_000);
    child.on("close", (code) => {
      clearTimeout(timer);
      const stdout = new Uint8Array(Buffer.concat(out));
      resolve({ code, stdout, stderr, out: new TextDecoder().decode(stdout) });
    });
  });
}

/** A server running as a child process. */
export interface Running {
  /** The URLs it printed. */
  urls: string[];
  /** Everything it printed on stderr so far. */
  stderr(): string;
  /** Stops it (SIGTERM, then SIGKILL after 10 s); resolves with its exit status. */
  stop(): Promise<number | null>;
}

/** Starts `cmd ARGS` and waits (30 s at most) until stdout has `count` lines matching `url`. */
export function startServer(
  cmd: string[],
  url: RegExp,
  count: number,
): Promise<Running> {
  const child: ChildProcess = spawn(cmd[0], cmd.slice(1), {
    env,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stderr!.on("data", (d) => stderr += d);
  const exited = new Promise<number | null>((r) => child.on("exit", (code) => r(code)));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`${cmd.join(" ")} printed no URL within 30 s: ${stdout}${stderr}`));
    }, 30_000);
    child.on("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`${cmd.join(" ")} exited ${code} before listening: ${stderr}`));
    });
    child.stdout!.on("data", (d) => {
      stdout += d;
      const urls = [...stdout.matchAll(new RegExp(url.source, "gm"))].map((m) => m[1] ?? m[0]);
      if (urls.length < count) return;
      clearTimeout(timer);
      resolve({
        urls,
        stderr: () => stderr,
        async stop() {
          // process.kill: Deno's child.kill misreports a handled SIGTERM.
          if (child.exitCode === null) process.kill(child.pid!, "SIGTERM");
          const t = setTimeout(() => child.kill("SIGKILL"), 10_000);
          const code = await exited;
          clearTimeout(t);
          return code;
        },
      });
    });
  });
}

/** `gotalk serve` on this runtime, listening on TCP and WebSocket. */
export function startOurServer(): Promise<Running> {
  return startServer(
    [...gotalkCommand(), "serve", "--tcp", "127.0.0.1:0", "--ws", "127.0.0.1:0"],
    /^((?:tcp|ws):\/\/\S+)$/,
    2,
  );
}

/** The Go reference peer (conformance/go-peer), built into .build/go-peer when missing. */
export function goPeer(): string {
  const bin = join(root, ".build", "go-peer");
  if (!existsSync(bin)) {
    const r = spawnSync("go", ["build", "-o", bin, "."], {
      cwd: join(root, "conformance", "go-peer"),
      encoding: "utf8",
      timeout: 300_000,
    });
    if (r.status !== 0) throw new Error(`go build failed: ${r.error ?? ""}${r.stderr}`);
  }
  return bin;
}

/** The Go reference peer's `serve` over `transport`. */
export function startGoServer(transport: "tcp" | "ws"): Promise<Running> {
  return startServer(
    [goPeer(), "serve", "--transport", transport, "--addr", "127.0.0.1:0"],
    /^READY (\S+)$/,
    1,
  );
}

/** Waits (bounded) until `cond()` holds. */
export async function until(cond: () => boolean, ms: number, what: () => string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting: ${what()}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
