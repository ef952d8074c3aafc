/**
 * Two abuse measurements against the conformance peer's `serve` (a child process per run):
 *
 * - `flood`: one raw connection sends 50,000 `sleep` requests (60 s each) and keeps them pending;
 *   another connection's `echo` is timed while the server reads them (the worst over 3 s), and
 *   after (the median of 20, and the worst).
 * - `noread`: one raw connection asks for 40 streaming results (`echo-parts`, 8 MiB each in
 *   64 KiB parts) and never reads its socket; the server's RSS growth (`VmRSS` in
 *   `/proc/PID/status`, after 5 s, minus before) is reported.
 *
 * ```sh
 * node_modules/.bin/deno run -A bench/abuse.ts [--runtimes deno,bun,node] [--only flood,noread]
 *   [--serve-args "--max-buffer-requests 1024"]
 * ```
 *
 * Node's server runs the compiled build in `.build/node/` (build it first with
 * `scripts/build_npm.ts`). Numbers go to stdout, one line each. A measurement, not a test.
 *
 * @module
 */
// deno-lint-ignore-file no-console
import { type ChildProcess, spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { connect, type Socket } from "node:net";

const args = Deno.args;
const flag = (name: string, def: string) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : def;
};
const runtimes = flag("--runtimes", "deno,bun,node").split(",");
const only = flag("--only", "flood,noread").split(",");
/** Extra `serve` options, e.g. `--max-buffer-requests 1024`. */
const serveArgs = flag("--serve-args", "").split(" ").filter((a) => a !== "");
const bin = "node_modules/.bin/";

function command(runtime: string): string[] {
  const serve = ["serve", "--transport", "tcp", "--addr", "127.0.0.1:0", ...serveArgs];
  if (runtime === "deno") return [bin + "deno", "run", "-A", "conformance/peer.ts", ...serve];
  if (runtime === "bun") return [bin + "bun", "conformance/peer.ts", ...serve];
  return ["node", ".build/node/conformance/peer.js", ...serve];
}

async function start(runtime: string): Promise<{ child: ChildProcess; port: number }> {
  const [cmd, ...rest] = command(runtime);
  const child = spawn(cmd, rest, { stdio: ["ignore", "pipe", "inherit"] });
  const port = await new Promise<number>((resolve, reject) => {
    let out = "";
    child.stdout!.on("data", (d) => {
      out += d;
      const m = /READY tcp:\/\/127\.0\.0\.1:(\d+)/.exec(out);
      if (m) resolve(Number(m[1]));
    });
    child.on("exit", (code) => reject(new Error(`server exited ${code}`)));
  });
  return { child, port };
}

function rssMiB(pid: number): number {
  const s = readFileSync(`/proc/${pid}/status`, "utf8");
  return Number(/VmRSS:\s+(\d+)/.exec(s)![1]) / 1024;
}

const enc = new TextEncoder();
const hex = (n: number, w: number) => n.toString(16).padStart(w, "0");

/** A raw `r` frame. */
function request(id: number, op: string, payload: Uint8Array): Uint8Array {
  const head = enc.encode(
    "r" + hex(id, 4).slice(-4) + hex(op.length, 3) + op + hex(payload.length, 8),
  );
  const out = new Uint8Array(head.length + payload.length);
  out.set(head);
  out.set(payload, head.length);
  return out;
}

function open(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = connect({ host: "127.0.0.1", port }, () => resolve(s));
    s.on("error", reject);
  });
}

/** Sends the handshake and one echo; resolves with the time it took, in ms. */
async function echoClient(port: number): Promise<(id: number) => Promise<number>> {
  const s = await open(port);
  s.write("01");
  let buf = "";
  let wake: (() => void) | undefined;
  s.on("data", (d) => {
    buf += d.toString("latin1");
    wake?.();
  });
  return async (id) => {
    const t0 = performance.now();
    const want = "R" + hex(id, 4);
    s.write(request(id, "echo", enc.encode("ping")));
    while (!buf.includes(want)) await new Promise<void>((r) => wake = r);
    buf = "";
    return performance.now() - t0;
  };
}

async function flood(runtime: string): Promise<void> {
  const { child, port } = await start(runtime);
  try {
    const echo = await echoClient(port);
    await echo(1);
    const f = await open(port);
    f.on("data", () => {});
    f.write("01");
    const payload = enc.encode(JSON.stringify({ ms: 60_000, value: 1 }));
    const N = 50_000;
    for (let i = 0; i < N; i += 1000) {
      const chunk: Uint8Array[] = [];
      for (let j = i; j < i + 1000; j++) chunk.push(request(j, "sleep", payload));
      f.write(Buffer.concat(chunk));
    }
    // While the server reads them: the worst echo over 3 s.
    let during = 0;
    let n = 0;
    for (const end = performance.now() + 3000; performance.now() < end; n++) {
      during = Math.max(during, await echo(60_000 + (n % 1000)));
    }
    const times: number[] = [];
    for (let i = 0; i < 20; i++) times.push(await echo(100 + i));
    times.sort((a, b) => a - b);
    console.log(
      `flood ${runtime}: other connection's echo median ${times[10].toFixed(2)} ms, ` +
        `worst ${times[19].toFixed(2)} ms; while the flood was read: worst ${
          during.toFixed(2)
        } ms ` +
        `of ${n}`,
    );
    f.destroy();
  } finally {
    child.kill("SIGTERM");
  }
}

async function noread(runtime: string): Promise<void> {
  const { child, port } = await start(runtime);
  try {
    await new Promise((r) => setTimeout(r, 500));
    const before = rssMiB(child.pid!);
    const s = await open(port);
    s.pause();
    s.write("01");
    const part = "x".repeat(64 * 1024);
    const payload = enc.encode(JSON.stringify({ parts: Array(128).fill(part) }));
    for (let i = 0; i < 40; i++) s.write(request(i, "echo-parts", payload));
    let peak = before;
    for (let i = 0; i < 50; i++) {
      await new Promise((r) => setTimeout(r, 100));
      peak = Math.max(peak, rssMiB(child.pid!));
    }
    const after = rssMiB(child.pid!);
    console.log(
      `noread ${runtime}: RSS before ${before.toFixed(0)} MiB, +${(after - before).toFixed(0)} ` +
        `MiB after 5 s (peak +${(peak - before).toFixed(0)} MiB)`,
    );
    s.destroy();
  } finally {
    child.kill("SIGTERM");
  }
}

for (const rt of runtimes) {
  if (only.includes("flood")) await flood(rt);
  if (only.includes("noread")) await noread(rt);
}
