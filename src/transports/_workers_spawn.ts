/**
 * A worker process with an IPC channel, through `node:child_process` (which Deno and Bun both
 * have, IPC included): the spawner behind Deno's and Bun's `startWorkers`. Internal.
 *
 * @module
 */

import { spawn } from "node:child_process";
import type { WorkerExit } from "./workers_options.ts";
import type { WorkerChild } from "./_workers_util.ts";

/** Starts `command` with `args` and `env`, stdio inherited, plus an IPC channel. */
export function spawnWorker(
  command: string,
  args: string[],
  env: Record<string, string>,
): WorkerChild {
  const child = spawn(command, args, { env, stdio: ["inherit", "inherit", "inherit", "ipc"] });
  const exited = new Promise<WorkerExit>((resolve) => {
    child.once("exit", (code, signal) => resolve({ code, signal }));
    // A command that cannot start at all reports only 'error'.
    child.once("error", () => {
      if (child.pid === undefined) resolve({ code: null, signal: null });
    });
  });
  return {
    pid: child.pid ?? 0,
    exited,
    onMessage: (listener) => void child.on("message", listener),
    kill(signal) {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    },
  };
}
