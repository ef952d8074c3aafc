// This module is browser compatible.

/**
 * What the stdio adapters (`_stdio_deno.ts`, `_stdio_bun.ts`, `_stdio_node.ts`) share: argument
 * checks, a push source over a Web stream reader (a child's stdout on Deno and Bun), and ending
 * a child (close its stdin, kill it after a grace). Internal: not part of the public API.
 *
 * @module
 */

import type { SocketDuplex } from "./_duplex.ts";
import type { ChildExit, ChildTransport, SpawnOptions } from "./stdio_options.ts";

/** How long closing waits for the child to exit before killing it. */
export const DEFAULT_KILL_AFTER_MS = 2000;

/** Checked and defaulted spawn arguments. */
export interface SpawnParams {
  command: string;
  args: string[];
  cwd: string | undefined;
  env: Record<string, string> | undefined;
  killAfterMs: number;
}

/** Checks `spawn`'s arguments. */
export function spawnParams(
  command: unknown,
  args: unknown,
  options: SpawnOptions | undefined,
): SpawnParams {
  if (typeof command !== "string" || command === "") {
    throw new TypeError(`command must be a non-empty string, got ${String(command)}`);
  }
  if (!Array.isArray(args) || !args.every((a) => typeof a === "string")) {
    throw new TypeError("args must be an array of strings");
  }
  const { cwd, env, killAfterMs = DEFAULT_KILL_AFTER_MS } = options ?? {};
  if (cwd !== undefined && typeof cwd !== "string") {
    throw new TypeError(`cwd must be a string, got ${String(cwd)}`);
  }
  if (env !== undefined && (typeof env !== "object" || env === null)) {
    throw new TypeError("env must be an object of strings");
  }
  if (typeof killAfterMs !== "number" || !(killAfterMs >= 0) || !Number.isFinite(killAfterMs)) {
    throw new RangeError(`killAfterMs must be a non-negative number, got ${String(killAfterMs)}`);
  }
  return { command, args: [...args], cwd, env, killAfterMs };
}

/** Where a {@linkcode ReaderSource} delivers (a `SocketDuplex`'s push side). */
export interface PushTarget {
  push(chunk: Uint8Array): void;
  pushEnd(): void;
  finish(error?: Error): void;
}

/**
 * A Web stream reader as a push source with pause and resume: reads while resumed and hands
 * each chunk on (at most the one read in flight arrives after a pause). The chunks must be
 * fresh buffers, as a child's stdout yields them.
 */
export class ReaderSource {
  #reader: ReadableStreamDefaultReader<Uint8Array>;
  #target: PushTarget | undefined;
  #paused = true;
  #running = false;
  #done = false;
  /** Called once the stream reached its end. */
  onEnd: (() => void) | undefined;

  constructor(stream: ReadableStream<Uint8Array>) {
    this.#reader = stream.getReader();
  }

  /** Where chunks go; set before the first `resume`. */
  set target(target: PushTarget) {
    this.#target = target;
  }

  /** Whether the stream reached its end. */
  get ended(): boolean {
    return this.#done;
  }

  pause(): void {
    this.#paused = true;
  }

  resume(): void {
    this.#paused = false;
    if (!this.#running && !this.#done) void this.#run();
  }

  /** Stops reading and releases the stream. */
  cancel(): void {
    this.#paused = true;
    this.#reader.cancel().catch(() => {});
  }

  async #run(): Promise<void> {
    this.#running = true;
    try {
      while (!this.#paused) {
        const { done, value } = await this.#reader.read();
        if (done) {
          this.#done = true;
          this.#target!.pushEnd();
          this.onEnd?.();
          return;
        }
        this.#target!.push(value);
      }
    } catch (error) {
      this.#done = true;
      this.#target!.finish(error instanceof Error ? error : new Error(String(error)));
      this.onEnd?.();
    } finally {
      this.#running = false;
    }
  }
}

/**
 * Ends a child once: closes its stdin, then after `killAfterMs` sends SIGTERM if it has not
 * exited, and after as long again SIGKILL. The timers stop when `exited` settles.
 */
export function endChild(
  closeStdin: () => void,
  kill: (signal: "SIGTERM" | "SIGKILL") => void,
  exited: Promise<unknown>,
  killAfterMs: number,
): void {
  try {
    closeStdin();
  } catch {
    // Already closed.
  }
  let timer: ReturnType<typeof setTimeout> | undefined = setTimeout(() => {
    quietly(() => kill("SIGTERM"));
    timer = setTimeout(() => quietly(() => kill("SIGKILL")), killAfterMs);
  }, killAfterMs);
  void exited.finally(() => clearTimeout(timer));
}

function quietly(fn: () => void): void {
  try {
    fn();
  } catch {
    // The child exited in the meantime.
  }
}

/**
 * A child's transport: `duplex` fed by `source` (its stdout), torn down once the child exited
 * and its stdout was read to the end, whichever comes last.
 */
export function childTransport(
  duplex: SocketDuplex,
  source: ReaderSource,
  pid: number,
  exited: Promise<ChildExit>,
): ChildTransport {
  source.target = duplex;
  let hasExited = false;
  source.onEnd = () => {
    if (hasExited) duplex.finish();
  };
  void exited.then(() => {
    hasExited = true;
    if (source.ended) duplex.finish();
  });
  return Object.assign(duplex, { pid, exited });
}
