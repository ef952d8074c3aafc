/**
 * TCP and TLS transports for Deno, built on `Deno.connect`, `Deno.listen`, `Deno.startTls` and
 * `Deno.listenTls`.
 *
 * Unlike the streams of a bare `Deno.Conn`, whose `writable.close()` and end-of-stream on
 * `readable` close the whole connection, these transports half-close: closing `writable` sends
 * FIN (TLS: close_notify) and the other direction stays open until it ends too. An idle
 * connection reads into 64 B; once a read fills it, reads are 4 KiB and double, up to 256 KiB,
 * while they fill their buffer; a large read is handed over as a
 * view and the next read fills the rest of that buffer, while a short read is copied out so that
 * small chunks do not pin a large buffer.
 *
 * @example A peer on each end of a loopback connection
 * ```ts
 * import { Handlers, Peer } from "@gotalk/gotalk";
 * import { connect, listen } from "@gotalk/gotalk/deno";
 * import assert from "node:assert/strict";
 *
 * const listener = await listen({ hostname: "127.0.0.1", port: 0 });
 * const client = new Peer(await connect({ port: listener.addr.port }));
 * const server = new Peer((await listener.accept())!, {
 *   handlers: new Handlers().handle("upper", (s: string) => s.toUpperCase()),
 * });
 * assert.equal(await client.request("upper", "hi"), "HI");
 * assert.equal(client.remoteAddr, `127.0.0.1:${listener.addr.port}`);
 * await client.close();
 * await server.closed;
 * listener.close();
 * ```
 *
 * @module
 */

import { ConnectionClosedError } from "../peer/errors.ts";
import { toConnectError } from "./_connect_error.ts";
import type { Listener, Transport } from "../peer/transport.ts";
import type { ConnectOptions, ListenOptions } from "./socket_options.ts";
import { SocketDuplex } from "./_duplex.ts";
import { AcceptQueue } from "./_listener.ts";
import { closeQuietly, connectParams, formatAddr, listenParams } from "./_socket_util.ts";

export type {
  ConnectOptions,
  ConnectTlsOptions,
  ListenOptions,
  ListenTlsOptions,
} from "./socket_options.ts";
export type { ListenAddr, Listener, Transport } from "../peer/transport.ts";
export { ConnectError } from "../peer/errors.ts";
export { spawn, stdio } from "./_stdio_deno.ts";
export type { ChildExit, ChildTransport, SpawnOptions } from "./stdio_options.ts";
export { startWorkers } from "./_workers_deno.ts";
export { workerIndex, workerReady } from "./_workers_util.ts";
export type { StartWorkersOptions, WorkerExit, WorkerProcess, Workers } from "./workers_options.ts";

// The few Deno APIs used, declared here so that the file also compiles without Deno's types.
interface DenoAddr {
  hostname?: string;
  port?: number;
}
interface DenoConn {
  readonly localAddr: DenoAddr;
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
  listen(options: { hostname: string; port: number; reusePort?: boolean }): DenoListener;
  listenTls(
    options: { hostname: string; port: number; cert: string; key: string; reusePort?: boolean },
  ): DenoListener;
}

function deno(): DenoLike {
  const value = (globalThis as unknown as { Deno?: DenoLike }).Deno;
  if (value === undefined) throw new TypeError("This adapter needs the Deno runtime");
  return value;
}

/**
 * Connects over TCP, or TLS when `options.tls` is set, and resolves once connected (for TLS,
 * once the handshake succeeded).
 *
 * @param options Where to connect, TLS settings and an abort signal.
 * @returns The connection.
 * @throws {TypeError} If an option has the wrong type.
 * @throws {RangeError} If `port` is not an integer from 1 to 65535.
 *
 * The promise rejects with a {@linkcode ConnectError} when connecting or the TLS handshake fails
 * (its `code` is `ECONNREFUSED`, `ENOTFOUND`, `ETLS`, …; its `cause` is Deno's error, such as a
 * `Deno.errors.ConnectionRefused`), and with the signal's reason when aborted.
 *
 * @example TLS with a private certificate authority
 * ```ts
 * import { Handlers, Peer, Server } from "@gotalk/gotalk";
 * import { connect, listen } from "@gotalk/gotalk/deno";
 * import { readFileSync } from "node:fs";
 * import assert from "node:assert/strict";
 *
 * // A self-signed certificate for localhost and 127.0.0.1, and its key.
 * const cert = readFileSync(new URL("./testdata/cert.pem", import.meta.url), "utf8");
 * const key = readFileSync(new URL("./testdata/key.pem", import.meta.url), "utf8");
 * const listener = await listen({ hostname: "127.0.0.1", port: 0, tls: { cert, key } });
 * const server = new Server(listener, { handlers: new Handlers().handle("ping", () => "pong") });
 * const tls = { caCerts: [cert], serverName: "localhost" };
 * const transport = await connect({ port: server.addr.port, tls, signal: AbortSignal.timeout(5000) });
 * const client = new Peer(transport);
 * assert.equal(await client.request("ping"), "pong");
 * await client.close();
 * await server.close();
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
    throw signal?.aborted
      ? signal.reason
      : toConnectError(formatAddr(hostname, port), error, "tcp");
  }
  tcp.setNoDelay?.(true);
  if (tls === undefined) {
    if (signal?.aborted) {
      closeQuietly(tcp);
      throw signal.reason;
    }
    return denoTransport(tcp);
  }
  let conn = tcp;
  const onAbort = () => closeQuietly(conn);
  signal?.addEventListener("abort", onAbort, { once: true });
  try {
    conn = await Deno.startTls(tcp, { hostname: tls.serverName ?? hostname, caCerts: tls.caCerts });
    await conn.handshake?.();
    signal?.throwIfAborted();
    return denoTransport(conn);
  } catch (error) {
    closeQuietly(conn);
    throw signal?.aborted
      ? signal.reason
      : toConnectError(formatAddr(hostname, port), error, "tls");
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
 * @example A server for every connection
 * ```ts
 * import { Handlers, Peer, Server } from "@gotalk/gotalk";
 * import { connect, listen } from "@gotalk/gotalk/deno";
 * import assert from "node:assert/strict";
 *
 * const handlers = new Handlers().handle("add", ([x, y]: number[]) => x + y);
 * const server = new Server(await listen({ hostname: "127.0.0.1", port: 0 }), { handlers });
 * const client = new Peer(await connect({ port: server.addr.port }));
 * assert.equal(await client.request("add", [2, 3]), 5);
 * await client.close();
 * await server.close();
 * ```
 */
// Async like node.ts (Node binds asynchronously), so code moves between runtimes unchanged.
// deno-lint-ignore require-await
export async function listen(options: ListenOptions): Promise<Listener> {
  const { hostname, port, tls, reusePort } = listenParams(options);
  const Deno = deno();
  // Only when asked: Deno refuses the (unstable) option without `--unstable-net`.
  const where = reusePort ? { hostname, port, reusePort } : { hostname, port };
  const listener = tls === undefined
    ? Deno.listen(where)
    : Deno.listenTls({ ...where, cert: tls.cert, key: tls.key });
  const queue = new AcceptQueue(
    { hostname: listener.addr.hostname ?? "", port: listener.addr.port ?? 0 },
    () => closeQuietly(listener),
    async () => {
      const conn = await listener.accept();
      conn.setNoDelay?.(true);
      return denoTransport(conn);
    },
  );
  queue.kind = tls === undefined ? "tcp" : "tls";
  return queue;
}

/**
 * A connection as a pull source: reads go straight to `conn.read` (see the module docs for
 * their sizes), `end` half-closes, `destroy` closes (which fails a write in flight). A class, so
 * that an idle connection keeps one small object rather than a closure per method.
 */
class DenoDriver {
  readonly #conn: DenoConn;
  #destroyed = false;

  constructor(conn: DenoConn) {
    this.#conn = conn;
  }

  read(into: Uint8Array): Promise<number | null> {
    return this.#conn.read(into);
  }

  async write(chunk: Uint8Array): Promise<void> {
    try {
      for (let offset = 0; offset < chunk.byteLength;) {
        offset += await this.#conn.write(chunk.subarray(offset));
      }
    } catch (error) {
      // Closing the connection is what failed the write.
      throw this.#destroyed ? new ConnectionClosedError("The connection was closed") : error;
    }
  }

  end(): Promise<void> {
    return this.#conn.closeWrite();
  }

  destroy(): void {
    this.#destroyed = true;
    closeQuietly(this.#conn);
  }

  // (A Deno.Conn keeps its addresses once closed.)
  address(local: boolean): string | undefined {
    const addr = local ? this.#conn.localAddr : this.#conn.remoteAddr;
    return formatAddr(addr.hostname, addr.port);
  }
}

function denoTransport(conn: DenoConn): Transport {
  return new SocketDuplex(new DenoDriver(conn));
}
