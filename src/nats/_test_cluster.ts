/**
 * Servers of a test cluster on a real nats-server: in this process, or as a child process
 * (which a test can kill or stop). Each server is a Gotalk TCP server whose connections join
 * the topic `room`. Test-only.
 *
 * @module
 */

import { type ChildProcess, spawn } from "node:child_process";
import process from "node:process";
import { connect as natsConnect, type NatsConnection } from "@nats-io/transport-node";
import { Handlers } from "../peer/handlers.ts";
import { Peer } from "../peer/peer.ts";
import { Hub } from "../server/hub.ts";
import { Server } from "../server/server.ts";
import { connect, listen } from "../transports/node.ts";
import { childCommand } from "../transports/_test_stdio_util.ts";
import { NatsBackplane } from "./mod.ts";
import { killOnExit, type NatsServer } from "./_test_nats_server.ts";

/** A client of a cluster server: records the `n` notifications it gets. */
export interface Client {
  peer: Peer;
  got: unknown[];
}

/** Connects a client to a cluster server's TCP port. */
export async function client(port: number): Promise<Client> {
  const got: unknown[] = [];
  const handlers = new Handlers().handleNotification("n", (v) => void got.push(v));
  const peer = new Peer(await connect({ hostname: "127.0.0.1", port }), { handlers });
  await peer.ready;
  return { peer, got };
}

/** A NATS connection that reconnects forever, quickly (loopback). */
export function connectNats(nats: NatsServer): Promise<NatsConnection> {
  return natsConnect({
    servers: nats.url,
    maxReconnectAttempts: -1,
    reconnectTimeWait: 50,
    reconnectJitter: 0,
  });
}

/** A cluster server in this process. */
export interface LocalNode {
  nc: NatsConnection;
  hub: Hub;
  server: Server;
  port: number;
  close(): Promise<void>;
}

/** Starts a cluster server in this process. */
export async function localNode(nats: NatsServer): Promise<LocalNode> {
  const nc = await connectNats(nats);
  const hub = new Hub({ backplane: new NatsBackplane(nc) });
  const server = new Server(await listen({ hostname: "127.0.0.1", port: 0 }), {
    onPeer: (peer) => void hub.topic("room").join(peer),
  });
  return {
    nc,
    hub,
    server,
    port: server.addr.port,
    async close() {
      await hub.close();
      await server.close({ timeoutMs: 1000 });
      await nc.close();
    },
  };
}

/** A cluster server in a child process. */
export interface ChildNode {
  port: number;
  child: ChildProcess;
  /** Sends `signal` (through `process.kill`: Deno's `child.kill` sends one signal at most). */
  signal(signal: "SIGSTOP" | "SIGCONT" | "SIGKILL"): void;
  /** SIGKILL, and waits for the exit. */
  kill(): Promise<void>;
}

/** Starts a cluster server as a child process on this runtime. */
export async function childNode(nats: NatsServer): Promise<ChildNode> {
  const compiled = import.meta.url.endsWith(".js");
  const script = decodeURIComponent(
    new URL(`./_test_node_child.${compiled ? "js" : "ts"}`, import.meta.url).pathname,
  );
  const [cmd, args] = childCommand(["run", script, String(nats.port)]);
  const child = spawn(cmd, args, { stdio: ["ignore", "pipe", "inherit"] });
  killOnExit(child);
  let alive = true;
  const exited = new Promise<void>((resolve) =>
    child.once("exit", () => {
      alive = false;
      resolve();
    })
  );
  const signal = (sig: "SIGSTOP" | "SIGCONT" | "SIGKILL") => {
    if (alive && child.pid !== undefined) process.kill(child.pid, sig);
  };
  let out = "";
  const port = await new Promise<number>((resolve, reject) => {
    const guard = setTimeout(
      () => reject(new Error(`The child node did not start: ${out}`)),
      30_000,
    );
    child.stdout?.on("data", (chunk: Uint8Array) => {
      out += new TextDecoder().decode(chunk);
      const m = /READY (\d+)/.exec(out);
      if (m) {
        clearTimeout(guard);
        resolve(Number(m[1]));
      }
    });
    child.once("exit", (code) => {
      clearTimeout(guard);
      reject(new Error(`The child node exited (${code}): ${out}`));
    });
  });
  return {
    port,
    child,
    signal,
    async kill() {
      signal("SIGCONT");
      signal("SIGKILL");
      await exited;
    },
  };
}

/** Resolves once `check()` holds; rejects after `ms` (a hang guard, not a timing assertion). */
export async function until(check: () => boolean, ms = 20_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error("Timed out waiting for a condition");
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** Waits a macrotask. */
export const tick = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 0));
