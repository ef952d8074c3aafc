/**
 * `startWorkers` on Bun: N processes of `bun` with an IPC channel each; they share a port
 * through `reusePort` (`SO_REUSEPORT`). Internal: exported from `bun.ts`.
 *
 * @module
 */

import process from "node:process";
import type { StartWorkersOptions, Workers } from "./workers_options.ts";
import { spawnWorker } from "./_workers_spawn.ts";
import { startGroup, workerEnv, workersParams } from "./_workers_util.ts";

/**
 * Starts `count` worker processes of a script (by default the one running, `Bun.main`) on Bun
 * and resolves once each has called {@linkcode workerReady}. Each worker listens on the same
 * port with `reusePort: true` (`listen`, `serveWebSocket`), and Linux spreads the connections
 * among them; `workerIndex()` tells a worker from the primary.
 *
 * Peers on different workers share nothing in memory: a topic that spans the workers goes
 * through a backplane between them (the NATS one).
 *
 * @param options How many workers, the script, its arguments and environment.
 * @returns The workers, all ready.
 * @throws {TypeError} If an option has the wrong type.
 * @throws {RangeError} If `count` is not a positive integer.
 *
 * The promise rejects when a worker exits before it is ready, or `readyTimeoutMs` passes; the
 * workers started are stopped first.
 *
 * @example Two workers serving one port
 * (Bun only: the doc tests run on Deno and skip it.)
 * ```ts ignore
 * import { Peer } from "@gotalk/gotalk";
 * import { connect, listen, startWorkers } from "@gotalk/gotalk/bun";
 * import assert from "node:assert/strict";
 *
 * const probe = await listen({ hostname: "127.0.0.1", port: 0 });
 * const port = probe.addr.port;
 * probe.close();
 * const workers = await startWorkers({ count: 2, module: "worker.ts", args: [String(port)] });
 * const client = new Peer(await connect({ port }));
 * const pid = await client.request("pid");
 * assert.ok(workers.processes.some((w) => w.pid === pid));
 * await client.close();
 * await workers.close();
 * ```
 */
export function startWorkers(options?: StartWorkersOptions): Promise<Workers> {
  try {
    const params = workersParams(options);
    const bun = (globalThis as unknown as { Bun?: { main: string } }).Bun;
    if (bun === undefined) throw new TypeError("This adapter needs the Bun runtime");
    const module = params.module ?? bun.main;
    const args = params.args ?? process.argv.slice(2);
    const flags = params.runtimeArgs ?? [];
    return startGroup(
      params,
      (index) =>
        spawnWorker(process.execPath, [...flags, module, ...args], workerEnv(params.env, index)),
    );
  } catch (error) {
    return Promise.reject(error);
  }
}
