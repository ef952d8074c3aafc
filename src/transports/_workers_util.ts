/**
 * What the runtimes' `startWorkers` share: option checks, the ready handshake over each worker's
 * IPC channel, and stopping the group. The worker side (`workerIndex`, `workerReady`) is
 * `node:process` only, which all three runtimes have. Internal: not part of the public API.
 *
 * @module
 */

import process from "node:process";
import { fileURLToPath } from "node:url";
import type { StartWorkersOptions, WorkerExit, WorkerProcess, Workers } from "./workers_options.ts";

/** The variable that tells a worker its index. */
export const WORKER_INDEX_ENV = "GOTALK_WORKER_INDEX";
/** The IPC message a worker sends once it serves. */
const READY = "gotalk-worker-ready";
/** How long `close()` waits after `SIGTERM` before `SIGKILL`. */
const KILL_AFTER_MS = 5000;

/** Checked and defaulted options; `module`, `args` and `runtimeArgs` as the runtime gave. */
export interface WorkersParams {
  count: number;
  module: string | undefined;
  args: string[] | undefined;
  runtimeArgs: string[] | undefined;
  env: Record<string, string>;
  readyTimeoutMs: number;
}

function strings(value: unknown, name: string): string[] | undefined {
  if (value === undefined) return undefined;
  if (!Array.isArray(value) || !value.every((v) => typeof v === "string")) {
    throw new TypeError(`${name} must be an array of strings`);
  }
  return value;
}

/** Validates and defaults the options of `startWorkers`. */
export function workersParams(options: StartWorkersOptions | undefined): WorkersParams {
  if (options !== undefined && (typeof options !== "object" || options === null)) {
    throw new TypeError("options must be an object");
  }
  const o = options ?? {};
  const cores = (globalThis as { navigator?: { hardwareConcurrency?: number } }).navigator
    ?.hardwareConcurrency;
  const count = o.count ?? (cores !== undefined && cores > 0 ? cores : 1);
  if (typeof count !== "number") throw new TypeError("count must be a number");
  if (!Number.isInteger(count) || count < 1) {
    throw new RangeError(`count must be a positive integer, got ${count}`);
  }
  const readyTimeoutMs = o.readyTimeoutMs ?? 30_000;
  if (typeof readyTimeoutMs !== "number" || !(readyTimeoutMs > 0)) {
    throw new RangeError(`readyTimeoutMs must be a positive number, got ${String(readyTimeoutMs)}`);
  }
  let module: string | undefined;
  if (o.module !== undefined) {
    const text = o.module instanceof URL ? o.module.href : o.module;
    if (typeof text !== "string" || text === "") {
      throw new TypeError("module must be a path or a URL");
    }
    module = text.startsWith("file:") ? fileURLToPath(text) : text;
  }
  const env = o.env ?? {};
  if (typeof env !== "object" || env === null) throw new TypeError("env must be an object");
  return {
    count,
    module,
    args: strings(o.args, "args"),
    runtimeArgs: strings(o.runtimeArgs, "runtimeArgs"),
    env: { ...env },
    readyTimeoutMs,
  };
}

/** A started worker process, as each runtime's spawner reports it. */
export interface WorkerChild {
  readonly pid: number;
  /** Resolves when the process has exited. */
  readonly exited: Promise<WorkerExit>;
  /** Calls `listener` with each IPC message from the worker. */
  onMessage(listener: (message: unknown) => void): void;
  /** Sends `signal`, unless the process has exited. */
  kill(signal: "SIGTERM" | "SIGKILL"): void;
}

function isReady(message: unknown): boolean {
  return typeof message === "object" && message !== null &&
    (message as { gotalk?: unknown }).gotalk === READY;
}

/**
 * Starts `count` workers with `spawn` and resolves once each has sent its ready message; if one
 * exits first, or `readyTimeoutMs` passes, stops them all and rejects.
 */
export async function startGroup(
  params: WorkersParams,
  spawn: (index: number) => WorkerChild,
): Promise<Workers> {
  const children: WorkerChild[] = [];
  let timer: ReturnType<typeof setTimeout> | undefined;
  const group = workers(children);
  try {
    const ready: Promise<void>[] = [];
    for (let index = 0; index < params.count; index++) {
      const child = spawn(index);
      children.push(child);
      ready.push(
        new Promise<void>((resolve, reject) => {
          child.onMessage((message) => {
            if (isReady(message)) resolve();
          });
          void child.exited.then((exit) =>
            reject(
              new Error(
                `Worker ${index} (pid ${child.pid}) exited before it was ready: ` +
                  (exit.signal === null ? `code ${exit.code}` : exit.signal),
              ),
            )
          );
        }),
      );
    }
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () =>
          reject(
            new Error(
              `Not every worker called workerReady() within ${params.readyTimeoutMs} ms`,
            ),
          ),
        params.readyTimeoutMs,
      );
    });
    await Promise.race([Promise.all(ready), timeout]);
    return group;
  } catch (error) {
    await group.close();
    throw error;
  } finally {
    clearTimeout(timer);
  }
}

function workers(children: WorkerChild[]): Workers {
  let closing: Promise<void> | undefined;
  let processes: WorkerProcess[] = [];
  return {
    get processes() {
      if (processes.length !== children.length) {
        processes = children.map((c, index) => ({ index, pid: c.pid, exited: c.exited }));
      }
      return processes;
    },
    get closed() {
      return Promise.all(children.map((c) => c.exited)).then(() => undefined);
    },
    close() {
      closing ??= Promise.all(children.map(async (child) => {
        child.kill("SIGTERM"); // a no-op for one that has exited
        const timer = setTimeout(() => child.kill("SIGKILL"), KILL_AFTER_MS);
        await child.exited;
        clearTimeout(timer);
      })).then(() => undefined);
      return closing;
    },
  };
}

/** The environment of worker `index`: the primary's, `extra`, and the worker's index. */
export function workerEnv(extra: Record<string, string>, index: number): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined) env[k] = v;
  return { ...env, ...extra, [WORKER_INDEX_ENV]: String(index) };
}

/**
 * This process's index among the workers of `startWorkers` (from 0), or `undefined` when it is
 * not one of them (the primary, or a process started otherwise).
 *
 * @returns The index, or `undefined`.
 *
 * @example
 * ```ts
 * import { workerIndex } from "@gotalk/gotalk/deno";
 * import assert from "node:assert/strict";
 *
 * assert.equal(workerIndex(), undefined); // this process is no worker
 * ```
 */
export function workerIndex(): number | undefined {
  const value = process.env[WORKER_INDEX_ENV];
  if (value === undefined || !/^\d+$/.test(value)) return undefined;
  return Number(value);
}

/**
 * Tells the primary that this worker serves (call it once its listener is bound):
 * `startWorkers` resolves once every worker has. Does nothing in a process that is not a worker.
 * From then on, the worker exits when its primary goes away (its IPC channel closes), so that
 * no worker outlives it holding the port; the channel itself does not keep the worker alive.
 *
 * @example
 * ```ts
 * import { workerIndex, workerReady } from "@gotalk/gotalk/deno";
 * import assert from "node:assert/strict";
 *
 * workerReady(); // not a worker: nothing happens
 * assert.equal(workerIndex(), undefined);
 * ```
 */
export function workerReady(): void {
  if (workerIndex() === undefined || process.send === undefined) return;
  process.send({ gotalk: READY, pid: process.pid });
  process.once("disconnect", () => process.exit(0));
  (process.channel as { unref?: () => void } | undefined)?.unref?.();
}
