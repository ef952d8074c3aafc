/**
 * A WebSocket client (RFC 6455) written on `node:net`, so that every byte of the upgrade and
 * every frame is under the driver's control: it sends any `Origin` header or none, sends text and
 * close frames on request, and hands over each received message whole, with its boundaries.
 *
 * @module
 */

import { createHash } from "node:crypto";
import * as net from "node:net";
import type {
  ByteTransport,
  CloseInfo,
  DialOptions,
  TransportEvents,
  WsCloseFrame,
} from "./transport.ts";

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
