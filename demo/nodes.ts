/**
 * `--nodes N`: the chat on N servers at once, one NATS cluster. It starts a nats-server on a
 * free loopback port (Debian's `nats-server`: installed with apt-get when missing and this runs
 * as root, else it says how), then N chat servers of this same runtime, each with `--nats` and
 * ports of its own (`--port P` and `--tcp-port T` give node i `P + 2i` and `T + 2i`; 0 stays
 * 0). Their output is relayed line by line behind `node I | `. SIGINT or SIGTERM stops the
 * servers, then nats-server; one server that exits stops the rest.
 *
 * @module
 */
// deno-lint-ignore-file no-console
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { createServer } from "node:net";
import process from "node:process";
import type { Readable } from "node:stream";

/** Where nats-server is: `$NATS_SERVER`, or Debian's. */
const NATS_SERVER = process.env.NATS_SERVER ?? "/usr/sbin/nats-server";

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const addr = s.address();
      s.close(() => resolve(typeof addr === "object" && addr ? addr.port : 0));
    });
  });
}

/** Makes sure nats-server is there: installs Debian's package as root, or says how and exits. */
function ensureNatsServer(): void {
  if (existsSync(NATS_SERVER)) return;
  const root = process.getuid?.() === 0;
  if (root && existsSync("/usr/bin/apt-get")) {
    console.log("nats-server is missing: apt-get install -y nats-server");
    try {
      execFileSync("apt-get", ["install", "-y", "nats-server"], { stdio: "inherit" });
    } catch {
      execFileSync("apt-get", ["update"], { stdio: "inherit" });
      execFileSync("apt-get", ["install", "-y", "nats-server"], { stdio: "inherit" });
    }
    if (existsSync(NATS_SERVER)) return;
  }
  console.error(
    `No nats-server at ${NATS_SERVER}: install it (Debian, Ubuntu: sudo apt-get install ` +
      "nats-server; elsewhere https://nats.io/download/), or set NATS_SERVER to it, or start " +
      "one yourself and run each node with --nats nats://HOST:PORT",
  );
  process.exit(1);
}

/** Relays a stream's lines behind `prefix`. */
function relay(stream: Readable, prefix: string): void {
  let pending = "";
  stream.setEncoding("utf8");
  stream.on("data", (chunk: string) => {
    pending += chunk;
    let nl;
    while ((nl = pending.indexOf("\n")) >= 0) {
      const line = pending.slice(0, nl);
      pending = pending.slice(nl + 1);
      console.log(prefix + line);
    }
  });
}

/** Starts nats-server on `port` and resolves once it is ready (bounded: 10 s). */
async function startNats(port: number): Promise<ChildProcess> {
  const child = spawn(NATS_SERVER, ["-a", "127.0.0.1", "-p", String(port)], {
    stdio: ["ignore", "ignore", "pipe"],
  });
  let log = "";
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`nats-server did not start:\n${log}`)), 10_000);
    child.stderr!.setEncoding("utf8");
    child.stderr!.on("data", (d: string) => {
      log += d;
      if (log.includes("Server is ready")) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`nats-server exited ${code}:\n${log}`));
    });
  });
  return child;
}

function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill("SIGKILL"), 5000);
    child.once("exit", () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill("SIGTERM");
  });
}

/**
 * Runs `nodes` chat servers and a nats-server between them until SIGINT or SIGTERM.
 *
 * @param nodes How many servers.
 * @param command How to start one server on this runtime (executable and its arguments).
 * @param args The servers' arguments (without `--nodes`; `--port` and `--tcp-port` are
 * the first node's).
 * @param ports The first node's HTTP and TCP ports.
 */
export async function runNodes(
  nodes: number,
  command: string[],
  args: string[],
  ports: { http: number; tcp: number },
): Promise<void> {
  ensureNatsServer();
  const natsPort = await freePort();
  const nats = await startNats(natsPort);
  const url = `nats://127.0.0.1:${natsPort}`;
  console.log(`NATS: ${url} (nats-server ${NATS_SERVER}, pid ${nats.pid})`);
  const children: ChildProcess[] = [];
  let stopping = false;
  const stopAll = async (code: number) => {
    if (stopping) return;
    stopping = true;
    await Promise.all(children.map(stop));
    await stop(nats);
    process.exit(code);
  };
  for (let i = 0; i < nodes; i++) {
    const port = (base: number) => String(base === 0 ? 0 : base + 2 * i);
    const child = spawn(command[0], [
      ...command.slice(1),
      ...args,
      "--port",
      port(ports.http),
      "--tcp-port",
      port(ports.tcp),
      "--nats",
      url,
      "--node",
      String(i + 1),
    ], { stdio: ["ignore", "pipe", "pipe"] });
    children.push(child);
    relay(child.stdout!, `node ${i + 1} | `);
    relay(child.stderr!, `node ${i + 1} | `);
    child.once("exit", (code, signal) => {
      if (stopping) return;
      console.log(`node ${i + 1} exited (${signal ?? `code ${code}`}): stopping the others`);
      void stopAll(1);
    });
  }
  process.on("SIGINT", () => void stopAll(0));
  process.on("SIGTERM", () => void stopAll(0));
  nats.once("exit", () => {
    if (!stopping) console.log("nats-server exited: the nodes are cut off from each other");
  });
}
