// This module is browser compatible.

/**
 * Options for `startWorkers` (of `@gotalk/gotalk/deno`, `/bun` and `/node`).
 *
 * @example Two workers of this script, each told its port
 * ```ts
 * import type { StartWorkersOptions } from "@gotalk/gotalk/deno";
 * import assert from "node:assert/strict";
 *
 * const options: StartWorkersOptions = { count: 2, env: { PORT: "8080" } };
 * assert.equal(options.count, 2);
 * ```
 */
export interface StartWorkersOptions {
  /**
   * How many worker processes to start.
   *
   * @default {navigator.hardwareConcurrency} (1 where it is unknown)
   */
  count?: number;
  /**
   * The script each worker runs (a path, or a `file:` URL).
   *
   * @default {undefined} (the script the primary runs: `Deno.mainModule`, `Bun.main`,
   * `process.argv[1]`)
   */
  module?: string | URL;
  /**
   * The script's arguments.
   *
   * @default {undefined} (the primary's own: `Deno.args`, `process.argv.slice(2)`)
   */
  args?: string[];
  /**
   * The runtime's arguments before the script. Deno: what goes after `deno run` (without it,
   * each permission the primary has whole becomes its `--allow-*` flag, `-A` if it has them all,
   * plus `--unstable-net` for `listen`'s `reusePort`); Bun: its flags; Node: `execArgv`.
   *
   * @default {undefined} (see above; Bun none, Node `process.execArgv`)
   */
  runtimeArgs?: string[];
  /**
   * Variables added to the workers' environment (the primary's is passed on; each worker also
   * gets `GOTALK_WORKER_INDEX`, which `workerIndex()` reads).
   *
   * @default {undefined}
   */
  env?: Record<string, string>;
  /**
   * How long to wait for every worker's `workerReady()` before `startWorkers` gives up: it
   * then stops the workers and rejects.
   *
   * @default {30000}
   */
  readyTimeoutMs?: number;
}

/**
 * How a worker process ended: its exit code, or the signal that ended it.
 *
 * @example
 * ```ts
 * import type { WorkerExit } from "@gotalk/gotalk/deno";
 * import assert from "node:assert/strict";
 *
 * const killed: WorkerExit = { code: null, signal: "SIGTERM" };
 * assert.equal(killed.code, null);
 * ```
 */
export interface WorkerExit {
  /** The exit code; `null` when a signal ended it. */
  readonly code: number | null;
  /** The signal that ended it (such as `"SIGTERM"`); `null` when it exited by itself. */
  readonly signal: string | null;
}

/**
 * One worker process of {@linkcode Workers}.
 *
 * @example
 * ```ts
 * import type { WorkerProcess } from "@gotalk/gotalk/deno";
 * import assert from "node:assert/strict";
 *
 * const worker: WorkerProcess = { index: 0, pid: 1234, exited: Promise.resolve({ code: 0, signal: null }) };
 * assert.equal((await worker.exited).code, 0);
 * ```
 */
export interface WorkerProcess {
  /** Its index, from 0 (the value of `workerIndex()` in it). */
  readonly index: number;
  /** Its process id. */
  readonly pid: number;
  /** Resolves when it has exited. */
  readonly exited: Promise<WorkerExit>;
}

/**
 * The worker processes `startWorkers` started, every one of them ready. A worker that exits
 * is not restarted: watch `exited` to start another.
 *
 * @example
 * ```ts
 * import type { Workers } from "@gotalk/gotalk/deno";
 * import assert from "node:assert/strict";
 *
 * const none: Workers = { processes: [], closed: Promise.resolve(), close: () => Promise.resolve() };
 * await none.close();
 * assert.equal(none.processes.length, 0);
 * ```
 */
export interface Workers {
  /** The workers, by index. */
  readonly processes: readonly WorkerProcess[];
  /** Resolves once every worker has exited. */
  readonly closed: Promise<void>;
  /**
   * Stops every worker: `SIGTERM`, then `SIGKILL` to one still running 5 s later.
   *
   * @returns Resolves once every worker has exited.
   */
  close(): Promise<void>;
}
