// This module is browser compatible.

import type { Transport } from "../peer/transport.ts";

/**
 * Options for the runtime adapters' `spawn`.
 *
 * @example Usage
 * ```ts
 * import type { SpawnOptions } from "@gotalk/gotalk/deno";
 * import assert from "node:assert/strict";
 *
 * const options: SpawnOptions = { cwd: "/tmp", killAfterMs: 500 };
 * assert.equal(options.killAfterMs, 500);
 * ```
 */
export interface SpawnOptions {
  /**
   * The child's working directory.
   *
   * @default {undefined} (this process's working directory)
   */
  cwd?: string;
  /**
   * The child's environment variables, in place of this process's.
   *
   * @default {undefined} (this process's environment)
   */
  env?: Record<string, string>;
  /**
   * How long closing the transport waits, after closing the child's stdin, for the child to
   * exit before it sends `SIGTERM` (and, as long again later, `SIGKILL`).
   *
   * @default {2000}
   */
  killAfterMs?: number;
}

/**
 * How a child process ended: its exit code, or the signal that ended it.
 *
 * @example Usage
 * ```ts
 * import type { ChildExit } from "@gotalk/gotalk/deno";
 * import assert from "node:assert/strict";
 *
 * const exit: ChildExit = { code: 0, signal: null };
 * assert.equal(exit.code, 0);
 * ```
 */
export interface ChildExit {
  /** The exit code, or `null` when a signal ended it (Deno reports `128 + n` then). */
  readonly code: number | null;
  /** The signal that ended it (such as `"SIGTERM"`), or `null`. */
  readonly signal: string | null;
}

/**
 * A child process's stdin (its `writable`) and stdout (its `readable`) as a
 * {@linkcode Transport}, from the runtime adapters' `spawn`. Closing it ends the child: its
 * stdin is closed, and it is killed if it has not exited after `killAfterMs`. The child's exit
 * tears the transport down once its stdout has been read to the end.
 *
 * @example A child that exits once its stdin is closed
 * ```ts
 * import { spawn } from "@gotalk/gotalk/deno";
 * import assert from "node:assert/strict";
 *
 * const child = await spawn("cat", []);
 * assert.ok(child.pid > 0);
 * child.close();
 * assert.deepEqual(await child.exited, { code: 0, signal: null });
 * ```
 */
export interface ChildTransport extends Transport {
  /** The child's process id. */
  readonly pid: number;
  /** Settles once the child exited, with how it ended. Never rejects. */
  readonly exited: Promise<ChildExit>;
}
