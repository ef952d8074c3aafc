/**
 * `stdio()` and `spawn()` on Node (and, for `stdio()`, Bun): a process's stdin and stdout, or a
 * child's, as a push source of the one socket state machine (`_duplex.ts`). Internal: the public
 * entry point is `@gotalk/gotalk/node`.
 *
 * @module
 */

import { spawn as spawnChild } from "node:child_process";
import process from "node:process";
import type { Readable, Writable } from "node:stream";
import { ConnectionClosedError } from "../peer/errors.ts";
import type { Transport } from "../peer/transport.ts";
import { type Pending, pending, SocketDuplex } from "./_duplex.ts";
import { endChild, spawnParams } from "./_stdio_util.ts";
import type { ChildExit, ChildTransport, SpawnOptions } from "./stdio_options.ts";

export type { ChildExit, ChildTransport, SpawnOptions } from "./stdio_options.ts";

/**
 * A readable and a writable Node stream as a push source: `'data'` chunks go to the readable
 * (the input is paused while 64 KiB wait unread), a write that fills the output's buffer waits
 * for `'drain'`, `end` for `'finish'`. The teardown stops delivering and calls `release`.
 */
export function streamsDuplex(
  input: Readable,
  output: Writable,
  release: () => void,
  remoteAddr: string,
): SocketDuplex {
  let drained: Pending | undefined;
  let finished: Pending | undefined;
  const settle = (error: Error) => {
    drained?.reject(error);
    finished?.reject(error);
    drained = finished = undefined;
  };
  const onData = (chunk: Uint8Array) => {
    // Each 'data' Buffer is a fresh allocation; hand it on as a plain Uint8Array view.
    duplex.push(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength));
  };
  const onEnd = () => duplex.pushEnd();
  const onDrain = () => {
    const waiter = drained;
    drained = undefined;
    waiter?.resolve();
  };
  // A failed write (EPIPE once the other end is gone) fails the writable; the end of the input
  // (or the child's exit) says when the whole transport is done.
  const onOutputError = (error: Error) => settle(error);
  const onInputError = (error: Error) => duplex.finish(error);
  const duplex: SocketDuplex = new SocketDuplex({
    write(chunk) {
      if (output.write(chunk)) return;
      drained = pending();
      return drained.promise;
    },
    end() {
      finished = pending();
      output.end(() => {
        const waiter = finished;
        finished = undefined;
        waiter?.resolve();
      });
      return finished.promise;
    },
    destroy() {
      settle(duplex.error ?? new ConnectionClosedError("The connection was closed"));
      input.off("data", onData);
      input.off("end", onEnd);
      output.off("drain", onDrain);
      release();
    },
    pause: () => input.pause(),
    resume: () => input.resume(),
  }, { remoteAddr });
  input.on("data", onData);
  input.on("end", onEnd);
  input.on("error", onInputError);
  output.on("drain", onDrain);
  output.on("error", onOutputError);
  return duplex;
}

/**
 * This process's stdin (the `readable`) and stdout (the `writable`) as a {@linkcode Transport},
 * for a program that a parent talks to over its stdio (see `spawn`). Nothing else may read
 * stdin or write to stdout meanwhile: log to stderr. Closing its `writable` ends stdout (Node
 * keeps the descriptor itself open until this process exits); closing it stops reading stdin.
 *
 * @returns The transport.
 *
 * @example Serving one peer over stdin and stdout
 * ```ts ignore
 * import { Handlers, Peer } from "@gotalk/gotalk";
 * import { stdio } from "@gotalk/gotalk/node";
 *
 * const peer = new Peer(stdio(), { handlers: new Handlers().handle("upper", (s: string) => s.toUpperCase()) });
 * await peer.closed;
 * ```
 */
export function stdio(): Transport {
  return streamsDuplex(process.stdin, process.stdout, () => {
    process.stdin.pause();
    process.stdin.destroy();
  }, "stdio");
}

/**
 * Starts `command` with `args` and resolves, once it runs, with its stdin (the `writable`) and
 * stdout (the `readable`) as a transport; its stderr goes to this process's stderr. Closing the
 * transport (as closing a {@linkcode Peer} over it does) closes the child's stdin and, if it has
 * not exited after `options.killAfterMs`, kills it; the child's exit tears the transport down
 * (requests still waiting fail with a `ConnectionClosedError`).
 *
 * @param command The program to run (looked up on `PATH`).
 * @param args Its arguments.
 * @param options Working directory, environment and the kill grace.
 * @returns The child's transport, with its `pid` and `exited`.
 * @throws {TypeError} If an argument has the wrong type.
 * @throws {RangeError} If `killAfterMs` is negative.
 *
 * The promise rejects with Node's error (its `code` is `ENOENT`, `EACCES`, …) when the command
 * cannot be started.
 *
 * @example A request to a child peer
 * ```ts ignore
 * import { Peer } from "@gotalk/gotalk";
 * import { spawn } from "@gotalk/gotalk/node";
 * import assert from "node:assert/strict";
 *
 * const child = await spawn("node", ["peer.js", "serve", "--transport", "stdio"]);
 * const peer = new Peer(child);
 * assert.equal(await peer.request("upper", "hi"), "HI");
 * await peer.close();
 * assert.equal((await child.exited).code, 0);
 * ```
 */
export function spawn(
  command: string,
  args: string[],
  options?: SpawnOptions,
): Promise<ChildTransport> {
  const params = spawnParams(command, args, options);
  return new Promise<ChildTransport>((resolve, reject) => {
    const child = spawnChild(params.command, params.args, {
      cwd: params.cwd,
      env: params.env,
      stdio: ["pipe", "pipe", "inherit"],
    });
    let resolveExit!: (exit: ChildExit) => void;
    const exited = new Promise<ChildExit>((r) => resolveExit = r);
    child.once("exit", (code, signal) => resolveExit({ code, signal }));
    child.once("error", (error) => {
      // Before 'spawn': it could not be started. Later: a kill failed, nothing to report.
      if (child.pid === undefined) reject(error);
    });
    child.once("spawn", () => {
      const stdout = child.stdout!;
      const stdin = child.stdin!;
      const duplex = streamsDuplex(stdout, stdin, () => {
        // What the child still writes is read and dropped, so that it is never blocked.
        stdout.resume();
        endChild(() => stdin.end(), (signal) => child.kill(signal), exited, params.killAfterMs);
      }, params.command);
      // 'close': the child exited and its stdout was read to the end.
      child.once("close", () => duplex.finish());
      resolve(Object.assign(duplex, { pid: child.pid!, exited }));
    });
  });
}
