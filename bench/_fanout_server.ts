/**
 * Our side of the fan-out benchmark (bench/fanout.ts), on Deno, Bun or Node: a TCP server on
 * 127.0.0.1:0 (prints `READY tcp://ADDR`) whose connections all join one topic. Once --conns
 * peers are connected and a line arrives on stdin, it sends --count notifications (a JSON
 * string of --size bytes) to all of them, with `topic.notify` (`--mode topic`) or a hand loop
 * of `peer.notify` over the same peers, not awaited (`--mode loop`, as demo/chat.ts does), yielding to I/O every 16 notifications
 * in both modes, and prints `{"start_ns":T,"skipped":N}`. It exits when stdin ends.
 *
 * @module
 */

import process from "node:process";
import { setImmediate } from "node:timers";
import { type Peer, Server, Topic } from "../mod.ts";
import type { Listener } from "../src/peer/transport.ts";

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : fallback;
}

const mode = arg("--mode", "topic");
const conns = Number(arg("--conns", "1000"));
const count = Number(arg("--count", "1000"));
const size = Number(arg("--size", "64"));
if (mode !== "topic" && mode !== "loop") throw new Error(`Unknown --mode ${mode}`);

async function listen(): Promise<Listener> {
  const g = globalThis as { Bun?: unknown; Deno?: unknown };
  const options = { hostname: "127.0.0.1", port: 0 };
  if (g.Deno !== undefined) return (await import("../src/transports/deno.ts")).listen(options);
  if (g.Bun !== undefined) return (await import("../src/transports/bun.ts")).listen(options);
  return (await import("../src/transports/node.ts")).listen(options);
}

const topic = new Topic("bench");
const peers: Peer[] = [];
let allConnected: () => void = () => {};
const connected = new Promise<void>((resolve) => allConnected = resolve);
const server = new Server(await listen(), {
  logger: null,
  onPeer: (peer) => {
    topic.join(peer);
    peers.push(peer);
    if (peers.length === conns) allConnected();
  },
});
process.stdout.write(`READY tcp://127.0.0.1:${server.addr.port}\n`);

const lines: Array<() => void> = [];
let ended = false;
process.stdin.on("data", (chunk: Uint8Array) => {
  for (const byte of chunk) if (byte === 10) lines.shift()?.();
});
process.stdin.on("end", () => {
  ended = true;
  for (const l of lines.splice(0)) l();
});
const line = () => new Promise<void>((resolve) => ended ? resolve() : lines.push(resolve));
const yieldToIo = () => new Promise<void>((resolve) => setImmediate(resolve));

await line();
await connected;
const value = "x".repeat(size - 2); // its JSON, quotes included, is `size` bytes
const startNs = Math.round((performance.timeOrigin + performance.now()) * 1e6);
for (let i = 0; i < count; i++) {
  if (mode === "topic") topic.notify("n", value);
  // The hand loop as the chat demo writes it (demo/chat.ts).
  else for (const peer of peers) void peer.notify("n", value).catch(() => {});
  if (i % 16 === 15) await yieldToIo();
}
process.stdout.write(JSON.stringify({ start_ns: startNs, skipped: topic.stats.skipped }) + "\n");
await line();
await server.close({ timeoutMs: 1000 });
process.exit(0);
