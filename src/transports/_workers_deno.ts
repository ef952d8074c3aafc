/**
 * `startWorkers` on Deno: N processes of `deno run` with an IPC channel each; they share a port
 * through `reusePort` (`SO_REUSEPORT`). Internal: exported from `deno.ts`.
 *
 * @module
 */

import type { StartWorkersOptions, Workers } from "./workers_options.ts";
import { spawnWorker } from "./_workers_spawn.ts";
import { startGroup, workerEnv, workersParams } from "./_workers_util.ts";

interface DenoLike {
  execPath(): string;
  readonly mainModule: string;
  readonly args: string[];
  permissions: { querySync(descriptor: { name: string }): { state: string } };
}

function deno(): DenoLike {
  const value = (globalThis as unknown as { Deno?: DenoLike }).Deno;
  if (value === undefined) throw new TypeError("This adapter needs the Deno runtime");
  return value;
}

const PERMISSIONS = ["read", "write", "net", "env", "run", "sys", "ffi", "import"];

/** The primary's whole permissions as flags: `-A` when it has them all. */
function permissionFlags(Deno: DenoLike): string[] {
  const granted = PERMISSIONS.filter((name) => {
    try {
      return Deno.permissions.querySync({ name }).state === "granted";
    } catch {
      return false; // a kind this Deno does not know
    }
  });
  return granted.length === PERMISSIONS.length ? ["-A"] : granted.map((n) => `--allow-${n}`);
}

/**
 * Starts `count` worker processes of a script (by default the one running) on Deno and
 * resolves once each has called {@linkcode workerReady}. Each worker listens on the same port
 * with `reusePort: true` (`listen`, `serveWebSocket`), and Linux spreads the connections among
 * them; `workerIndex()` tells a worker from the primary. A worker runs `deno run` with the
 * primary's whole permissions (each kind it has in full, `-A` for all) and `--unstable-net`
 * (`Deno.listen`'s `reusePort` is unstable), unless `runtimeArgs` says otherwise.
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
 * ```ts
 * import { Peer } from "@gotalk/gotalk";
 * import { connect, listen, startWorkers } from "@gotalk/gotalk/deno";
 * import assert from "node:assert/strict";
 *
 * // A free port for the workers (each listens on it with reusePort: true).
 * const probe = await listen({ hostname: "127.0.0.1", port: 0 });
 * const port = probe.addr.port;
 * probe.close();
 * // A worker script that listens on the port it is given with reusePort: true, serves
 * // `pid` (its process id), then calls workerReady() (the README's recipe is one).
 * const workers = await startWorkers({
 *   count: 2,
 *   module: new URL("./_test_worker.ts", import.meta.url),
 *   args: [String(port)],
 * });
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
    const Deno = deno();
    const flags = params.runtimeArgs ?? [...permissionFlags(Deno), "--unstable-net"];
    const module = params.module ?? Deno.mainModule;
    const args = params.args ?? Deno.args;
    return startGroup(
      params,
      (index) =>
        spawnWorker(
          Deno.execPath(),
          ["run", ...flags, module, ...args],
          workerEnv(params.env, index),
        ),
    );
  } catch (error) {
    return Promise.reject(error);
  }
}
