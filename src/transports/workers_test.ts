// startWorkers on this runtime: N = 2 worker processes serve one port (reusePort on Deno and
// Bun, node:cluster on Node), and connections land on both.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { Peer } from "../peer/peer.ts";
import type { Listener, Transport } from "../peer/transport.ts";
import type { ConnectOptions, ListenOptions } from "./socket_options.ts";
import type { StartWorkersOptions, Workers } from "./workers_options.ts";
import { runtimeName } from "./_test_factories.ts";
import { scriptPath } from "./_test_stdio_util.ts";
import { within } from "../peer/_test_within.ts";

const runtime = runtimeName();
const adapter: {
  connect(options: ConnectOptions): Promise<Transport>;
  listen(options: ListenOptions): Promise<Listener>;
  startWorkers(options?: StartWorkersOptions): Promise<Workers>;
  workerIndex(): number | undefined;
} = runtime === "deno"
  ? await import("./deno.ts")
  : runtime === "bun"
  ? await import("./bun.ts")
  : await import("./node.ts");

/** The processes (Linux: /proc) whose command line has `token`. */
function running(token: string): number[] {
  return readdirSync("/proc").filter((d) => /^\d+$/.test(d)).filter((pid) => {
    try {
      return readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").includes(token);
    } catch {
      return false; // gone meanwhile
    }
  }).map(Number);
}

async function freePort(): Promise<number> {
  const probe = await adapter.listen({ hostname: "127.0.0.1", port: 0 });
  const port = probe.addr.port;
  probe.close();
  return port;
}

function startTestWorkers(port: number, count = 2): Promise<Workers> {
  return within(
    adapter.startWorkers({ count, module: scriptPath("./_test_worker.ts"), args: [String(port)] }),
    60_000,
    "startWorkers",
  );
}

describe(`workers (${runtime})`, () => {
  test("two workers on one port both serve: connections land on each", async () => {
    const port = await freePort();
    const workers = await startTestWorkers(port);
    try {
      const pids = new Set(workers.processes.map((w) => w.pid));
      assert.equal(pids.size, 2);
      const seen = new Map<number, number>();
      // The kernel (or the cluster's round-robin) spreads connections: with 64, the chance that
      // one worker gets none is 2^-63 under an even spread.
      const CONNS = 64;
      const peers: Peer[] = [];
      try {
        for (let i = 0; i < CONNS; i++) {
          peers.push(new Peer(await adapter.connect({ port })));
        }
        const answers = await within(
          Promise.all(peers.map((p) => p.request("pid") as Promise<number>)),
          30_000,
          "the pid requests",
        );
        for (const pid of answers) {
          assert.ok(pids.has(pid), `pid ${pid} is none of the workers'`);
          seen.set(pid, (seen.get(pid) ?? 0) + 1);
        }
        const indexes = new Set(
          await Promise.all(peers.map((p) => p.request("index") as Promise<number>)),
        );
        assert.deepEqual([...indexes].sort(), [0, 1]);
      } finally {
        await Promise.all(peers.map((p) => p.close()));
      }
      assert.equal(seen.size, 2, `every connection went to one worker: ${[...seen]}`);
      assert.equal([...seen.values()].reduce((a, b) => a + b, 0), CONNS);
    } finally {
      await workers.close();
    }
    const exits = await Promise.all(workers.processes.map((w) => w.exited));
    assert.equal(exits.length, 2);
    // Closed: nothing listens on the port any more.
    await assert.rejects(adapter.connect({ port }));
  });

  test("two workers on one WebSocket port both serve", async () => {
    const port = await freePort();
    const workers = await within(
      adapter.startWorkers({
        count: 2,
        module: scriptPath("./_test_worker.ts"),
        args: ["ws", String(port)],
      }),
      60_000,
      "startWorkers",
    );
    const peers: Peer[] = [];
    try {
      const { connectWebSocket } = runtime === "node"
        ? await import("./websocket/node.ts")
        : await import("./websocket/client.ts");
      for (let i = 0; i < 32; i++) {
        peers.push(new Peer(await connectWebSocket(`ws://127.0.0.1:${port}/gotalk/`)));
      }
      const pids = await within(
        Promise.all(peers.map((p) => p.request("pid") as Promise<number>)),
        30_000,
        "the pid requests",
      );
      // 32 connections all on one worker: 2^-31 under an even spread.
      assert.deepEqual(
        [...new Set(pids)].sort(),
        workers.processes.map((w) => w.pid).sort(),
      );
    } finally {
      await Promise.all(peers.map((p) => p.close()));
      await workers.close();
    }
  });

  test("a worker that exits before it is ready fails startWorkers, and the others stop", async () => {
    const token = `exit-${Math.random()}`;
    const workers = adapter.startWorkers({
      count: 2,
      module: scriptPath("./_test_worker.ts"),
      // Worker 0 exits before workerReady(); worker 1 never gets ready.
      args: [token, "exit-first"],
    });
    await assert.rejects(
      within(workers, 60_000, "startWorkers"),
      /Worker 0 \(pid \d+\) exited before it was ready: code 3/,
    );
    assert.deepEqual(running(token), []);
  });

  test("workers not ready within readyTimeoutMs: startWorkers rejects and stops them", async () => {
    const token = `hang-${Math.random()}`;
    const started = adapter.startWorkers({
      count: 2,
      module: scriptPath("./_test_worker.ts"),
      args: [token, "hang"],
      readyTimeoutMs: 1000,
    });
    await assert.rejects(
      within(started, 60_000, "startWorkers"),
      /Not every worker called workerReady\(\) within 1000 ms/,
    );
    assert.deepEqual(running(token), []);
  });

  test("options are checked", async () => {
    await assert.rejects(adapter.startWorkers({ count: 0 }), RangeError);
    await assert.rejects(
      adapter.startWorkers({ args: [1] as unknown as string[] }),
      TypeError,
    );
    assert.equal(adapter.workerIndex(), undefined);
  });
});
