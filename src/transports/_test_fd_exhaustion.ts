/**
 * The fd-exhaustion scenario, reusable by the stress tests: a child server on this runtime runs
 * under a low `ulimit -n`, this process opens more connections than the child has descriptors,
 * and measures the child's CPU time (utime + stime from `/proc/PID/stat`, so no wall-clock
 * guess) while it is exhausted. Then it closes those connections and checks that a new client is
 * served. Linux only (it reads `/proc`). Test-only.
 *
 * @module
 */

import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { connect as netConnect, type Socket } from "node:net";
import { Peer } from "../peer/peer.ts";
import type { Transport } from "../peer/transport.ts";
import { childCommand, scriptPath } from "./_test_stdio_util.ts";
import { within } from "../peer/_test_within.ts";

/** What {@linkcode exhaustFds} runs. */
export interface FdExhaustionOptions {
  /** The child's listener: TCP, TLS or a WebSocket server. */
  kind: "tcp" | "tls" | "ws";
  /** The child's adapter: its own runtime's (default) or the `node:` one (on Deno and Bun). */
  engine?: "node";
  /** The child's `ulimit -n`. Default 64. */
  fdLimit?: number;
  /** Raw connections opened to exhaust it. Default 3 x `fdLimit`. */
  connections?: number;
  /** How long the CPU time is measured while exhausted, in ms. Default 2000. */
  windowMs?: number;
  /** Connects a client transport to the child's port (TCP, TLS or WebSocket as `kind`). */
  connect(port: number): Promise<Transport>;
}

/** What {@linkcode exhaustFds} measured. */
export interface FdExhaustionResult {
  /** The child's CPU time over the window, as a fraction of one core (0.05 = 5 %). */
  cpu: number;
  /** Failed accepts the child's server reported (one per backoff step). */
  acceptErrors: number;
  /** The error codes it reported, without repeats. */
  errorCodes: string[];
  /** How many of the raw connections were established (by the kernel, if not accepted). */
  connected: number;
  /** Whether a peer connected before exhaustion was answered while exhausted. */
  servedWhileExhausted: boolean;
  /** Whether a new peer was answered after the raw connections closed. */
  servedAfter: boolean;
  /** Connection attempts refused after they closed (by a listener still paused). */
  refused: number;
}

/** The child's utime + stime, in clock ticks (all its threads). */
function cpuTicks(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  // After the name: state is field 3, so utime (14) and stime (15) are at 11 and 12.
  return Number(fields[11]) + Number(fields[12]);
}

/** Linux's USER_HZ: clock ticks per second in /proc/PID/stat. */
const TICKS_PER_SECOND = 100;

const delay = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function echoes(transport: Transport, value: string): Promise<boolean> {
  const peer = new Peer(transport);
  try {
    return await within(peer.request("echo", value), 10_000, "echo") === value;
  } finally {
    await peer.close().catch(() => {});
  }
}

/**
 * Runs the scenario (see the module docs) and reports what it measured. The child is stopped
 * before this returns, also when it throws.
 *
 * @param options The listener kind, limits and how to connect.
 * @returns The figures.
 */
export async function exhaustFds(options: FdExhaustionOptions): Promise<FdExhaustionResult> {
  const fdLimit = options.fdLimit ?? 64;
  const count = options.connections ?? fdLimit * 3;
  const windowMs = options.windowMs ?? 2000;
  const [exec, args] = childCommand([
    "run",
    scriptPath("./_test_fd_child.ts"),
    options.kind,
    ...(options.engine ? [options.engine] : []),
  ]);
  const child = spawn("sh", ["-c", `ulimit -n ${fdLimit} && exec "$0" "$@"`, exec, ...args], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const codes = new Set<string>();
  let acceptErrors = 0;
  let buffered = "";
  let onReady: (port: number) => void = () => {};
  const ready = new Promise<number>((resolve) => (onReady = resolve));
  child.stdout!.setEncoding("utf8");
  child.stdout!.on("data", (text: string) => {
    buffered += text;
    let newline;
    while ((newline = buffered.indexOf("\n")) >= 0) {
      const [word, value] = buffered.slice(0, newline).split(" ");
      buffered = buffered.slice(newline + 1);
      if (word === "READY") onReady(Number(value));
      if (word === "ERROR") {
        acceptErrors++;
        codes.add(value);
      }
    }
  });
  const sockets: Socket[] = [];
  try {
    const port = await within(ready, 20_000, "the child's READY line");
    const early = new Peer(await options.connect(port));
    await within(early.request("echo", "warm-up"), 10_000, "warm-up echo");
    let connected = 0;
    const established: Promise<void>[] = [];
    for (let i = 0; i < count; i++) {
      const socket = netConnect({ host: "127.0.0.1", port });
      socket.on("error", () => {});
      sockets.push(socket);
      established.push(
        new Promise<void>((resolve) => {
          socket.once("connect", () => {
            connected++;
            resolve();
          });
          socket.once("close", () => resolve());
        }),
      );
    }
    // Every connection is established or refused, or 3 s passed (beyond the kernel's backlog a
    // SYN waits: those count as not connected).
    await Promise.race([Promise.all(established), delay(3000)]);
    // The child reaches its limit and starts failing accepts, and (Bun, the node: servers on
    // Deno and Bun) notices within 100 ms and pauses its listener.
    await delay(500);
    const pid = child.pid!;
    const before = cpuTicks(pid);
    await delay(windowMs);
    const cpu = (cpuTicks(pid) - before) / TICKS_PER_SECOND / (windowMs / 1000);
    const servedWhileExhausted = await within(early.request("echo", "still"), 10_000, "echo")
      .then((value) => value === "still", () => false);
    await early.close().catch(() => {});
    for (const socket of sockets.splice(0)) socket.destroy();
    // A listener paused while exhausted (Bun, the node: servers on Deno and Bun) refuses
    // connections until it listens again (at most 1 s after the fds came back), and Node (libuv)
    // resets a connection it accepts while still out of fds (before it has seen the closes):
    // retry as a client would.
    let transport: Transport | undefined;
    let refused = 0;
    for (let attempt = 0; transport === undefined; attempt++) {
      try {
        transport = await within(options.connect(port), 20_000, "a connection after");
      } catch (error) {
        // (Deno's WebSocket client says ECONNECT for a refused connection.)
        const code = (error as { code?: unknown }).code;
        const retry = code === "ECONNREFUSED" || code === "ECONNECT" || code === "ECONNRESET";
        if (!retry || attempt >= 60) throw error;
        refused++;
        await delay(50);
      }
    }
    const servedAfter = await echoes(transport, "after");
    return {
      cpu,
      acceptErrors,
      errorCodes: [...codes],
      connected,
      servedWhileExhausted,
      servedAfter,
      refused,
    };
  } finally {
    for (const socket of sockets) socket.destroy();
    child.kill("SIGKILL");
    await exited;
  }
}
