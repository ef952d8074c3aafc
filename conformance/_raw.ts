/**
 * Raw byte connections for the conformance driver: a transport seam (TCP today, WebSocket
 * later) and {@linkcode RawConn}, which keeps every received byte in a log and offers bounded
 * reads over it: exact byte counts, whole decoded messages (through the project's
 * `MessageDecoder`), "the connection closes", and "nothing arrives for N ms".
 *
 * Every read takes a timeout; nothing here waits without a bound.
 *
 * @module
 */

import * as net from "node:net";
import { type Message, MessageDecoder, ProtocolError } from "../src/protocol/mod.ts";

/** How a connection ended, as seen by the driver. */
export interface CloseInfo {
  /** `end`: orderly close (TCP FIN); `reset`: ECONNRESET; `error`: any other socket error. */
  kind: "end" | "reset" | "error";
  /** The error text, for `reset` and `error`. */
  detail?: string;
  /** `performance.now()` when the close was seen. */
  at: number;
}

/** Callbacks a transport calls; {@linkcode RawConn} provides them. */
export interface TransportEvents {
  /** Bytes arrived. The transport hands over a buffer it will not reuse. */
  data(chunk: Uint8Array): void;
  /** The connection ended (called at most once). */
  closed(info: CloseInfo): void;
}

/**
 * A raw byte transport. TCP writes bytes as they are given; a WebSocket transport sends one
 * binary message per {@linkcode ByteTransport.send} call, so a catalogue step's "send" maps to
 * one write or one WebSocket message.
 */
export interface ByteTransport {
  /** Sends one chunk: one TCP write, or one binary WebSocket message. */
  send(bytes: Uint8Array): Promise<void>;
  /** Closes the sending side (TCP FIN, or a WebSocket close frame); reading continues. */
  end(): void;
  /** Tears the connection down at once. */
  destroy(): void;
}

/** Opens a {@linkcode ByteTransport} to `url`, delivering events to `events`. */
export type Dialer = (
  url: URL,
  events: TransportEvents,
  timeoutMs: number,
) => Promise<ByteTransport>;

/**
 * Dials a `tcp://HOST:PORT` URL with `node:net` (works on Deno, Bun and Node), with Nagle off so
 * that every send is its own segment.
 *
 * @param url The `tcp:` URL.
 * @param events Where data and close events go.
 * @param timeoutMs How long the connect may take.
 * @returns The transport, once connected.
 * @throws {Error} If the connection fails or takes longer than `timeoutMs`.
 */
export function dialTcp(
  url: URL,
  events: TransportEvents,
  timeoutMs: number,
): Promise<ByteTransport> {
  const host = url.hostname.replace(/^\[|\]$/g, "");
  const port = Number(url.port);
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host, port });
    let connected = false;
    let closed = false;
    const close = (info: Omit<CloseInfo, "at">): void => {
      if (closed) return;
      closed = true;
      events.closed({ ...info, at: performance.now() });
    };
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`Connecting to ${url.host} took longer than ${timeoutMs} ms`));
    }, timeoutMs);
    socket.setNoDelay(true);
    socket.on("connect", () => {
      connected = true;
      clearTimeout(timer);
      resolve({
        send: (bytes) =>
          new Promise((res, rej) => {
            if (closed || socket.destroyed) {
              rej(new Error("The connection is closed"));
              return;
            }
            socket.write(bytes, (e) => (e ? rej(e) : res()));
          }),
        end: () => socket.end(),
        destroy: () => socket.destroy(),
      });
    });
    socket.on("data", (chunk: Uint8Array) => events.data(new Uint8Array(chunk)));
    socket.on("end", () => close({ kind: "end" }));
    socket.on("error", (e: Error & { code?: string }) => {
      if (!connected) {
        clearTimeout(timer);
        reject(e);
        return;
      }
      close(
        e.code === "ECONNRESET" ? { kind: "reset", detail: e.message } : {
          kind: "error",
          detail: e.message,
        },
      );
    });
    socket.on("close", () => close({ kind: "end" }));
  });
}

/**
 * The dialer for a URL's scheme. Only `tcp:` exists today; a WebSocket dialer (`ws:`) plugs in
 * here, sending one binary message per send.
 *
 * @param url The server URL.
 * @returns The dialer.
 * @throws {TypeError} For a scheme without a dialer.
 */
export function dialerFor(url: URL): Dialer {
  if (url.protocol === "tcp:") return dialTcp;
  throw new TypeError(`No raw transport for ${url.protocol}// yet (only tcp://)`);
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

/** Printable preview of some bytes: ASCII as is, the rest as `\xNN`, truncated. */
export function preview(bytes: Uint8Array, max = 60): string {
  let s = "";
  const n = Math.min(bytes.length, max);
  for (let i = 0; i < n; i++) {
    const b = bytes[i];
    s += b >= 0x20 && b < 0x7f && b !== 0x5c
      ? String.fromCharCode(b)
      : b === 0x5c
      ? "\\\\"
      : `\\x${b.toString(16).padStart(2, "0")}`;
  }
  return bytes.length > max ? `${s}… (${bytes.length} bytes)` : s;
}

/** A one-line description of a message, for verdict details. */
export function describeMessage(m: Message): string {
  const id = (n: number): string =>
    preview(new Uint8Array([n >>> 24, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff]));
  switch (m.type) {
    case "handshake":
      return `version ${m.version}`;
    case "h":
      return `h load=${m.load} time=${m.time}`;
    case "f":
      return `f code=${m.code}`;
    case "n":
      return `n ${JSON.stringify(m.name.slice(0, 40))} "${preview(m.payload)}"`;
    case "r":
    case "s":
      return `${m.type} id="${id(m.id)}" op=${JSON.stringify(m.name.slice(0, 40))} "${
        preview(m.payload)
      }"`;
    case "e":
      return `e id="${id(m.id)}" wait=${m.wait} "${preview(m.payload)}"`;
    default:
      return `${m.type} id="${id(m.id)}" "${preview(m.payload)}"`;
  }
}

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
  /** Heartbeats skipped by message reads. */
  readonly heartbeats: Received[] = [];

  private constructor(transport: ByteTransport) {
    this.#transport = transport;
  }

  /**
   * Dials `url` and returns a connection.
   *
   * @param url The server URL (`tcp://HOST:PORT`).
   * @param timeoutMs How long connecting may take.
   * @returns The connection.
   * @throws {Error} If the connection cannot be made.
   */
  static async open(url: string, timeoutMs = 3000): Promise<RawConn> {
    const u = new URL(url);
    const holder: { conn?: RawConn } = {};
    const early: Uint8Array[] = [];
    let earlyClose: CloseInfo | undefined;
    const events: TransportEvents = {
      data: (chunk) => holder.conn ? holder.conn.#onData(chunk) : early.push(chunk),
      closed: (info) => holder.conn ? holder.conn.#onClose(info) : (earlyClose = info),
    };
    const transport = await dialerFor(u)(u, events, timeoutMs);
    const conn = new RawConn(transport);
    holder.conn = conn;
    for (const chunk of early) conn.#onData(chunk);
    if (earlyClose) conn.#onClose(earlyClose);
    return conn;
  }

  #onData(chunk: Uint8Array): void {
    this.#lastDataAt = performance.now();
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

/**
 * The length of the frame starting `b`, from its header, or -1 when that is not known yet or the
 * header is not valid (the decoder then says why).
 */
function expectedLength(b: Uint8Array): number {
  const hex = (from: number, n: number): number => {
    if (from < 0 || b.length < from + n) return -1;
    let v = 0;
    for (let i = from; i < from + n; i++) {
      const c = b[i] | 0x20; // ASCII lower case for letters
      const d = b[i] >= 0x30 && b[i] <= 0x39 ? b[i] - 0x30 : c >= 0x61 && c <= 0x66 ? c - 0x57 : -1;
      if (d < 0) return -1;
      v = v * 16 + d;
    }
    return v;
  };
  const sum = (...parts: number[]): number =>
    parts.some((x) => x < 0) ? -1 : parts.reduce((a, x) => a + x);
  switch (String.fromCharCode(b[0])) {
    case "r":
    case "s": {
      const name = hex(5, 3);
      return name < 0 ? -1 : sum(16 + name, hex(8 + name, 8));
    }
    case "n": {
      const name = hex(1, 3);
      return name < 0 ? -1 : sum(12 + name, hex(4 + name, 8));
    }
    case "p":
    case "R":
    case "S":
    case "E":
      return sum(13, hex(5, 8));
    case "e":
      return sum(21, hex(13, 8));
    case "h":
      return 13;
    case "f":
      return 9;
  }
  return -1;
}

/** The wire size of the decoded frame `m` at the start of `bytes`. */
function frameSize(bytes: Uint8Array, m: Message): number {
  const hex = (from: number, n: number): number => {
    let v = 0;
    for (let i = from; i < from + n; i++) v = v * 16 + parseInt(String.fromCharCode(bytes[i]), 16);
    return v;
  };
  switch (m.type) {
    case "r":
    case "s":
      return 16 + hex(5, 3) + m.payload.length;
    case "n":
      return 12 + hex(1, 3) + m.payload.length;
    case "e":
      return 21 + m.payload.length;
    case "h":
      return 13;
    case "f":
      return 9;
    case "handshake":
      return 2;
    default:
      return 13 + m.payload.length;
  }
}
