/**
 * TCP and TLS transports for Deno, built on `Deno.connect`, `Deno.listen`, `Deno.startTls` and
 * `Deno.listenTls`.
 *
 * Unlike the streams of a bare `Deno.Conn`, whose `writable.close()` and end-of-stream on
 * `readable` close the whole connection, these transports half-close: closing `writable` sends
 * FIN (TLS: close_notify) and the other direction stays open until it ends too. Reads start at
 * 4 KiB and double, up to 256 KiB, while they fill their buffer; a large read is handed over as a
 * view and the next read fills the rest of that buffer, while a short read is copied out so that
 * small chunks do not pin a large buffer.
 *
 * @example A client and a server over loopback
 * ```ts
 * import { connect, listen } from "@gotalk/gotalk/deno";
 * import assert from "node:assert/strict";
 *
 * const listener = await listen({ hostname: "127.0.0.1", port: 0 });
 * const client = await connect({ port: listener.addr.port });
 * const server = (await listener.accept())!;
 * const writer = client.writable.getWriter();
 * await writer.write(new TextEncoder().encode("hi"));
 * await writer.close();
 * const reader = server.readable.getReader();
 * assert.equal(new TextDecoder().decode((await reader.read()).value), "hi");
 * client.close?.();
 * server.close?.();
 * listener.close();
 * ```
 *
 * @module
 */

import { ConnectionClosedError } from "../peer/errors.ts";
import type { Transport } from "../peer/transport.ts";
import type { ListenAddr, Listener } from "../peer/transport.ts";
import type { ConnectOptions, ListenOptions } from "./socket_options.ts";
import { acceptAll, connectParams, formatAddr, listenParams } from "./_socket_util.ts";

export type {
  ConnectOptions,
  ConnectTlsOptions,
  ListenOptions,
  ListenTlsOptions,
} from "./socket_options.ts";
export type { ListenAddr, Listener } from "../peer/transport.ts";
export type { Transport } from "../peer/transport.ts";

// The few Deno APIs used, declared here so that the file also compiles without Deno's types.
interface DenoAddr {
  hostname?: string;
  port?: number;
}
interface DenoConn {
  readonly remoteAddr: DenoAddr;
  read(p: Uint8Array): Promise<number | null>;
  write(p: Uint8Array): Promise<number>;
  closeWrite(): Promise<void>;
  close(): void;
  setNoDelay?(noDelay?: boolean): void;
  handshake?(): Promise<unknown>;
}
interface DenoListener {
  readonly addr: DenoAddr;
  accept(): Promise<DenoConn>;
  close(): void;
}
interface DenoLike {
  connect(options: { hostname: string; port: number; signal?: AbortSignal }): Promise<DenoConn>;
  startTls(conn: DenoConn, options: { hostname: string; caCerts?: string[] }): Promise<DenoConn>;
  listen(options: { hostname: string; port: number }): DenoListener;
  listenTls(options: { hostname: string; port: number; cert: string; key: string }): DenoListener;
}

function deno(): DenoLike {
  const value = (globalThis as unknown as { Deno?: DenoLike }).Deno;
  if (value === undefined) throw new TypeError("This adapter needs the Deno runtime");
  return value;
}

/** The first read size, and the smallest: what an idle connection's pending read holds. */
const MIN_READ = 4 * 1024;
/** The largest read size, reached by doubling while reads fill their buffer. */
const MAX_READ = 256 * 1024;
/** Reads shorter than this are copied out of the read buffer, which is then reused. */
const COPY_BELOW = 4 * 1024;

/**
 * Connects over TCP, or TLS when `options.tls` is set, and resolves once connected (for TLS,
 * once the handshake succeeded).
 *
 * @param options Where to connect, TLS settings and an abort signal.
 * @returns The connection.
 * @throws {TypeError} If an option has the wrong type.
 * @throws {RangeError} If `port` is not an integer from 1 to 65535.
 *
 * The promise rejects with Deno's error (an `Error`, such as `Deno.errors.ConnectionRefused`) when
 * connecting or the TLS handshake fails, and with the signal's reason when aborted.
 *
 * @example Connecting over TLS
 * ```ts ignore
 * import { connect } from "@gotalk/gotalk/deno";
 *
 * const transport = await connect({
 *   hostname: "example.com",
 *   port: 4000,
 *   tls: {},
 *   signal: AbortSignal.timeout(5000),
 * });
 * transport.close?.();
 * ```
 */
export async function connect(options: ConnectOptions): Promise<Transport> {
  const { hostname, port, tls, signal } = connectParams(options);
  const Deno = deno();
  signal?.throwIfAborted();
  let tcp: DenoConn;
  try {
    tcp = await Deno.connect({ hostname, port, signal });
  } catch (error) {
    throw signal?.aborted ? signal.reason : error;
  }
  tcp.setNoDelay?.(true);
  if (tls === undefined) {
    if (signal?.aborted) {
      closeQuietly(tcp);
      throw signal.reason;
    }
    return new DenoTransport(tcp);
  }
  let conn = tcp;
  const onAbort = () => closeQuietly(conn);
  signal?.addEventListener("abort", onAbort, { once: true });
  try {
    conn = await Deno.startTls(tcp, { hostname: tls.serverName ?? hostname, caCerts: tls.caCerts });
    await conn.handshake?.();
    signal?.throwIfAborted();
    return new DenoTransport(conn);
  } catch (error) {
    closeQuietly(conn);
    throw signal?.aborted ? signal.reason : error;
  } finally {
    signal?.removeEventListener("abort", onAbort);
  }
}

/**
 * Listens for TCP connections, or TLS ones when `options.tls` is set. The socket is bound when
 * this returns; with `port: 0`, `addr.port` is the port picked.
 *
 * A TLS handshake happens on the accepted connection's first read or write, so one slow or failed
 * client never holds up `accept()`; its failure errors that connection's streams.
 *
 * @param options Where to listen and TLS settings.
 * @returns The listener.
 * @throws {TypeError} If an option has the wrong type.
 * @throws {RangeError} If `port` is not an integer from 0 to 65535.
 * @throws {Error} Deno's error (such as `Deno.errors.AddrInUse`) when it cannot listen.
 *
 * @example Serving connections
 * ```ts
 * import { connect, listen } from "@gotalk/gotalk/deno";
 * import assert from "node:assert/strict";
 *
 * const listener = await listen({ port: 0 });
 * const served = (async () => {
 *   let count = 0;
 *   for await (const transport of listener) {
 *     transport.close?.();
 *     count++;
 *   }
 *   return count;
 * })();
 * const client = await connect({ port: listener.addr.port });
 * const reader = client.readable.getReader();
 * assert.equal((await reader.read()).done, true);
 * client.close?.();
 * listener.close();
 * assert.equal(await served, 1);
 * ```
 */
// Async like node.ts (Node binds asynchronously), so code moves between runtimes unchanged.
// deno-lint-ignore require-await
export async function listen(options: ListenOptions): Promise<Listener> {
  const { hostname, port, tls } = listenParams(options);
  const Deno = deno();
  const listener = tls === undefined
    ? Deno.listen({ hostname, port })
    : Deno.listenTls({ hostname, port, cert: tls.cert, key: tls.key });
  return new DenoTcpListener(listener);
}

function closeQuietly(closable: { close(): void }): void {
  try {
    closable.close();
  } catch {
    // Already closed: nothing left to release.
  }
}

class DenoTcpListener implements Listener {
  readonly addr: ListenAddr;
  #listener: DenoListener;
  #closed = false;
  #tail: Promise<unknown> = Promise.resolve();

  constructor(listener: DenoListener) {
    this.#listener = listener;
    this.addr = { hostname: listener.addr.hostname ?? "", port: listener.addr.port ?? 0 };
  }

  accept(): Promise<Transport | null> {
    // Deno allows one pending accept per listener: queue concurrent calls.
    const next = this.#tail.then(() => this.#acceptOne());
    this.#tail = next.catch(() => {});
    return next;
  }

  async #acceptOne(): Promise<Transport | null> {
    if (this.#closed) return null;
    let conn: DenoConn;
    try {
      conn = await this.#listener.accept();
    } catch (error) {
      if (this.#closed) return null;
      throw error;
    }
    if (this.#closed) {
      closeQuietly(conn);
      return null;
    }
    conn.setNoDelay?.(true);
    return new DenoTransport(conn);
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    closeQuietly(this.#listener);
  }

  [Symbol.asyncIterator](): AsyncIterator<Transport> {
    return acceptAll(() => this.accept());
  }
}

class DenoTransport implements Transport {
  readonly readable: ReadableStream<Uint8Array>;
  readonly writable: WritableStream<Uint8Array>;
  readonly remoteAddr: string;
  #conn: DenoConn;
  #readController!: ReadableStreamDefaultController<Uint8Array>;
  #writeController!: WritableStreamDefaultController;
  #readDone = false;
  #writeDone = false;
  #closed = false;
  /** Where the next read goes: a fresh buffer, or the unused tail of the last one. */
  #buffer: Uint8Array | undefined;
  #readSize = MIN_READ;

  constructor(conn: DenoConn) {
    this.#conn = conn;
    this.remoteAddr = formatAddr(conn.remoteAddr.hostname, conn.remoteAddr.port);
    this.readable = new ReadableStream<Uint8Array>({
      start: (controller) => {
        this.#readController = controller;
      },
      pull: () => this.#pull(),
      cancel: () => {
        this.#readDone = true;
        this.#releaseIfDone();
      },
    });
    this.writable = new WritableStream<Uint8Array>({
      start: (controller) => {
        this.#writeController = controller;
        // An abort waits for the write in flight; closing the connection ends that write.
        // (Erroring the controller here would make `abort()` reject.)
        controller.signal.addEventListener("abort", () => {
          this.#writeDone = true;
          this.close();
        });
      },
      write: (chunk) => this.#write(chunk),
      close: () => this.#closeWrite(),
      abort: () => this.close(),
    });
  }

  async #pull(): Promise<void> {
    let buffer = this.#buffer;
    if (buffer === undefined || buffer.length < this.#readSize >> 1) {
      buffer = new Uint8Array(this.#readSize);
    }
    this.#buffer = undefined;
    let n: number | null;
    try {
      n = await this.#conn.read(buffer);
    } catch (error) {
      if (this.#readDone) return;
      this.#readDone = true;
      if (this.#closed) {
        this.#readController.close();
      } else {
        this.#readController.error(error);
        this.close();
      }
      return;
    }
    if (this.#readDone) return;
    if (n === null) {
      this.#readDone = true;
      this.#readController.close();
      this.#releaseIfDone();
      return;
    }
    // Read more at once while reads fill their buffer; less once they stay small.
    if (n === buffer.length) this.#readSize = Math.min(this.#readSize * 2, MAX_READ);
    else if (n < this.#readSize >> 3) this.#readSize = Math.max(this.#readSize >> 1, MIN_READ);
    if (n < COPY_BELOW) {
      // A small chunk must not pin a large buffer: copy it out and read into the buffer again.
      this.#readController.enqueue(buffer.slice(0, n));
      this.#buffer = buffer;
    } else {
      // Handed over as a view; the next read fills the rest of the buffer, which is never
      // written twice, so chunks already handed over stay intact.
      this.#readController.enqueue(buffer.subarray(0, n));
      if (buffer.length - n >= MIN_READ) this.#buffer = buffer.subarray(n);
    }
  }

  async #write(chunk: Uint8Array): Promise<void> {
    try {
      for (let offset = 0; offset < chunk.byteLength;) {
        offset += await this.#conn.write(chunk.subarray(offset));
      }
    } catch (error) {
      throw this.#closed ? new ConnectionClosedError("The connection was closed") : error;
    }
  }

  async #closeWrite(): Promise<void> {
    try {
      await this.#conn.closeWrite();
    } catch (error) {
      throw this.#closed ? new ConnectionClosedError("The connection was closed") : error;
    }
    this.#writeDone = true;
    this.#releaseIfDone();
  }

  #releaseIfDone(): void {
    if (this.#readDone && this.#writeDone && !this.#closed) {
      this.#closed = true;
      closeQuietly(this.#conn);
    }
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    if (!this.#readDone) {
      this.#readDone = true;
      this.#readController.close();
    }
    if (!this.#writeDone) {
      this.#writeDone = true;
      this.#writeController.error(new ConnectionClosedError("The connection was closed"));
    }
    closeQuietly(this.#conn);
  }
}
