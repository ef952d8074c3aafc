// Accept survives running out of file descriptors, on this runtime's TCP, TLS and WebSocket
// listeners (and, on Deno and Bun, the node: ones): a child server under `ulimit -n 64` is sent
// three times as many connections as it has descriptors; its CPU time while exhausted stays low
// (no accept hot loop), a connection made before is still answered, and once the connections
// close a new client is served. Linux only (the CPU time comes from /proc).
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import type { Transport } from "../peer/transport.ts";
import { exhaustFds, type FdExhaustionOptions } from "./_test_fd_exhaustion.ts";
import { runtimeName, testCertificate } from "./_test_factories.ts";
import { stdioAdapter } from "./_test_stdio_util.ts";
import { wsAdapter } from "./websocket/_test_factories.ts";

const runtime = runtimeName();
const adapter = await stdioAdapter();
const ws = await wsAdapter();
const { cert } = testCertificate();

/** Most of one core the child may use while exhausted (a spinning accept uses 40 to 100 %). */
const MAX_CPU = 0.1;

function connectTo(kind: FdExhaustionOptions["kind"]): (port: number) => Promise<Transport> {
  return (port) =>
    kind === "ws"
      ? ws.connectWebSocket(`ws://127.0.0.1:${port}/gotalk/`, {
        signal: AbortSignal.timeout(10_000),
      })
      : adapter.connect({
        hostname: "127.0.0.1",
        port,
        tls: kind === "tls" ? { caCerts: [cert], serverName: "localhost" } : undefined,
        signal: AbortSignal.timeout(10_000),
      });
}

const cases: { kind: FdExhaustionOptions["kind"]; engine?: "node" }[] = [
  { kind: "tcp" },
  { kind: "tls" },
  { kind: "ws" },
];
// Deno's serveWebSocket is the node: one already.
if (runtime !== "node") cases.push({ kind: "tcp", engine: "node" });
if (runtime === "bun") cases.push({ kind: "ws", engine: "node" });

describe(`accept under fd exhaustion (${runtime})`, () => {
  for (const { kind, engine } of cases) {
    test(`${kind}${engine ? " (node: adapter)" : ""}: no hot loop, recovers`, async () => {
      const result = await exhaustFds({ kind, engine, connect: connectTo(kind) });
      assert.ok(
        result.cpu < MAX_CPU,
        `CPU while exhausted: ${(result.cpu * 100).toFixed(1)} % of a core`,
      );
      assert.ok(result.servedWhileExhausted, "a connection from before was answered");
      assert.ok(result.servedAfter, "a new client was served after the connections closed");
    });
  }
});
