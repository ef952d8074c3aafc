/**
 * A raw WebSocket client on `node:net` for the RFC 6455 abuse tests (and the stress tests): it
 * upgrades, then sends whatever bytes a case gives, masked or not, and reports the close frame
 * the server sent (its code) and whether the TCP connection ended. Also the table of abuse cases
 * and the close code RFC 6455 asks for in each. Test-only.
 *
 * @module
 */

import { createHash } from "node:crypto";
import { connect, type Socket } from "node:net";

/** One frame to send; a client frame is masked unless `mask` is false. */
export interface RawFrame {
  opcode: number;
  payload?: Uint8Array;
  /** Default true. */
  fin?: boolean;
  /** The RSV1-3 bits (0 to 7). Default 0. */
  rsv?: number;
  /** Default true. */
  mask?: boolean;
}

/** Encodes one frame. */
export function encodeFrame(frame: RawFrame): Uint8Array {
  const payload = frame.payload ?? new Uint8Array(0);
  const masked = frame.mask !== false;
  const n = payload.byteLength;
  const ext = n < 126 ? 0 : n < 0x10000 ? 2 : 8;
  const out = new Uint8Array(2 + ext + (masked ? 4 : 0) + n);
  out[0] = (frame.fin === false ? 0 : 0x80) | ((frame.rsv ?? 0) << 4) | frame.opcode;
  out[1] = (masked ? 0x80 : 0) | (ext === 0 ? n : ext === 2 ? 126 : 127);
  const view = new DataView(out.buffer);
  if (ext === 2) view.setUint16(2, n);
  else if (ext === 8) view.setBigUint64(2, BigInt(n));
  const at = 2 + ext;
  if (!masked) {
    out.set(payload, at);
    return out;
  }
  const key = [0x37, 0xfa, 0x21, 0x3d];
  out.set(key, at);
  for (let i = 0; i < n; i++) out[at + 4 + i] = payload[i] ^ key[i & 3];
  return out;
}

/** A close frame's payload: the code and a reason (bytes as given). */
export function closePayload(code: number, reason: Uint8Array = new Uint8Array(0)): Uint8Array {
  const out = new Uint8Array(2 + reason.byteLength);
  new DataView(out.buffer).setUint16(0, code);
  out.set(reason, 2);
  return out;
}

const INVALID_UTF8 = new Uint8Array([0xce, 0xba, 0xe1, 0xbd, 0xc3, 0x28]);
const bytes = (n: number) => new Uint8Array(n).fill(0x61);

/** An abuse case: what the client sends after the upgrade, and the close code it must get. */
export interface AbuseCase {
  name: string;
  frames: RawFrame[];
  /** The close code the server must send (RFC 6455 §7.4.1). */
  code: 1000 | 1002 | 1007 | 1009;
}

/** The cases, each a violation of RFC 6455 (and one clean close, as the control). */
export const ABUSE_CASES: readonly AbuseCase[] = [
  {
    name: "a clean close (control)",
    frames: [{ opcode: 8, payload: closePayload(1000) }],
    code: 1000,
  },
  {
    name: "an unmasked binary frame (§5.1)",
    frames: [{ opcode: 2, payload: bytes(4), mask: false }],
    code: 1002,
  },
  {
    name: "an unmasked close frame (§5.1)",
    frames: [{ opcode: 8, payload: closePayload(1000), mask: false }],
    code: 1002,
  },
  {
    name: "reserved data opcode 0x3 (§5.2)",
    frames: [{ opcode: 3, payload: bytes(4) }],
    code: 1002,
  },
  { name: "reserved control opcode 0xB (§5.2)", frames: [{ opcode: 0xb }], code: 1002 },
  {
    name: "RSV1 set without an extension (§5.2)",
    frames: [{ opcode: 2, rsv: 4, payload: bytes(4) }],
    code: 1002,
  },
  {
    name: "RSV3 set without an extension (§5.2)",
    frames: [{ opcode: 2, rsv: 1, payload: bytes(4) }],
    code: 1002,
  },
  { name: "a ping of 126 bytes (§5.5)", frames: [{ opcode: 9, payload: bytes(126) }], code: 1002 },
  {
    name: "a fragmented ping (§5.5)",
    frames: [{ opcode: 9, fin: false, payload: bytes(2) }],
    code: 1002,
  },
  {
    name: "a close of 1 byte (§5.5.1)",
    frames: [{ opcode: 8, payload: new Uint8Array([3]) }],
    code: 1002,
  },
  {
    name: "close code 1005, reserved (§7.4.1)",
    frames: [{ opcode: 8, payload: closePayload(1005) }],
    code: 1002,
  },
  {
    name: "close code 999 (§7.4.2)",
    frames: [{ opcode: 8, payload: closePayload(999) }],
    code: 1002,
  },
  {
    name: "close code 5000 (§7.4.2)",
    frames: [{ opcode: 8, payload: closePayload(5000) }],
    code: 1002,
  },
  {
    name: "a close reason that is not UTF-8 (§5.5.1)",
    frames: [{ opcode: 8, payload: closePayload(1000, INVALID_UTF8) }],
    code: 1007,
  },
  {
    name: "a text message that is not UTF-8 (§8.1)",
    frames: [{ opcode: 1, payload: INVALID_UTF8 }],
    code: 1007,
  },
  {
    name: "a continuation with nothing to continue (§5.4)",
    frames: [{ opcode: 0, payload: bytes(4) }],
    code: 1002,
  },
  {
    name: "a new message inside a fragmented one (§5.4)",
    frames: [{ opcode: 2, fin: false, payload: bytes(4) }, { opcode: 2, payload: bytes(4) }],
    code: 1002,
  },
  {
    name: "a message over maxMessageBytes (§7.4.1)",
    frames: [{ opcode: 2, payload: bytes(2048) }],
    code: 1009,
  },
  {
    name: "fragments adding up to over maxMessageBytes",
    frames: [{ opcode: 2, fin: false, payload: bytes(700) }, {
      opcode: 0,
      fin: false,
      payload: bytes(700),
    }, { opcode: 0, payload: bytes(700) }],
    code: 1009,
  },
];

/** The `maxMessageBytes` the abuse tests serve with (so the 1009 cases stay small). */
export const ABUSE_MAX_MESSAGE_BYTES = 1024;

/** What the server did after a case's frames. */
export interface CloseOutcome {
  /** The code of the server's close frame, 1005 for a close frame without one, or null: none. */
  code: number | null;
  /** Whether the server ended the TCP connection (within the hang guard). */
  ended: boolean;
  /** When the TCP connection ended, in ms after the last frame was sent (or null). */
  endedAfterMs: number | null;
}

/** A raw upgraded connection. */
export interface RawWebSocket {
  readonly socket: Socket;
  /** Sends bytes as they are. */
  write(bytes: Uint8Array): void;
  /**
   * Resolves once the server ended the connection, or after `guardMs`. With `answerClose`, the
   * server's close frame is answered (masked, same code) as a well-behaved client would.
   */
  outcome(guardMs: number, options?: { answerClose?: boolean }): Promise<CloseOutcome>;
  /** Destroys the socket. */
  destroy(): void;
}

/** Resolves with the connected socket. */
function dial(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: "127.0.0.1", port });
    socket.once("connect", () => {
      socket.off("error", reject);
      resolve(socket);
    });
    socket.once("error", reject);
  });
}

/**
 * Opens a TCP connection to 127.0.0.1 `port` and sends `bytes` (say, part of an upgrade), for
 * the half-sent upgrade case. Resolves with the socket.
 */
export async function rawTcp(port: number, bytes: Uint8Array): Promise<Socket> {
  const socket = await dial(port);
  socket.on("error", () => {});
  socket.write(bytes);
  return socket;
}

/** Resolves when `socket` closes (with the ms it took from now), or with null after `guardMs`. */
export function closedWithin(socket: Socket, guardMs: number): Promise<number | null> {
  const start = performance.now();
  return new Promise((resolve) => {
    if (socket.destroyed) return resolve(0);
    const timer = setTimeout(() => resolve(null), guardMs);
    socket.once("close", () => {
      clearTimeout(timer);
      resolve(performance.now() - start);
    });
    socket.resume();
  });
}

/** Upgrades a raw connection to a WebSocket at `path` on 127.0.0.1 `port`. */
export async function rawWebSocket(port: number, path = "/gotalk/"): Promise<RawWebSocket> {
  const socket = await dial(port);
  socket.on("error", () => {});
  const key = btoa("0123456789abcdef");
  socket.write(
    `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\n` +
      `Connection: Upgrade\r\nSec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n` +
      `Origin: http://127.0.0.1:${port}\r\n\r\n`,
  );
  const expected = createHash("sha1").update(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11")
    .digest("base64");
  let buffer = new Uint8Array(0);
  const append = (chunk: Uint8Array) => {
    const next = new Uint8Array(buffer.byteLength + chunk.byteLength);
    next.set(buffer);
    next.set(chunk, buffer.byteLength);
    buffer = next;
  };
  await new Promise<void>((resolve, reject) => {
    const onData = (chunk: Uint8Array) => {
      append(chunk);
      const text = new TextDecoder("latin1").decode(buffer);
      const end = text.indexOf("\r\n\r\n");
      if (end < 0) return;
      socket.off("data", onData);
      socket.off("close", onClose);
      socket.pause();
      const head = text.slice(0, end);
      buffer = buffer.subarray(end + 4);
      if (!head.startsWith("HTTP/1.1 101") || !head.includes(expected)) {
        reject(new Error(`The upgrade failed: ${head.split("\r\n")[0]}`));
      } else resolve();
    };
    const onClose = () => reject(new Error("The connection closed during the upgrade"));
    socket.on("data", onData);
    socket.once("close", onClose);
  });
  let code: number | null = null;
  let sentAt = performance.now();
  const parse = (answer: boolean) => {
    // Server frames are unmasked; only the close frame's code matters here.
    while (buffer.byteLength >= 2) {
      const opcode = buffer[0] & 0x0f;
      let n = buffer[1] & 0x7f;
      let at = 2;
      if (n === 126) {
        if (buffer.byteLength < 4) return;
        n = (buffer[2] << 8) | buffer[3];
        at = 4;
      } else if (n === 127) {
        if (buffer.byteLength < 10) return;
        n = Number(new DataView(buffer.buffer, buffer.byteOffset).getBigUint64(2));
        at = 10;
      }
      if (buffer.byteLength < at + n) return;
      const payload = buffer.subarray(at, at + n);
      buffer = buffer.subarray(at + n);
      if (opcode === 8 && code === null) {
        code = n >= 2 ? (payload[0] << 8) | payload[1] : 1005;
        if (answer && !socket.destroyed) {
          socket.write(
            encodeFrame({ opcode: 8, payload: n >= 2 ? payload.slice(0, 2) : undefined }),
          );
        }
      }
    }
  };
  return {
    socket,
    write(bytes) {
      sentAt = performance.now();
      socket.write(bytes);
    },
    outcome(guardMs, options) {
      const answer = options?.answerClose === true;
      return new Promise((resolve) => {
        const finish = (ended: boolean) => {
          clearTimeout(timer);
          socket.off("data", onData);
          resolve({ code, ended, endedAfterMs: ended ? performance.now() - sentAt : null });
        };
        const onData = (chunk: Uint8Array) => {
          append(chunk);
          parse(answer);
        };
        const timer = setTimeout(() => finish(false), guardMs);
        parse(answer);
        if (socket.destroyed) return finish(true);
        socket.on("data", onData);
        socket.once("close", () => finish(true));
        socket.resume();
      });
    },
    destroy() {
      socket.destroy();
    },
  };
}
