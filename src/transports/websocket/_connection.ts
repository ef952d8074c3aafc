// This module is browser compatible.

/**
 * The WebSocket transport shared by the browser client and the runtime servers: a
 * {@linkcode Transport} over anything that sends and receives binary WebSocket messages, reached
 * through a small driver. Internal: not part of the public API.
 *
 * @module
 */

import type { WebSocketDriver } from "./_driver.ts";
export type { WebSocketDriver } from "./_driver.ts";
import { ConnectionClosedError } from "../../peer/errors.ts";
import type { Transport } from "../../peer/transport.ts";
import { type SocketDriver, SocketDuplex } from "../_duplex.ts";
import { closeQuietly } from "../_socket_util.ts";
import { FrameSplitter } from "./_frame_splitter.ts";
import {
  isWsPackage,
  MessageJoiner,
  wsPackageDriver,
  type WsPackageSocket,
} from "./_ws_package.ts";

/** Default of {@linkcode WebSocketTransportOptions.writeHighWaterMark}: 1 MiB. */
export const DEFAULT_WRITE_HIGH_WATER_MARK = 1024 * 1024;
/** Default of {@linkcode WebSocketTransportOptions.maxReadBufferBytes}: 32 MiB. */
export const DEFAULT_MAX_READ_BUFFER_BYTES = 32 * 1024 * 1024;
/** How often a write waiting for the WebSocket's buffer to drain looks again, in ms. */
const DRAIN_POLL_MS = 4;

/** The close code gotalk.js uses for ProtocolError 0 ("abnormal"): 4000 + code. */
export const CLOSE_ABNORMAL = 4000;

/**
 * Options for a WebSocket {@linkcode Transport}: flow control in both directions.
 *
 * @example A small send buffer: writes wait for the socket, and large payloads still get through
 * ```ts
 * import { Handlers, Peer, Server } from "@gotalk/gotalk";
 * import type { WebSocketTransportOptions } from "@gotalk/gotalk/websocket";
 * import { connectWebSocket, serveWebSocket } from "@gotalk/gotalk/websocket-deno";
 * import assert from "node:assert/strict";
 *
 * const listener = await serveWebSocket({ hostname: "127.0.0.1", port: 0 });
 * const server = new Server(listener, { handlers: new Handlers().handleBuffer("echo", (b) => b) });
 * const options: WebSocketTransportOptions = { writeHighWaterMark: 1024 };
 * const client = new Peer(await connectWebSocket(listener.url, options));
 * const big = new Uint8Array(100_000).fill(7);
 * assert.deepEqual(await client.bufferRequest("echo", big), big);
 * await client.close();
 * await server.close();
 * ```
 */
export interface WebSocketTransportOptions {
  /**
   * How many bytes the WebSocket may hold unsent (its `bufferedAmount`) before a write waits
   * for it to drain.
   *
   * @default {1048576}
   */
  writeHighWaterMark?: number;
  /**
   * How many received bytes may wait unread in the `readable`. A WebSocket in a browser or Deno
   * cannot be paused, so a reader that falls further behind fails the connection instead of
   * letting memory grow: the `readable` errors with a {@linkcode ConnectionClosedError} and the
   * WebSocket is closed with code 4000. (Where the socket can be paused, Bun's sockets and the
   * `ws` package's, reading pauses at 64 KiB and this bound is not reached in practice.)
   *
   * @default {33554432}
   */
  maxReadBufferBytes?: number;
}

/**
 * Chunks at least this long (several frames, or one large one) are sent in a batch; a chunk of
 * one small frame goes at once (holding its two messages back costs latency and saves nothing).
 */
const BATCH_BYTES = 256;

/**
 * Payloads of this size or more reach the transport as chunks of their own, without the peer
 * copying them into its batch: the chunk is split into header and payload messages again anyway,
 * and the socket copies (Bun) or writes (the `ws` package, a browser's WebSocket) each message
 * itself, so a copy into the batch first would be one for nothing. On Bun that copy was a third
 * of the time of a 64 KiB echo.
 */
const ZERO_COPY_BYTES = 16 * 1024;

/** Checked transport options. */
export interface WebSocketTransportParams {
  writeHighWaterMark: number;
  maxReadBufferBytes: number;
  /** Send each written chunk as one message instead of re-splitting it (clients only). */
  coalesceWrites?: boolean;
}

function positive(value: unknown, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== "number") throw new TypeError(`${name} must be a number`);
  if (!(value > 0) || !Number.isFinite(value)) {
    throw new RangeError(`${name} must be a positive finite number, got ${value}`);
  }
  return value;
}

/** Validates and defaults {@linkcode WebSocketTransportOptions}. */
export function transportParams(
  options: WebSocketTransportOptions | undefined,
): WebSocketTransportParams {
  if (options !== undefined && (typeof options !== "object" || options === null)) {
    throw new TypeError("options must be an object");
  }
  return {
    writeHighWaterMark: positive(
      options?.writeHighWaterMark,
      "writeHighWaterMark",
      DEFAULT_WRITE_HIGH_WATER_MARK,
    ),
    maxReadBufferBytes: positive(
      options?.maxReadBufferBytes,
      "maxReadBufferBytes",
      DEFAULT_MAX_READ_BUFFER_BYTES,
    ),
  };
}

/**
 * Whether a close code means a clean end of stream: a normal closure (1000), going away (1001),
 * no status (1005), or gotalk.js's 4000–4003 (4000 + the ProtocolError code it also sent as an
 * `f` message, which the peer sees anyway).
 */
export function isCleanClose(code: number): boolean {
  return code === 1000 || code === 1001 || code === 1005 || (code >= 4000 && code <= 4003);
}

const textEncoder = new TextEncoder();

/**
 * The bytes of a received message as a plain `Uint8Array` of its own: an `ArrayBuffer` or a view
 * (such as a Node `Buffer`) is wrapped without copying, text is encoded as UTF-8. `null` for
 * anything else (a `Blob`).
 */
export function messageBytes(data: unknown): Uint8Array | null {
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  if (ArrayBuffer.isView(data)) {
    return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  }
  if (typeof data === "string") return textEncoder.encode(data);
  return null;
}

/**
 * One WebSocket as a {@linkcode SocketDriver}: its {@linkcode WebSocketConnection.transport} is
 * the {@linkcode Transport}. The owner feeds it the socket's events through
 * {@linkcode WebSocketConnection.received}, {@linkcode WebSocketConnection.closed} and
 * {@linkcode WebSocketConnection.drained}.
 *
 * Outgoing bytes are re-split at frame boundaries so that the handshake, each header and each
 * non-empty payload is one binary message. Incoming messages are one byte stream: their
 * boundaries mean nothing. A WebSocket has no half-close, so closing `writable` closes the
 * WebSocket (code 1000) once what was sent has left; the `readable` then ends when the remote
 * completes the close.
 */
export class WebSocketConnection implements SocketDriver {
  readonly transport: SocketDuplex;
  readonly pause?: () => void;
  readonly resume?: () => void;
  #ws: WebSocketDriver;
  #params: WebSocketTransportParams;
  #splitter = new FrameSplitter();
  #drainWaiters: (() => void)[] = [];
  /** The socket closed, or its close was started: `destroy` has nothing more to do. */
  #wsClosed = false;

  constructor(
    ws: WebSocketDriver,
    params: WebSocketTransportParams,
    remoteAddr?: string,
    request?: Request | (() => Request),
  ) {
    this.#ws = ws;
    this.#params = params;
    if (ws.pause && ws.resume) {
      this.pause = () => ws.pause!();
      this.resume = () => ws.resume!();
    }
    this.transport = new SocketDuplex(this, {
      remoteAddr,
      request,
      maxQueuedBytes: params.maxReadBufferBytes,
      onOverflow: () => this.#overflow(),
      readAfterCancel: true,
      // Control frames (a close, a ping) are only seen while the socket is read.
      readEarly: true,
    });
  }

  /**
   * (The duplex.) Payloads written without copying them into a batch: see above; not with
   * `coalesceWrites`, which sends each written chunk as one message (a payload must then be in
   * the same chunk as its header).
   */
  get zeroCopyBytes(): number | undefined {
    return !this.#params.coalesceWrites ? ZERO_COPY_BYTES : undefined;
  }

  /** A message arrived. */
  received(data: Uint8Array): void {
    if (data.byteLength > 0) this.transport.push(data);
  }

  /** The socket closed (the remote closed it, it failed, or our own close completed). */
  closed(code: number, reason: string, cause?: unknown): void {
    if (this.transport.closed) return;
    this.#wsClosed = true;
    if (isCleanClose(code)) {
      this.transport.finish(undefined, new ConnectionClosedError("The WebSocket was closed"));
    } else {
      const detail = reason ? `: ${reason}` : "";
      this.transport.finish(
        new ConnectionClosedError(
          `The WebSocket closed with code ${code}${detail}`,
          cause === undefined ? undefined : { cause },
        ),
      );
    }
  }

  /** The socket's send buffer drained (for drivers that say so; others are polled). */
  drained(): void {
    this.#wakeWriters();
  }

  write(chunk: Uint8Array): void | Promise<void> {
    try {
      if (this.#params.coalesceWrites) this.#ws.send(chunk);
      else if (this.#ws.batch === undefined || chunk.length < BATCH_BYTES) this.#split(chunk);
      else this.#ws.batch(() => this.#split(chunk));
    } catch (error) {
      this.transport.finish(error instanceof Error ? error : new Error(String(error)));
      throw error;
    }
    if (this.#ws.bufferedAmount() > this.#params.writeHighWaterMark) return this.#drainWrite();
  }

  /** Sends `chunk` as its frames' messages: the handshake, each header and each payload. */
  #split(chunk: Uint8Array): void {
    this.#splitter.push(chunk, this.#sendSegment);
  }

  readonly #sendSegment = (segment: Uint8Array): void => this.#ws.send(segment);

  async #drainWrite(): Promise<void> {
    await this.#drain(this.#params.writeHighWaterMark);
    const error = this.transport.error;
    if (error) throw error;
  }

  async end(): Promise<void> {
    // No half-close: let what was sent leave, then close the whole WebSocket. The readable ends
    // when the remote completes the closing handshake.
    await this.#drain(0);
    if (this.transport.closed || this.#wsClosed) return;
    this.#wsClosed = true;
    closeQuietly(this.#ws, 1000, "");
  }

  destroy(): void {
    this.#wakeWriters();
    if (this.#wsClosed) return;
    this.#wsClosed = true;
    closeQuietly(this.#ws, 1000, "");
  }

  /** The reader fell too far behind a socket that cannot pause: fail, and say why (4000). */
  #overflow(): void {
    if (this.transport.closed) return;
    this.#wsClosed = true;
    this.transport.finish(
      new ConnectionClosedError(
        `The reader fell more than ${this.#params.maxReadBufferBytes} bytes behind the WebSocket`,
      ),
    );
    closeQuietly(this.#ws, CLOSE_ABNORMAL, "read buffer overflow");
  }

  /** Waits until the socket buffers at most `limit` bytes, or the transport closes. */
  async #drain(limit: number): Promise<void> {
    while (!this.transport.closed && this.#ws.bufferedAmount() > limit) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(wake, DRAIN_POLL_MS);
        function wake() {
          clearTimeout(timer);
          resolve();
        }
        this.#drainWaiters.push(wake);
      });
    }
  }

  #wakeWriters(): void {
    const waiters = this.#drainWaiters;
    this.#drainWaiters = [];
    for (const wake of waiters) wake();
  }
}

/**
 * The {@linkcode Transport} of a {@linkcode WebSocketConnection} over an open standard WebSocket
 * (or one from the `ws` package), replaying `early`: messages that arrived before this was called.
 */
export function attachWebSocket(
  ws: WebSocket,
  params: WebSocketTransportParams,
  remoteAddr: string | undefined,
  early: MessageEvent[] = [],
  request?: Request | (() => Request),
): Transport {
  if (isWsPackage(ws)) return attachWsPackage(ws, params, remoteAddr, early, request);
  // Standard sockets give a fresh ArrayBuffer per message.
  ws.binaryType = "arraybuffer";
  const driver: WebSocketDriver = {
    send: (data) => ws.send(data),
    bufferedAmount: () => ws.bufferedAmount,
    close: (code, reason) => ws.close(code, reason),
  };
  const connection = new WebSocketConnection(driver, params, remoteAddr, request);
  const onMessage = (event: MessageEvent) => {
    const bytes = messageBytes(event.data);
    if (bytes === null) {
      connection.closed(1003, "Unsupported message data");
      closeQuietly(ws, 1000);
    } else {
      connection.received(bytes);
    }
  };
  ws.addEventListener("message", onMessage);
  onEnd(ws, connection);
  for (const event of early) onMessage(event);
  return connection.transport;
}

/** The `ws` package's WebSocket: its own message events, joined messages, corked sends. */
function attachWsPackage(
  ws: WsPackageSocket,
  params: WebSocketTransportParams,
  remoteAddr: string | undefined,
  early: MessageEvent[],
  request: Request | (() => Request) | undefined,
): Transport {
  // Messages as Buffers, views into its reads ("arraybuffer" would copy each).
  ws.binaryType = "nodebuffer";
  const driver = wsPackageDriver(ws, () => connection.drained());
  const connection = new WebSocketConnection(driver, params, remoteAddr, request);
  // A Buffer is handed over as a plain view of its bytes (`Buffer.slice` does not copy).
  const joiner = new MessageJoiner((bytes) =>
    connection.received(bytes.constructor === Uint8Array ? bytes : messageBytes(bytes)!)
  );
  // Text messages are Buffers too: their bytes are the stream's, like binary ones.
  ws.on("message", (data) => joiner.add(data));
  onEnd(ws as unknown as WebSocket, connection, joiner.flush);
  for (const event of early) {
    const bytes = messageBytes(event.data);
    if (bytes !== null) joiner.add(bytes);
  }
  return connection.transport;
}

/** Passes the socket's failure and close on to `connection` (after `flush`, if given). */
function onEnd(ws: WebSocket, connection: WebSocketConnection, flush?: () => void): void {
  let failure: unknown;
  ws.addEventListener("error", (event: Event) => {
    failure = errorOf(event);
  });
  ws.addEventListener("close", (event: CloseEvent) => {
    flush?.();
    connection.closed(event.code, event.reason, failure);
  });
}

/** The error an `error` event carries, if any (the `ws` package and Deno attach one). */
export function errorOf(event: Event): unknown {
  const e = event as Event & { error?: unknown; message?: unknown };
  if (e.error !== undefined) return e.error;
  if (typeof e.message === "string" && e.message !== "") return new Error(e.message);
  return undefined;
}
