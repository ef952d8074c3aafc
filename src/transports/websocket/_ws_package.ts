// This module is browser compatible.

/**
 * The `ws` package's side of the WebSocket transport (the Node and Deno servers, and Node's
 * client): sends corked per task, and short messages that arrive together joined into one chunk.
 * Internal: not part of the public API.
 *
 * @module
 */

import type { WebSocketDriver } from "./_driver.ts";

/** `WebSocket.OPEN`. */
const OPEN = 1;

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
  /** `WebSocket.OPEN` (1) while messages may be sent. */
  readonly readyState: number;
  /** Its `node:net` socket, once open. */
  _socket?: unknown;
  /** Whether it is a server's socket (its frames are not masked). */
  _isServer?: boolean;
}

/** A `node:net` socket (under a `ws` package WebSocket), which can hold its writes back. */
export interface NetSocket {
  cork(): void;
  uncork(): void;
  write(data: Uint8Array): unknown;
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

/** The bytes of an unmasked binary frame's header for `n` bytes of data. */
export function frameHeaderLength(n: number): number {
  return n < 126 ? 2 : n < 65536 ? 4 : 10;
}

/** Writes the header of an unmasked, final binary frame of `n` bytes at `out[at]`; returns the end. */
export function writeFrameHeader(out: Uint8Array, at: number, n: number): number {
  out[at++] = 0x82;
  if (n < 126) {
    out[at++] = n;
  } else if (n < 65536) {
    out[at++] = 126;
    out[at++] = n >>> 8;
    out[at++] = n & 0xff;
  } else {
    out[at++] = 127;
    const high = Math.floor(n / 0x100000000);
    for (let shift = 24; shift >= 0; shift -= 8) out[at++] = (high >>> shift) & 0xff;
    for (let shift = 24; shift >= 0; shift -= 8) out[at++] = (n >>> shift) & 0xff;
  }
  return at;
}

/** Messages at least this long are written as they are, after their header; shorter ones are copied. */
const COPY_BELOW = 16 * 1024;
/** Messages held for a task's write flush at once past this many bytes. */
const FLUSH_AT = 256 * 1024;

/**
 * The messages a server sends in one task, framed here (unmasked binary frames, as a server
 * sends them) and written to the socket at once: the frames of short messages copied back to
 * back into one buffer, long ones written after their header as they are. `ws` frames each
 * message itself, with two socket writes and a few objects per message; for small messages
 * that costs more than the copy.
 */
export class FrameBatcher {
  #socket: NetSocket;
  #held: Uint8Array[] = [];
  /** Encoded bytes of #held, and the part of them copied (all but long messages' data). */
  #bytes = 0;
  #copyBytes = 0;
  #scheduled = false;
  #open: () => boolean;

  /**
   * @param socket Where the frames go.
   * @param open Whether frames may still be sent: once the closing handshake started (the
   * remote's close frame was answered, say) what is held is dropped, as `ws` drops messages
   * sent then.
   */
  constructor(socket: NetSocket, open: () => boolean) {
    this.#socket = socket;
    this.#open = open;
  }

  /** Bytes held, not yet handed to the socket. */
  get held(): number {
    return this.#bytes;
  }

  /** Sends `data` as one binary message, within the task; it must not be modified afterwards. */
  send(data: Uint8Array): void {
    const n = data.byteLength;
    const head = frameHeaderLength(n);
    this.#held.push(data);
    this.#bytes += head + n;
    this.#copyBytes += n < COPY_BELOW ? head + n : head;
    if (this.#bytes >= FLUSH_AT) this.flush();
    else if (!this.#scheduled) {
      this.#scheduled = true;
      afterMicrotasks(this.flush);
    }
  }

  /** Writes what is held: one buffer of every frame but long messages' data, which follow their header. */
  readonly flush = (): void => {
    this.#scheduled = false;
    const held = this.#held;
    if (held.length === 0) return;
    this.#held = [];
    const copyBytes = this.#copyBytes;
    this.#bytes = this.#copyBytes = 0;
    if (!this.#open()) return;
    const buf = new Uint8Array(copyBytes);
    const socket = this.#socket;
    socket.cork();
    try {
      let start = 0;
      let pos = 0;
      for (const data of held) {
        const n = data.byteLength;
        pos = writeFrameHeader(buf, pos, n);
        if (n < COPY_BELOW) {
          buf.set(data, pos);
          pos += n;
        } else {
          socket.write(buf.subarray(start, pos));
          socket.write(data);
          start = pos;
        }
      }
      if (pos > start) socket.write(buf.subarray(start, pos));
    } finally {
      socket.uncork();
    }
  };
}

/**
 * The driver of a `ws` package WebSocket. A server's messages are framed here, and those of one
 * task written at once ({@linkcode FrameBatcher}); a client's (masked by `ws`) are sent with the
 * socket corked until the task's microtasks ran, so that they too leave in one write, not one
 * per message (each frame's header and data are two writes in `ws`).
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
  if (socket === undefined) return driver;
  // A write waiting for the buffer wakes when the socket drained, instead of at its next poll.
  socket.on("drain", drained);
  if (ws._isServer === true) {
    const batcher = new FrameBatcher(socket, () => ws.readyState === OPEN);
    driver.send = (data) => {
      if (ws.readyState === OPEN) {
        batcher.send(data);
      } else {
        // Closing or closed: what `ws` does then (it refuses, or counts and drops it).
        batcher.flush();
        ws.send(data);
      }
    };
    driver.bufferedAmount = () => ws.bufferedAmount + batcher.held;
    // Our frames before `ws`'s close frame, whoever starts the close: us, or `ws` itself when
    // it answers the remote's close or refuses a frame (it calls the socket's own `close`).
    const close = ws.close;
    ws.close = function (this: WsPackageSocket, code?: number, reason?: string) {
      batcher.flush();
      close.call(this, code, reason);
    };
    return driver;
  }
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
  return driver;
}
