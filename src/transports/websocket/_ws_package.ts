// This module is browser compatible.

/**
 * The `ws` package's side of the WebSocket transport (the Node and Deno servers, and Node's
 * client): sends corked per task, and short messages that arrive together joined into one chunk.
 * Internal: not part of the public API.
 *
 * @module
 */

import type { WebSocketDriver } from "./_connection.ts";

/** The `ws` package's WebSocket: the extras used beyond the standard API. */
export interface WsPackageSocket {
  readonly bufferedAmount: number;
  binaryType: string;
  send(data: Uint8Array): void;
  close(code?: number, reason?: string): void;
  pause(): void;
  resume(): void;
  /** Its own events: a message as a `Buffer`, without a `MessageEvent` per message. */
  on(event: "message", listener: (data: Uint8Array) => void): unknown;
  /** Its `node:net` socket, once open. */
  _socket?: unknown;
}

/** A `node:net` socket (under a `ws` package WebSocket), which can hold its writes back. */
interface NetSocket {
  cork(): void;
  uncork(): void;
  on(event: "drain", listener: () => void): unknown;
}

/** Whether `ws` is a `ws` package WebSocket (it can pause, and has `on`). */
export function isWsPackage(ws: unknown): ws is WsPackageSocket {
  const w = ws as Partial<WsPackageSocket>;
  return typeof w.pause === "function" && typeof w.resume === "function" &&
    typeof w.on === "function";
}

/** The socket under a `ws` package WebSocket, if it can be corked. */
function netSocket(ws: WsPackageSocket): NetSocket | undefined {
  const socket = ws._socket as Partial<NetSocket> | undefined;
  return typeof socket?.cork === "function" && typeof socket.uncork === "function" &&
      typeof socket.on === "function"
    ? socket as NetSocket
    : undefined;
}

/**
 * Runs `fn` once the current task and its microtasks are done: `process.nextTick` where there
 * is one (Node, Deno; it runs after the microtasks queued so far, and after those they queue),
 * else a microtask.
 */
const afterMicrotasks: (fn: () => void) => void = (() => {
  const process = (globalThis as { process?: { nextTick?: (fn: () => void) => void } }).process;
  const nextTick = process?.nextTick;
  return typeof nextTick === "function" ? (fn) => nextTick.call(process, fn) : queueMicrotask;
})();

/**
 * Messages shorter than this that arrive together (in one read of the socket) are joined into
 * one chunk for the `readable`: a reader then takes 64 small requests in one read instead of 128
 * (header and payload are two messages), each read costing a promise or more. Longer messages
 * are handed over as they are, without a copy.
 */
export const JOIN_BELOW = 4 * 1024;
/** The most bytes joined into one chunk. */
const JOIN_MAX = 64 * 1024;

/**
 * Joins the short messages that arrive in one task into one chunk (see {@linkcode JOIN_BELOW});
 * what it holds is delivered once the task's microtasks ran, or before anything that comes
 * after it (a long message, the close).
 */
export class MessageJoiner {
  #deliver: (bytes: Uint8Array) => void;
  #held: Uint8Array[] = [];
  #bytes = 0;
  #scheduled = false;

  /** @param deliver Receives each chunk, in order. */
  constructor(deliver: (bytes: Uint8Array) => void) {
    this.#deliver = deliver;
  }

  /** A message arrived; `bytes` (which may be a view of a read buffer) is not kept past it. */
  add(bytes: Uint8Array): void {
    const n = bytes.byteLength;
    if (n === 0) return;
    if (n >= JOIN_BELOW) {
      this.flush();
      this.#deliver(bytes);
      return;
    }
    this.#held.push(bytes);
    this.#bytes += n;
    if (this.#bytes >= JOIN_MAX) this.flush();
    else if (!this.#scheduled) {
      this.#scheduled = true;
      queueMicrotask(this.flush);
    }
  }

  /** Delivers what is held, as one chunk (a copy, unless it is one message). */
  readonly flush = (): void => {
    this.#scheduled = false;
    const held = this.#held;
    if (held.length === 0) return;
    this.#held = [];
    const n = this.#bytes;
    this.#bytes = 0;
    if (held.length === 1) {
      this.#deliver(held[0]);
      return;
    }
    const out = new Uint8Array(n);
    let at = 0;
    for (const piece of held) {
      out.set(piece, at);
      at += piece.byteLength;
    }
    this.#deliver(out);
  };
}

/**
 * The driver of a `ws` package WebSocket: sends hold the socket corked until the current task's
 * microtasks ran, so that everything sent in it (each frame's header and data are two writes
 * in `ws`, and each message of ours is one frame) leaves in one write, not one per message.
 */
export function wsPackageDriver(ws: WsPackageSocket, drained: () => void): WebSocketDriver {
  const socket = netSocket(ws);
  const driver: WebSocketDriver = {
    send: (data) => ws.send(data),
    bufferedAmount: () => ws.bufferedAmount,
    close: (code, reason) => ws.close(code, reason),
    pause: () => ws.pause(),
    resume: () => ws.resume(),
  };
  if (socket !== undefined) {
    let corked = false;
    const uncork = () => {
      corked = false;
      socket.uncork();
    };
    driver.send = (data) => {
      if (!corked) {
        corked = true;
        socket.cork();
        afterMicrotasks(uncork);
      }
      ws.send(data);
    };
    // A write waiting for the buffer wakes when the socket drained, instead of at its next poll.
    socket.on("drain", drained);
  }
  return driver;
}
