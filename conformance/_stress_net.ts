/**
 * The stress harness's wire side: raw Gotalk connections over `node:net` (which Deno, Bun and
 * Node all have, and which can reset a socket), sending frames as bytes and decoding what comes
 * back with our codec.
 *
 * @module
 */
import { connect, type Socket } from "node:net";
import { Buffer } from "node:buffer";
import {
  encodeHandshake,
  encodeMessage,
  type Message,
  MessageDecoder,
} from "../src/protocol/mod.ts";

const enc = new TextEncoder();

/** A `r` request frame. */
export function request(id: number, op: string, payload: Uint8Array | string): Uint8Array {
  const p = typeof payload === "string" ? enc.encode(payload) : payload;
  return encodeMessage({ type: "r", id, name: op, payload: p });
}

/** Opens a TCP connection to 127.0.0.1:`port` (bounded: 10 s). */
export function openSocket(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = connect({ host: "127.0.0.1", port });
    const timer = setTimeout(() => {
      s.destroy();
      reject(new Error(`connect to ${port}: no answer within 10 s`));
    }, 10_000);
    s.once("connect", () => {
      clearTimeout(timer);
      s.removeListener("error", reject);
      s.on("error", () => {}); // resets are expected; `closed` reports the end
      resolve(s);
    });
    s.once("error", (e) => {
      clearTimeout(timer);
      reject(e);
    });
  });
}

/** A raw Gotalk connection: write bytes, see the decoded frames the server sends. */
export class RawConn {
  readonly socket: Socket;
  /** Decoded frames, in order (payloads are not kept past `keepPayloads` bytes). */
  readonly frames: Message[] = [];
  /** Bytes received. */
  received = 0;
  /** When the server closed the connection (performance.now()), once it did. */
  closedAt: number | undefined;
  /** A protocol error the server's bytes caused in our decoder, if any. */
  decodeError: unknown;
  readonly closed: Promise<void>;
  #decoder = new MessageDecoder({ handshake: true, maxPayloadBytes: 0xffffffff });
  #waiters: Array<() => void> = [];

  constructor(socket: Socket) {
    this.socket = socket;
    this.closed = new Promise((resolve) =>
      socket.once("close", () => {
        this.closedAt = performance.now();
        this.#wake();
        resolve();
      })
    );
    socket.on("data", (d: Buffer) => {
      this.received += d.length;
      try {
        this.#decoder.push(new Uint8Array(d), (m) => this.frames.push(m));
      } catch (e) {
        this.decodeError ??= e;
      }
      this.#wake();
    });
  }

  /** Connects and sends the handshake. */
  static async open(port: number): Promise<RawConn> {
    const c = new RawConn(await openSocket(port));
    c.write(encodeHandshake());
    return c;
  }

  #wake(): void {
    const w = this.#waiters;
    this.#waiters = [];
    for (const f of w) f();
  }

  /** Writes bytes; resolves when the socket took them (or failed). */
  write(bytes: Uint8Array | string): Promise<void> {
    return new Promise((resolve) => {
      this.socket.write(typeof bytes === "string" ? bytes : Buffer.from(bytes), () => resolve());
    });
  }

  /** Waits (bounded by `maxMs`, a hang guard) until `cond()` holds or the socket closed. */
  async until(cond: () => boolean, maxMs: number, what: string): Promise<void> {
    const deadline = performance.now() + maxMs;
    while (!cond()) {
      if (this.closedAt !== undefined) throw new Error(`${what}: the connection closed first`);
      const left = deadline - performance.now();
      if (left <= 0) throw new Error(`${what}: not within ${maxMs} ms`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, Math.min(left, 1000));
        this.#waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  /** Waits (bounded) until the server closed the connection; `false` if it did not in time. */
  async closedWithin(maxMs: number): Promise<boolean> {
    let t: ReturnType<typeof setTimeout> | undefined;
    const r = await Promise.race([
      this.closed.then(() => true),
      new Promise<boolean>((resolve) => t = setTimeout(() => resolve(false), maxMs)),
    ]);
    clearTimeout(t);
    return r;
  }

  /** The frames with request id `id`. */
  byId(id: number): Message[] {
    return this.frames.filter((f) => "id" in f && f.id === id);
  }

  /** Sends an `echo` request and waits (bounded) for its result; resolves with the ms it took. */
  async echo(id: number, maxMs = 30_000): Promise<number> {
    const t0 = performance.now();
    const before = this.frames.length;
    await this.write(request(id, "echo", "ping"));
    await this.until(
      () => this.frames.slice(before).some((f) => f.type === "R" && f.id === id),
      maxMs,
      `echo ${id}`,
    );
    return performance.now() - t0;
  }

  /** Closes with a TCP reset (an abrupt disconnect). */
  reset(): void {
    // deno-lint-ignore no-explicit-any
    const s = this.socket as any;
    if (typeof s.resetAndDestroy === "function") s.resetAndDestroy();
    else s.destroy();
  }
}
