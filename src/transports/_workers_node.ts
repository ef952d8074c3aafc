/**
 * `startWorkers` on Node: N `node:cluster` workers, which share the primary's listening socket
 * (Node 20 has no `reusePort`). Internal: exported from `node.ts`.
 *
 * @module
 */

import cluster from "node:cluster";
import process from "node:process";
import type { StartWorkersOptions, WorkerExit, Workers } from "./workers_options.ts";
import { startGroup, WORKER_INDEX_ENV, workersParams } from "./_workers_util.ts";

/**
 * Starts `count` `node:cluster` workers of a script (by default the one running,
 * `process.argv[1]`) on Node and resolves once each has called {@linkcode workerReady}. A
 * worker's `listen` (or `serveWebSocket`) on a port goes through the cluster: the primary holds
 * the listening socket and hands each new connection to a worker in turn (cluster's default
 * round-robin), so the primary must keep running; `workerIndex()` tells a worker from the
 * primary. Not for Deno or Bun (their `startWorkers` is in `@gotalk/gotalk/deno` and `/bun`).
 *
 * Peers on different workers share nothing in memory: a topic that spans the workers goes
 * through a backplane between them (the NATS one).
 *
 * @param options How many workers, the script, its arguments and environment.
 * @returns The workers, all ready.
 * @throws {TypeError} If an option has the wrong type, or this process is a cluster worker.
 * @throws {RangeError} If `count` is not a positive integer.
 *
 * The promise rejects when a worker exits before it is ready, or `readyTimeoutMs` passes; the
 * workers started are stopped first.
 *
 * @example Two workers serving one port
 * (Node only: the doc tests run on Deno and skip it.)
 * ```ts ignore
 * import { Peer } from "gotalk";
 * import { connect, listen, startWorkers } from "gotalk/node";
 * import assert from "node:assert/strict";
 *
 * const probe = await listen({ hostname: "127.0.0.1", port: 0 });
 * const port = probe.addr.port;
 * probe.close();
 * const workers = await startWorkers({ count: 2, module: "worker.js", args: [String(port)] });
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
    if (!cluster.isPrimary) throw new TypeError("A cluster worker cannot start workers");
    const settings = {
      exec: params.module ?? process.argv[1],
      args: params.args ?? process.argv.slice(2),
      execArgv: params.runtimeArgs ?? process.execArgv,
    };
    return startGroup(params, (index) => {
      // Settings apply to the next fork: set them each time, in case another caller changed them.
      cluster.setupPrimary(settings);
      const worker = cluster.fork({ ...params.env, [WORKER_INDEX_ENV]: String(index) });
      const exited = new Promise<WorkerExit>((resolve) => {
        worker.once("exit", (code, signal) => resolve({ code: signal ? null : code, signal }));
      });
      return {
        pid: worker.process.pid ?? 0,
        exited,
        onMessage: (listener) => void worker.on("message", listener),
        kill(signal) {
          if (worker.process.exitCode === null && worker.process.signalCode === null) {
            worker.process.kill(signal);
          }
        },
      };
    });
  } catch (error) {
    return Promise.reject(error);
  }
}
