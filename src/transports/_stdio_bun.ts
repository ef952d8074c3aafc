/**
 * `stdio()` and `spawn()` on Bun: this process's stdin and stdout through Bun's `node:process`
 * streams (the Node push source), a child from `Bun.spawn` with its stdout as a push source over
 * its stream, both on the one socket state machine (`_duplex.ts`). Internal: the public entry
 * point is `@gotalk/gotalk/bun`.
 *
 * @module
 */

import { ConnectionClosedError } from "../peer/errors.ts";
import type { Transport } from "../peer/transport.ts";
import { type Pending, pending, SocketDuplex } from "./_duplex.ts";
import { childTransport, endChild, ReaderSource, spawnParams } from "./_stdio_util.ts";
import { stdio as nodeStdio } from "./_stdio_node.ts";
import type { ChildExit, ChildTransport, SpawnOptions } from "./stdio_options.ts";

export type { ChildExit, ChildTransport, SpawnOptions } from "./stdio_options.ts";

// The few Bun APIs used, declared here so that the file also compiles without Bun's types.
interface BunFileSink {
  write(chunk: Uint8Array): number;
  flush(): number | Promise<number>;
  end(): number | Promise<number>;
}
interface BunSubprocess {
  readonly pid: number;
  readonly stdin: BunFileSink;
  readonly stdout: ReadableStream<Uint8Array>;
  readonly exited: Promise<number>;
  readonly exitCode: number | null;
  readonly signalCode: string | null;
  kill(signal?: string): void;
}
interface BunLike {
  spawn(cmd: string[], options: {
    cwd?: string;
    env?: Record<string, string>;
    stdin: "pipe";
    stdout: "pipe";
    stderr: "inherit";
  }): BunSubprocess;
}

function bun(): BunLike {
  const value = (globalThis as unknown as { Bun?: BunLike }).Bun;
  if (value === undefined) throw new TypeError("This adapter needs the Bun runtime");
  return value;
}

/**
 * This process's stdin (the `readable`) and stdout (the `writable`) as a {@linkcode Transport},
 * for a program that a parent talks to over its stdio (see `spawn`). Nothing else may read
 * stdin or write to stdout meanwhile: log to stderr. Closing its `writable` ends stdout;
 * closing it stops reading stdin.
 *
 * @returns The transport.
 *
 * @example Serving one peer over stdin and stdout
 * ```ts ignore
 * import { Handlers, Peer } from "@gotalk/gotalk";
 * import { stdio } from "@gotalk/gotalk/bun";
 *
 * const peer = new Peer(stdio(), { handlers: new Handlers().handle("upper", (s: string) => s.toUpperCase()) });
 * await peer.closed;
 * ```
 */
export function stdio(): Transport {
  return nodeStdio();
}

/**
 * Starts `command` with `args` and resolves with its stdin (the `writable`) and stdout (the
 * `readable`) as a transport; its stderr goes to this process's stderr. Closing the transport
 * (as closing a {@linkcode Peer} over it does) closes the child's stdin and, if it has not
 * exited after `options.killAfterMs`, kills it; the child's exit tears the transport down
 * (requests still waiting fail with a `ConnectionClosedError`).
 *
 * @param command The program to run (looked up on `PATH`).
 * @param args Its arguments.
 * @param options Working directory, environment and the kill grace.
 * @returns The child's transport, with its `pid` and `exited`.
 * @throws {TypeError} If an argument has the wrong type.
 * @throws {RangeError} If `killAfterMs` is negative.
 *
 * The promise rejects with Bun's error (its `code` is `ENOENT`, …) when the command cannot be
 * started.
 *
 * @example A request to a child peer
 * ```ts ignore
 * import { Peer } from "@gotalk/gotalk";
 * import { spawn } from "@gotalk/gotalk/bun";
 * import assert from "node:assert/strict";
 *
 * const child = await spawn("bun", ["peer.ts", "serve", "--transport", "stdio"]);
 * const peer = new Peer(child);
 * assert.equal(await peer.request("upper", "hi"), "HI");
 * await peer.close();
 * assert.equal((await child.exited).code, 0);
 * ```
 */
// Async like node.ts (Node starts a child asynchronously).
// deno-lint-ignore require-await
export async function spawn(
  command: string,
  args: string[],
  options?: SpawnOptions,
): Promise<ChildTransport> {
  const params = spawnParams(command, args, options);
  const child = bun().spawn([params.command, ...params.args], {
    cwd: params.cwd,
    env: params.env,
    stdin: "pipe",
    stdout: "pipe",
    stderr: "inherit",
  });
  const exited: Promise<ChildExit> = child.exited.then(
    () => ({ code: child.signalCode === null ? child.exitCode : null, signal: child.signalCode }),
    () => ({ code: null, signal: null }),
  );
  const source = new ReaderSource(child.stdout);
  const sink = child.stdin;
  let stdinOpen = true;
  let writing: Pending | undefined;
  const closed = () => new ConnectionClosedError("The connection was closed");
  const duplex = new SocketDuplex({
    write(chunk) {
      if (!stdinOpen) throw closed();
      sink.write(chunk);
      // The sink buffers what the pipe does not take at once; flushing is the backpressure.
      const flushed = sink.flush();
      if (typeof flushed === "number") return;
      // A pending write of our own, so that the teardown can settle it.
      const waiter = writing = pending();
      flushed.then(() => {
        if (writing === waiter) writing = undefined;
        waiter.resolve();
      }, (error) => waiter.reject(error));
      return waiter.promise;
    },
    async end() {
      stdinOpen = false;
      await sink.end();
    },
    destroy() {
      const waiter = writing;
      writing = undefined;
      waiter?.reject(duplex.error ?? closed());
      // What the child still writes is read and dropped, so that it is never blocked.
      source.onEnd = undefined;
      source.target = { push() {}, pushEnd() {}, finish() {} };
      source.resume();
      endChild(
        () => {
          if (!stdinOpen) return;
          stdinOpen = false;
          void Promise.resolve(sink.end()).catch(() => {});
        },
        (signal) => child.kill(signal),
        exited,
        params.killAfterMs,
      );
    },
    pause: () => source.pause(),
    resume: () => source.resume(),
  }, { remoteAddr: params.command });
  return childTransport(duplex, source, child.pid, exited);
}
