/**
 * `stdio()` and `spawn()` on Deno: this process's stdin and stdout as a pull source
 * (`Deno.stdin.read`), a child's stdout as a push source over its stream, both on the one socket
 * state machine (`_duplex.ts`). Internal: the public entry point is `@gotalk/gotalk/deno`.
 *
 * @module
 */

import { ConnectionClosedError } from "../peer/errors.ts";
import type { Transport } from "../peer/transport.ts";
import { type Pending, pending, SocketDuplex } from "./_duplex.ts";
import { closeQuietly } from "./_socket_util.ts";
import { childTransport, endChild, ReaderSource, spawnParams } from "./_stdio_util.ts";
import type { ChildExit, ChildTransport, SpawnOptions } from "./stdio_options.ts";

export type { ChildExit, ChildTransport, SpawnOptions } from "./stdio_options.ts";

// The few Deno APIs used, declared here so that the file also compiles without Deno's types.
interface DenoStdin {
  read(p: Uint8Array): Promise<number | null>;
  close(): void;
}
interface DenoStdout {
  write(p: Uint8Array): Promise<number>;
  close(): void;
}
interface DenoChild {
  readonly pid: number;
  readonly stdin: WritableStream<Uint8Array>;
  readonly stdout: ReadableStream<Uint8Array>;
  readonly status: Promise<{ code: number; signal: string | null }>;
  kill(signal?: string): void;
}
interface DenoLike {
  readonly stdin: DenoStdin;
  readonly stdout: DenoStdout;
  Command: new (command: string, options: {
    args: string[];
    cwd?: string;
    env?: Record<string, string>;
    clearEnv?: boolean;
    stdin: "piped";
    stdout: "piped";
    stderr: "inherit";
  }) => { spawn(): DenoChild };
}

function deno(): DenoLike {
  const value = (globalThis as unknown as { Deno?: DenoLike }).Deno;
  if (value === undefined) throw new TypeError("This adapter needs the Deno runtime");
  return value;
}

/**
 * This process's stdin (the `readable`) and stdout (the `writable`) as a {@linkcode Transport},
 * for a program that a parent talks to over its stdio (see `spawn`). Nothing else may read
 * stdin or write to stdout meanwhile: log to stderr. Closing its `writable` closes stdout;
 * closing it closes stdin and stdout.
 *
 * @returns The transport.
 *
 * @example Serving one peer over stdin and stdout
 * ```ts ignore
 * import { Handlers, Peer } from "@gotalk/gotalk";
 * import { stdio } from "@gotalk/gotalk/deno";
 *
 * const peer = new Peer(stdio(), { handlers: new Handlers().handle("upper", (s: string) => s.toUpperCase()) });
 * await peer.closed;
 * ```
 */
export function stdio(): Transport {
  const { stdin, stdout } = deno();
  let destroyed = false;
  return new SocketDuplex({
    read: (into) => stdin.read(into),
    async write(chunk) {
      try {
        for (let offset = 0; offset < chunk.byteLength;) {
          offset += await stdout.write(chunk.subarray(offset));
        }
      } catch (error) {
        throw destroyed ? new ConnectionClosedError("The connection was closed") : error;
      }
    },
    end: () => closeQuietly(stdout),
    destroy() {
      destroyed = true;
      closeQuietly(stdin);
      closeQuietly(stdout);
    },
  }, { remoteAddr: "stdio" });
}

/**
 * Starts `command` with `args` and resolves with its stdin (the `writable`) and stdout (the
 * `readable`) as a transport; its stderr goes to this process's stderr. Closing the transport
 * (as closing a {@linkcode Peer} over it does) closes the child's stdin and, if it has not
 * exited after `options.killAfterMs`, kills it; the child's exit tears the transport down
 * (requests still waiting fail with a `ConnectionClosedError`). Needs `--allow-run`.
 *
 * @param command The program to run (looked up on `PATH`).
 * @param args Its arguments.
 * @param options Working directory, environment and the kill grace.
 * @returns The child's transport, with its `pid` and `exited`.
 * @throws {TypeError} If an argument has the wrong type.
 * @throws {RangeError} If `killAfterMs` is negative.
 *
 * The promise rejects with Deno's error (such as `Deno.errors.NotFound`) when the command cannot
 * be started.
 *
 * @example A request to a child peer
 * ```ts
 * import { Peer } from "@gotalk/gotalk";
 * import { spawn } from "@gotalk/gotalk/deno";
 * import assert from "node:assert/strict";
 *
 * // This repository's conformance peer, serving one peer over its stdin and stdout.
 * const child = await spawn(Deno.execPath(), [
 *   "run",
 *   "-A",
 *   "conformance/peer.ts",
 *   "serve",
 *   "--transport",
 *   "stdio",
 * ]);
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
  const child = new (deno().Command)(params.command, {
    args: params.args,
    cwd: params.cwd,
    env: params.env,
    clearEnv: params.env !== undefined,
    stdin: "piped",
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const exited: Promise<ChildExit> = child.status.then(
    ({ code, signal }) => ({ code: signal === null ? code : null, signal }),
    () => ({ code: null, signal: null }),
  );
  const source = new ReaderSource(child.stdout);
  const writer = child.stdin.getWriter();
  let writing: Pending | undefined;
  const duplex = new SocketDuplex({
    write(chunk) {
      // A pending write of our own, so that the teardown can settle it.
      const waiter = writing = pending();
      writer.write(chunk).then(() => {
        if (writing === waiter) writing = undefined;
        waiter.resolve();
      }, (error) => waiter.reject(error));
      return waiter.promise;
    },
    end: () => writer.close(),
    destroy() {
      const waiter = writing;
      writing = undefined;
      waiter?.reject(duplex.error ?? new ConnectionClosedError("The connection was closed"));
      // What the child still writes is read and dropped, so that it is never blocked.
      source.onEnd = undefined;
      source.target = { push() {}, pushEnd() {}, finish() {} };
      source.resume();
      endChild(
        // A write the child does not take would hold up a close: abort then.
        () => (waiter ? writer.abort() : writer.close()).catch(() => {}),
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
