/**
 * Raw byte connections for the conformance driver: two transports (TCP, and a WebSocket client
 * written here on `node:net`, so that every byte of the upgrade and every frame is under the
 * driver's control) and {@linkcode RawConn}, which keeps every received byte in a log and offers
 * bounded reads over it: exact byte counts, whole decoded messages (through the project's
 * `MessageDecoder`), whole WebSocket messages with their boundaries, "the connection closes",
 * and "nothing arrives for N ms".
 *
 * Every read takes a timeout; nothing here waits without a bound.
 *
 * @module
 */

import { createHash } from "node:crypto";
import * as net from "node:net";
import { type Message, MessageDecoder, ProtocolError } from "../src/protocol/mod.ts";

/** A WebSocket close frame. */
export interface WsCloseFrame {
  /** The status code, or `undefined` for a close frame without one (1005). */
  code: number | undefined;
  /** The reason text. */
  reason: string;
}

/** How a connection ended, as seen by the driver. */
export interface CloseInfo {
  /**
   * `end`: orderly close (TCP FIN, or a WebSocket close frame); `reset`: ECONNRESET; `error`:
   * any other socket error (or a WebSocket protocol violation by the server).
   */
  kind: "end" | "reset" | "error";
  /** The error text, for `reset` and `error`. */
  detail?: string;
  /** `performance.now()` when the close was seen. */
  at: number;
  /** WebSocket only: the server's close frame, if it sent one before the connection ended. */
  wsClose?: WsCloseFrame;
}

/** What one received WebSocket message was. */
export interface WsMessageInfo {
  /** A binary message (opcode 2), or a text message (opcode 1). */
  binary: boolean;
}

/** Callbacks a transport calls; {@linkcode RawConn} provides them. */
export interface TransportEvents {
  /**
   * Bytes arrived. The transport hands over a buffer it will not reuse. A WebSocket transport
   * calls this once per message, with `message` set.
   */
  data(chunk: Uint8Array, message?: WsMessageInfo): void;
  /** The connection ended (called at most once). */
  closed(info: CloseInfo): void;
}

/**
 * A raw byte transport. TCP writes bytes as they are given; a WebSocket transport sends one
 * binary message per {@linkcode ByteTransport.send} call, so a catalogue step's "send" maps to
 * one write or one WebSocket message.
 */
export interface ByteTransport {
  /** `tcp` or `ws`. */
  readonly kind: "tcp" | "ws";
  /** Sends one chunk: one TCP write, or one binary WebSocket message. */
  send(bytes: Uint8Array): Promise<void>;
  /** WebSocket only: sends one text message (the bytes as they are). */
  sendText?(bytes: Uint8Array): Promise<void>;
  /** WebSocket only: sends a close frame (no code when `code` is undefined); reading goes on. */
  sendClose?(code: number | undefined, reason?: string): Promise<void>;
  /** Closes the sending side (TCP FIN, or a WebSocket close frame 1000); reading continues. */
  end(): void;
  /** Tears the connection down at once. */
  destroy(): void;
}

/** How to dial. */
export interface DialOptions {
  /**
   * WebSocket only: the `Origin` header, or `null` to send none.
   *
   * @default {"http://HOST:PORT" of the URL}
   */
  origin?: string | null;
}

/** Opens a {@linkcode ByteTransport} to `url`, delivering events to `events`. */
export type Dialer = (
  url: URL,
  events: TransportEvents,
  timeoutMs: number,
  options?: DialOptions,
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
        kind: "tcp",
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

/** A WebSocket upgrade answered with something other than 101. */
export class UpgradeRefused extends Error {
  /** The HTTP status. */
  readonly status: number;
  /** The response headers (names in lower case). */
  readonly headers: Record<string, string>;

  /**
   * @param status The HTTP status.
   * @param headers The response headers.
   */
  constructor(status: number, headers: Record<string, string>) {
    super(`The WebSocket upgrade was answered with HTTP ${status}`);
    this.name = "UpgradeRefused";
    this.status = status;
    this.headers = headers;
  }
}

const WS_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
const latin1d = new TextDecoder("latin1");

function base64(bytes: Uint8Array): string {
  let s = "";
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s);
}

/** One client frame: FIN set, masked (as a client must). */
function clientFrame(opcode: number, payload: Uint8Array): Uint8Array {
  const n = payload.length;
  const ext = n < 126 ? 0 : n < 0x10000 ? 2 : 8;
  const out = new Uint8Array(2 + ext + 4 + n);
  out[0] = 0x80 | opcode;
  out[1] = 0x80 | (ext === 0 ? n : ext === 2 ? 126 : 127);
  const view = new DataView(out.buffer);
  if (ext === 2) view.setUint16(2, n);
  else if (ext === 8) view.setBigUint64(2, BigInt(n));
  const mask = crypto.getRandomValues(new Uint8Array(4));
  const at = 2 + ext;
  out.set(mask, at);
  for (let i = 0; i < n; i++) out[at + 4 + i] = payload[i] ^ mask[i & 3];
  return out;
}

/**
 * Dials a `ws://HOST:PORT/PATH` URL: a WebSocket client (RFC 6455) on `node:net`, so that the
 * driver controls the upgrade (the `Origin` header, or none) and sees every frame. Each
 * {@linkcode ByteTransport.send} is one binary message of one frame; each message received is
 * handed over whole, with its boundaries (fragmented messages are reassembled). Pings are
 * answered; a close frame from the server is recorded and echoed, and ends the connection.
 * Anything the server must not do (a masked frame, reserved bits, an unknown opcode, a bad
 * fragment sequence) ends the connection with kind `error`.
 *
 * @param url The `ws:` URL.
 * @param events Where data and close events go.
 * @param timeoutMs How long the connect and the upgrade may take.
 * @param options The `Origin` header.
 * @returns The transport, once upgraded.
 * @throws {UpgradeRefused} If the server answers the upgrade with another status than 101.
 * @throws {Error} If the connection fails, the upgrade is malformed, or it takes too long.
 */
export function dialWs(
  url: URL,
  events: TransportEvents,
  timeoutMs: number,
  options: DialOptions = {},
): Promise<ByteTransport> {
  const host = url.hostname.replace(/^\[|\]$/g, "");
  const port = Number(url.port || 80);
  const key = base64(crypto.getRandomValues(new Uint8Array(16)));
  const origin = options.origin === undefined ? `http://${url.host}` : options.origin;
  const head = [
    `GET ${url.pathname}${url.search} HTTP/1.1`,
    `Host: ${url.host}`,
    "Upgrade: websocket",
    "Connection: Upgrade",
    `Sec-WebSocket-Key: ${key}`,
    "Sec-WebSocket-Version: 13",
    ...(origin === null ? [] : [`Origin: ${origin}`]),
  ].join("\r\n") + "\r\n\r\n";
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host, port });
    let upgraded = false;
    let settled = false;
    let closed = false;
    let closeSent = false;
    let wsClose: WsCloseFrame | undefined;
    // Received bytes not parsed yet (the upgrade response, then frames).
    let buf = new Uint8Array(64 * 1024);
    let from = 0;
    let to = 0;
    let fragments: Uint8Array[] | undefined;
    let fragmentBinary = false;

    const fail = (e: Error): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      reject(e);
    };
    const close = (info: Omit<CloseInfo, "at">): void => {
      if (closed) return;
      closed = true;
      events.closed({ ...info, wsClose, at: performance.now() });
    };
    const violation = (what: string): void => {
      close({ kind: "error", detail: `WebSocket protocol violation by the server: ${what}` });
      socket.destroy();
    };
    const write = (bytes: Uint8Array): Promise<void> =>
      new Promise((res, rej) => {
        if (socket.destroyed) {
          rej(new Error("The connection is closed"));
          return;
        }
        socket.write(bytes, (e) => (e ? rej(e) : res()));
      });
    const sendClose = (code: number | undefined, reason = ""): Promise<void> => {
      if (closeSent) return Promise.resolve();
      closeSent = true;
      const r = new TextEncoder().encode(reason);
      const p = new Uint8Array(code === undefined ? 0 : 2 + r.length);
      if (code !== undefined) {
        p[0] = code >> 8;
        p[1] = code & 0xff;
        p.set(r, 2);
      }
      return write(clientFrame(8, p));
    };
    const timer = setTimeout(
      () => fail(new Error(`Upgrading ${url.host} took longer than ${timeoutMs} ms`)),
      timeoutMs,
    );

    const transport: ByteTransport = {
      kind: "ws",
      send: (bytes) =>
        closeSent || closed
          ? Promise.reject(new Error("The WebSocket is closing"))
          : write(clientFrame(2, bytes)),
      sendText: (bytes) =>
        closeSent || closed
          ? Promise.reject(new Error("The WebSocket is closing"))
          : write(clientFrame(1, bytes)),
      sendClose,
      end: () => void sendClose(1000).catch(() => {}),
      destroy: () => socket.destroy(),
    };

    /** Parses the upgrade response; returns false while it is incomplete. */
    const upgrade = (): boolean => {
      const text = latin1d.decode(buf.subarray(from, to));
      const end = text.indexOf("\r\n\r\n");
      if (end < 0) {
        if (to - from > 64 * 1024) fail(new Error("The upgrade response headers are too large"));
        return false;
      }
      const lines = text.slice(0, end).split("\r\n");
      const m = /^HTTP\/1\.[01] (\d{3})/.exec(lines[0]);
      if (!m) {
        fail(new Error(`Not an HTTP response: ${JSON.stringify(lines[0].slice(0, 60))}`));
        return false;
      }
      const headers: Record<string, string> = {};
      for (const l of lines.slice(1)) {
        const i = l.indexOf(":");
        if (i > 0) headers[l.slice(0, i).trim().toLowerCase()] = l.slice(i + 1).trim();
      }
      const status = Number(m[1]);
      if (status !== 101) {
        fail(new UpgradeRefused(status, headers));
        return false;
      }
      const accept = createHash("sha1").update(key + WS_GUID).digest("base64");
      if (headers["sec-websocket-accept"] !== accept) {
        fail(new Error(`Bad Sec-WebSocket-Accept ${headers["sec-websocket-accept"]}`));
        return false;
      }
      from += end + 4;
      upgraded = true;
      settled = true;
      clearTimeout(timer);
      resolve(transport);
      return true;
    };

    /** Parses every complete frame in the buffer. */
    const frames = (): void => {
      while (!closed && to - from >= 2) {
        const b0 = buf[from];
        const b1 = buf[from + 1];
        const opcode = b0 & 0x0f;
        const fin = (b0 & 0x80) !== 0;
        let len = b1 & 0x7f;
        let at = from + 2;
        if (len === 126) {
          if (to - at < 2) return;
          len = (buf[at] << 8) | buf[at + 1];
          at += 2;
        } else if (len === 127) {
          if (to - at < 8) return;
          const hi = ((buf[at] << 24) | (buf[at + 1] << 16) | (buf[at + 2] << 8) | buf[at + 3]) >>>
            0;
          if (hi !== 0) return violation("a frame longer than 4 GiB");
          len = ((buf[at + 4] << 24) | (buf[at + 5] << 16) | (buf[at + 6] << 8) | buf[at + 7]) >>>
            0;
          at += 8;
        }
        if ((b1 & 0x80) !== 0) return violation("a masked frame");
        if ((b0 & 0x70) !== 0) return violation("reserved bits set");
        if (to - at < len) return;
        const payload = buf.slice(at, at + len);
        from = at + len;
        switch (opcode) {
          case 0: // continuation
            if (!fragments) return violation("a continuation frame outside a message");
            fragments.push(payload);
            if (fin) {
              const all = new Uint8Array(fragments.reduce((n, f) => n + f.length, 0));
              let o = 0;
              for (const f of fragments) {
                all.set(f, o);
                o += f.length;
              }
              fragments = undefined;
              events.data(all, { binary: fragmentBinary });
            }
            break;
          case 1:
          case 2:
            if (fragments) return violation("a new message inside a fragmented one");
            if (fin) events.data(payload, { binary: opcode === 2 });
            else {
              fragments = [payload];
              fragmentBinary = opcode === 2;
            }
            break;
          case 8: {
            wsClose = {
              code: payload.length >= 2 ? (payload[0] << 8) | payload[1] : undefined,
              reason: payload.length > 2 ? new TextDecoder().decode(payload.subarray(2)) : "",
            };
            // Echo it (RFC 6455 5.5.1); the server then closes the TCP connection.
            sendClose(wsClose.code).catch(() => {}).finally(() => socket.end());
            close({ kind: "end" });
            return;
          }
          case 9: // ping
            write(clientFrame(10, payload)).catch(() => {});
            break;
          case 10: // pong
            break;
          default:
            return violation(`unknown opcode ${opcode}`);
        }
      }
    };

    socket.setNoDelay(true);
    socket.on("connect", () => void socket.write(head));
    socket.on("data", (chunk: Uint8Array) => {
      if (to + chunk.length > buf.length) {
        const live = to - from;
        let size = buf.length;
        while (size < live + chunk.length) size *= 2;
        if (size === buf.length) buf.copyWithin(0, from, to);
        else {
          const next = new Uint8Array(size);
          next.set(buf.subarray(from, to), 0);
          buf = next;
        }
        from = 0;
        to = live;
      }
      buf.set(chunk, to);
      to += chunk.length;
      if (!upgraded && !upgrade()) return;
      frames();
    });
    const ended = (info: Omit<CloseInfo, "at">): void => {
      if (!settled) {
        fail(new Error(`The connection closed during the upgrade (${info.detail ?? info.kind})`));
        return;
      }
      close(info);
    };
    socket.on("end", () => ended({ kind: "end" }));
    socket.on("close", () => ended({ kind: "end" }));
    socket.on("error", (e: Error & { code?: string }) => {
      if (!settled) {
        fail(e);
        return;
      }
      ended(
        e.code === "ECONNRESET" ? { kind: "reset", detail: e.message } : {
          kind: "error",
          detail: e.message,
        },
      );
    });
  });
}

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
