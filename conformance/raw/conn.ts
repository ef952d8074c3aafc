/**
 * One raw connection of the conformance driver over either transport (`tcp.ts`, or the
 * WebSocket client in `ws_client.ts`): {@linkcode RawConn} keeps every received byte in a log and
 * offers bounded reads over it: exact byte counts, whole decoded messages (through the project's
 * `MessageDecoder`), whole WebSocket messages with their boundaries, "the connection closes",
 * and "nothing arrives for N ms".
 *
 * Every read takes a timeout; nothing here waits without a bound.
 *
 * @module
 */

import { type Message, MessageDecoder, ProtocolError } from "../../src/protocol/mod.ts";
import { expectedLength, frameSize } from "./_frame_size.ts";
import { describeMessage, preview } from "./describe.ts";
import { dialTcp } from "./tcp.ts";
import type {
  ByteTransport,
  CloseInfo,
  Dialer,
  DialOptions,
  TransportEvents,
  WsMessageInfo,
} from "./transport.ts";
import { dialWs } from "./ws_client.ts";

/**
 * The dialer for a URL's scheme: `tcp:` or `ws:`.
 *
 * @param url The server URL.
 * @returns The dialer.
 * @throws {TypeError} For a scheme without a dialer.
 */
export function dialerFor(url: URL): Dialer {
  if (url.protocol === "tcp:") return dialTcp;
  if (url.protocol === "ws:") return dialWs;
  throw new TypeError(`No raw transport for ${url.protocol}// (tcp:// and ws:// only)`);
}

/** Why a bounded read did not produce what was asked. */
export class ReadError extends Error {
  /** `timeout`, `closed` (the connection ended first) or `invalid` (undecodable bytes). */
  readonly kind: "timeout" | "closed" | "invalid";

  /**
   * @param kind What went wrong.
   * @param message A description.
   */
  constructor(kind: "timeout" | "closed" | "invalid", message: string) {
    super(message);
    this.name = "ReadError";
    this.kind = kind;
  }
}

/** A decoded message and the exact bytes it came from. */
export interface Received {
  /** The message; its payload is a copy the caller owns. */
  message: Message;
  /** The message's bytes on the wire. */
  raw: Uint8Array;
  /** `performance.now()` when its last byte had arrived (at the latest). */
  at: number;
}

/** The most bytes a connection may hold unread before reads fail. */
const MAX_LOG_BYTES = 80 * 1024 * 1024;
/** The largest payload the driver decodes from a server. */
const MAX_PAYLOAD_BYTES = 64 * 1024 * 1024;

const STOP = Symbol("stop");

/**
 * One raw connection: sends chunks as given and reads with bounded waits from a log of every
 * byte received. A cursor moves through the log; {@linkcode RawConn.mark} and
 * {@linkcode RawConn.rewind} let a caller try several readings of the same bytes.
 */
export class RawConn {
  readonly #transport: ByteTransport;
  #buf = new Uint8Array(64 * 1024);
  /** Absolute stream offset of #buf[0]. */
  #base = 0;
  /** Bytes in #buf. */
  #len = 0;
  /** Absolute offset of the read cursor. */
  #cursor = 0;
  /** Absolute offsets that must stay in the log (active marks). */
  readonly #pins: number[] = [];
  /** `performance.now()` of the last data event. */
  #lastDataAt = 0;
  #closed: CloseInfo | undefined;
  #overflow = false;
  readonly #waiters = new Set<() => void>();
  /** WebSocket messages received (absolute offsets), oldest first; pruned with the log. */
  readonly #messages: { start: number; end: number; binary: boolean }[] = [];
  /** Heartbeats skipped by message reads. */
  readonly heartbeats: Received[] = [];

  private constructor(transport: ByteTransport) {
    this.#transport = transport;
  }

  /**
   * Dials `url` and returns a connection.
   *
   * @param url The server URL (`tcp://HOST:PORT` or `ws://HOST:PORT/PATH`).
   * @param timeoutMs How long connecting (and a WebSocket upgrade) may take.
   * @param options How to dial (the WebSocket `Origin` header).
   * @returns The connection.
   * @throws {UpgradeRefused} If a WebSocket upgrade is refused.
   * @throws {Error} If the connection cannot be made.
   */
  static async open(url: string, timeoutMs = 3000, options?: DialOptions): Promise<RawConn> {
    const u = new URL(url);
    const holder: { conn?: RawConn } = {};
    const early: [Uint8Array, WsMessageInfo | undefined][] = [];
    let earlyClose: CloseInfo | undefined;
    const events: TransportEvents = {
      data: (chunk, message) =>
        holder.conn ? holder.conn.#onData(chunk, message) : early.push([chunk, message]),
      closed: (info) => holder.conn ? holder.conn.#onClose(info) : (earlyClose = info),
    };
    const transport = await dialerFor(u)(u, events, timeoutMs, options);
    const conn = new RawConn(transport);
    holder.conn = conn;
    for (const [chunk, message] of early) conn.#onData(chunk, message);
    if (earlyClose) conn.#onClose(earlyClose);
    return conn;
  }

  #onData(chunk: Uint8Array, message?: WsMessageInfo): void {
    this.#lastDataAt = performance.now();
    if (message) {
      const start = this.#base + this.#len;
      this.#messages.push({ start, end: start + chunk.length, binary: message.binary });
    }
    const need = this.#len + chunk.length;
    if (need > this.#buf.length) {
      // Drop bytes before the cursor (and before any pinned mark), then grow if still needed.
      const keepFrom = Math.min(this.#cursor, ...this.#pins) - this.#base;
      if (need - keepFrom > MAX_LOG_BYTES) {
        this.#overflow = true;
        this.#wake();
        return;
      }
      let size = this.#buf.length;
      while (size < need - keepFrom) size *= 2;
      if (size === this.#buf.length) {
        this.#buf.copyWithin(0, keepFrom, this.#len);
      } else {
        const next = new Uint8Array(size);
        next.set(this.#buf.subarray(keepFrom, this.#len));
        this.#buf = next;
      }
      this.#len -= keepFrom;
      this.#base += keepFrom;
      const gone = this.#messages.findIndex((m) => m.end > this.#base);
      this.#messages.splice(0, gone < 0 ? this.#messages.length : gone);
    }
    this.#buf.set(chunk, this.#len);
    this.#len += chunk.length;
    this.#wake();
  }

  #onClose(info: CloseInfo): void {
    if (this.#closed) return;
    this.#closed = info;
    this.#wake();
  }

  #wake(): void {
    for (const w of [...this.#waiters]) w();
  }

  /** Resolves at the next data or close event, or after `ms`. */
  #event(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.#waiters.delete(done);
        resolve();
      };
      const timer = setTimeout(done, Math.max(0, ms));
      this.#waiters.add(done);
    });
  }

  /** How the connection ended, once it has. */
  get closed(): CloseInfo | undefined {
    return this.#closed;
  }

  /** Received bytes not yet read. */
  get unread(): Uint8Array {
    return this.#buf.slice(this.#cursor - this.#base, this.#len);
  }

  /** Total bytes received so far. */
  get receivedBytes(): number {
    return this.#base + this.#len;
  }

  /**
   * Sends one chunk (one write; one WebSocket message on a WebSocket transport).
   *
   * @param bytes The bytes.
   * @returns When the transport accepted them.
   * @throws {Error} If the connection is closed.
   */
  send(bytes: Uint8Array): Promise<void> {
    return this.#transport.send(bytes);
  }

  /** `tcp` or `ws`. */
  get kind(): "tcp" | "ws" {
    return this.#transport.kind;
  }

  /**
   * Sends one text WebSocket message.
   *
   * @param bytes The message (sent as they are, not checked for UTF-8).
   * @returns When the transport accepted them.
   * @throws {TypeError} On a transport other than WebSocket.
   */
  sendText(bytes: Uint8Array): Promise<void> {
    if (!this.#transport.sendText) throw new TypeError("Text messages need a WebSocket");
    return this.#transport.sendText(bytes);
  }

  /**
   * Sends a WebSocket close frame; reads go on until the server closes.
   *
   * @param code The status code (none when undefined).
   * @param reason The reason text.
   * @returns When the transport accepted it.
   * @throws {TypeError} On a transport other than WebSocket.
   */
  sendClose(code: number | undefined, reason?: string): Promise<void> {
    if (!this.#transport.sendClose) throw new TypeError("Close frames need a WebSocket");
    return this.#transport.sendClose(code, reason);
  }

  /**
   * Reads the next whole WebSocket message; the cursor must be at a message boundary.
   *
   * @param timeoutMs How long to wait.
   * @returns A copy of the message's bytes, and whether it was binary.
   * @throws {ReadError} On timeout, close, or when the cursor is inside a message (an earlier
   * read consumed part of it).
   */
  async readWsMessage(timeoutMs: number): Promise<{ bytes: Uint8Array; binary: boolean }> {
    if (this.kind !== "ws") throw new TypeError("WebSocket messages need a WebSocket");
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      this.#checkOverflow();
      const at = this.#cursor;
      const m = this.#messages.find((x) => x.end > at || (x.start === at && x.end === at));
      if (m) {
        if (m.start !== at) {
          throw new ReadError(
            "invalid",
            `The read position is ${at - m.start} bytes into a WebSocket message`,
          );
        }
        this.#cursor = m.end;
        return {
          bytes: this.#buf.slice(m.start - this.#base, m.end - this.#base),
          binary: m.binary,
        };
      }
      if (this.#closed) {
        throw new ReadError("closed", `Connection closed (${this.#closed.kind})`);
      }
      const left = deadline - performance.now();
      if (left <= 0) throw new ReadError("timeout", `No message within ${timeoutMs} ms`);
      await this.#event(left);
    }
  }

  /** Closes the sending side; reads go on until the server closes. */
  end(): void {
    this.#transport.end();
  }

  /** Tears the connection down. */
  destroy(): void {
    this.#transport.destroy();
  }

  /**
   * Remembers the cursor so that reads can be retried from here; pins the log from there.
   *
   * @returns The mark.
   */
  mark(): number {
    this.#pins.push(this.#cursor);
    return this.#cursor;
  }

  /**
   * Moves the cursor back to `mark` (which stays active).
   *
   * @param mark A value from {@linkcode RawConn.mark}.
   */
  rewind(mark: number): void {
    this.#cursor = mark;
  }

  /**
   * Releases a mark.
   *
   * @param mark A value from {@linkcode RawConn.mark}.
   */
  release(mark: number): void {
    const i = this.#pins.indexOf(mark);
    if (i >= 0) this.#pins.splice(i, 1);
  }

  #available(): number {
    return this.#base + this.#len - this.#cursor;
  }

  #checkOverflow(): void {
    if (this.#overflow) {
      throw new ReadError("invalid", `More than ${MAX_LOG_BYTES} unread bytes arrived`);
    }
  }

  /**
   * Reads exactly `n` bytes.
   *
   * @param n How many.
   * @param timeoutMs How long to wait for them.
   * @returns A copy of the bytes.
   * @throws {ReadError} On timeout, or if the connection closes first.
   */
  async readBytes(n: number, timeoutMs: number): Promise<Uint8Array> {
    const deadline = performance.now() + timeoutMs;
    while (this.#available() < n) {
      this.#checkOverflow();
      const got = preview(this.unread);
      if (this.#closed) {
        throw new ReadError("closed", `Connection closed (${this.#closed.kind}) after "${got}"`);
      }
      const left = deadline - performance.now();
      if (left <= 0) {
        throw new ReadError("timeout", `No ${n} bytes within ${timeoutMs} ms (got "${got}")`);
      }
      await this.#event(left);
    }
    const start = this.#cursor - this.#base;
    this.#cursor += n;
    return this.#buf.slice(start, start + n);
  }

  /** Decodes one message at the cursor, or returns undefined if it is not complete yet. */
  #tryDecode(): Received | undefined {
    const avail = this.#available();
    if (avail === 0) return undefined;
    const start = this.#cursor - this.#base;
    const bytes = this.#buf.subarray(start, this.#len);
    // Skip decoding while a frame of known length is still arriving (the decoder would copy
    // the partial payload on every attempt).
    const need = expectedLength(bytes);
    if (need > bytes.length) return undefined;
    let first: Message | undefined;
    try {
      new MessageDecoder({ maxPayloadBytes: MAX_PAYLOAD_BYTES }).push(bytes, (m) => {
        first = m;
        throw STOP;
      });
    } catch (e) {
      if (e !== STOP) {
        const what = e instanceof ProtocolError ? e.message : String(e);
        throw new ReadError("invalid", `Undecodable bytes "${preview(bytes)}": ${what}`);
      }
    }
    if (!first) return undefined;
    const size = need > 0 ? need : frameSize(bytes, first);
    const message = "payload" in first ? { ...first, payload: first.payload.slice() } : first;
    this.#cursor += size;
    return { message, raw: bytes.slice(0, size), at: this.#lastDataAt };
  }

  /**
   * Reads the next message.
   *
   * @param timeoutMs How long to wait.
   * @param skipHeartbeats Whether `h` messages are set aside (in {@linkcode RawConn.heartbeats}).
   * @returns The message and its bytes.
   * @throws {ReadError} On timeout, close, or bytes that do not decode.
   */
  async readMessage(timeoutMs: number, skipHeartbeats = true): Promise<Received> {
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      this.#checkOverflow();
      const r = this.#tryDecode();
      if (r) {
        if (skipHeartbeats && r.message.type === "h") {
          if (this.heartbeats.length < 1000) this.heartbeats.push(r);
          continue;
        }
        return r;
      }
      if (this.#closed) {
        const rest = this.#available() > 0 ? ` after an incomplete "${preview(this.unread)}"` : "";
        throw new ReadError("closed", `Connection closed (${this.#closed.kind})${rest}`);
      }
      const left = deadline - performance.now();
      if (left <= 0) {
        const rest = this.#available() > 0 ? ` (incomplete: "${preview(this.unread)}")` : "";
        throw new ReadError("timeout", `No message within ${timeoutMs} ms${rest}`);
      }
      await this.#event(left);
    }
  }

  /**
   * Waits until the server closes the connection, requiring that no (non-heartbeat) message
   * arrives first.
   *
   * @param timeoutMs How long to wait.
   * @param allow Messages for which this returns `true` are consumed and tolerated.
   * @returns How it closed.
   * @throws {ReadError} `timeout` if it stays open, `invalid` if a message or stray bytes came.
   */
  async waitClosed(timeoutMs: number, allow?: (m: Message) => boolean): Promise<CloseInfo> {
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      this.#checkOverflow();
      const r = this.#tryDecode();
      if (r) {
        if (r.message.type === "h" || allow?.(r.message)) continue;
        throw new ReadError("invalid", `Got ${describeMessage(r.message)} instead of a close`);
      }
      if (this.#closed) {
        if (this.#available() > 0) {
          throw new ReadError(
            "invalid",
            `Closed (${this.#closed.kind}) after stray bytes "${preview(this.unread)}"`,
          );
        }
        return this.#closed;
      }
      const left = deadline - performance.now();
      if (left <= 0) {
        const rest = this.#available() > 0 ? ` (unread: "${preview(this.unread)}")` : "";
        throw new ReadError("timeout", `Still open after ${timeoutMs} ms${rest}`);
      }
      await this.#event(left);
    }
  }

  /**
   * Requires that nothing arrives for `ms` and the connection stays open.
   *
   * @param ms How long.
   * @param allowHeartbeats Whether `h` messages are tolerated (and set aside).
   * @throws {ReadError} `invalid` if a message or bytes arrive, `closed` if it closes.
   */
  async silence(ms: number, allowHeartbeats: boolean): Promise<void> {
    const deadline = performance.now() + ms;
    for (;;) {
      this.#checkOverflow();
      const r = this.#tryDecode();
      if (r) {
        if (allowHeartbeats && r.message.type === "h") continue;
        throw new ReadError("invalid", `Got ${describeMessage(r.message)} during the silence`);
      }
      if (this.#closed) {
        throw new ReadError(
          "closed",
          `Connection closed (${this.#closed.kind}) during the silence`,
        );
      }
      const left = deadline - performance.now();
      if (left <= 0) {
        if (this.#available() > 0) {
          throw new ReadError("invalid", `Got bytes "${preview(this.unread)}" during the silence`);
        }
        return;
      }
      await this.#event(left);
    }
  }
}
