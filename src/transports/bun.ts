/**
 * TCP and TLS transports for Bun, built on Bun's own `Bun.connect` and `Bun.listen`.
 *
 * Reads are pulled: the socket is paused whenever 64 KiB wait unread and resumed when the
 * `readable` is read from. A write the kernel takes only part of keeps the rest and finishes it
 * on `drain`, so `writer.ready` reflects the kernel's backpressure. Sockets are half-open: closing
 * `writable` sends FIN (TLS: close_notify) and reading continues until the remote ends too. TLS
 * clients verify the server's certificate and name (`rejectUnauthorized` is always on).
 *
 * @example A peer on each end of a loopback connection
 * (Bun only: the doc tests run on Deno and skip it.)
 * ```ts ignore
 * import { Handlers, Peer } from "@gotalk/gotalk";
 * import { connect, listen } from "@gotalk/gotalk/bun";
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

import { ConnectError, ConnectionClosedError } from "../peer/errors.ts";
import { type ConnectPhase, toConnectError } from "./_connect_error.ts";
import type { Listener, Transport } from "../peer/transport.ts";
import type { ConnectOptions, ListenOptions } from "./socket_options.ts";
import { type Pending, pending, type SocketDriver, SocketDuplex } from "./_duplex.ts";
import { FdGuard } from "./_fd_guard.ts";
import { AcceptQueue } from "./_listener.ts";
import { connectParams, formatAddr, listenParams } from "./_socket_util.ts";

export type {
  ConnectOptions,
  ConnectTlsOptions,
  ListenOptions,
  ListenTlsOptions,
} from "./socket_options.ts";
export type { ListenAddr, Listener, Transport } from "../peer/transport.ts";
export { ConnectError } from "../peer/errors.ts";
export { spawn, stdio } from "./_stdio_bun.ts";
export type { ChildExit, ChildTransport, SpawnOptions } from "./stdio_options.ts";
export { startWorkers } from "./_workers_bun.ts";
export { workerIndex, workerReady } from "./_workers_util.ts";
export type { StartWorkersOptions, WorkerExit, WorkerProcess, Workers } from "./workers_options.ts";

// The few Bun APIs used, declared here so that the file also compiles without Bun's types.
interface BunSocket {
  data: BunDriver | undefined;
  readonly remoteAddress?: string;
  readonly remotePort?: number;
  readonly localAddress?: string;
  readonly localPort?: number;
  write(data: Uint8Array): number;
  shutdown(halfClose?: boolean): void;
  close(): void;
  terminate(): void;
  pause(): void;
  resume(): void;
  setNoDelay(noDelay?: boolean): boolean;
}
interface BunSocketHandler {
  binaryType: "uint8array";
  open(socket: BunSocket): void;
  handshake?(socket: BunSocket, success: boolean, authorizationError: Error | null): void;
  data(socket: BunSocket, data: Uint8Array): void;
  drain(socket: BunSocket): void;
  end(socket: BunSocket): void;
  close(socket: BunSocket, error?: Error): void;
  error(socket: BunSocket, error: Error): void;
  connectError?(socket: BunSocket, error: Error): void;
}
interface BunListener {
  readonly hostname: string;
  readonly port: number;
  stop(closeActiveConnections?: boolean): void;
}
interface BunLike {
  connect(options: {
    hostname: string;
    port: number;
    allowHalfOpen: boolean;
    socket: BunSocketHandler;
    tls?: { ca?: string[]; serverName?: string; rejectUnauthorized: boolean };
  }): Promise<BunSocket>;
  listen(options: {
    hostname: string;
    port: number;
    allowHalfOpen: boolean;
    reusePort: boolean;
    socket: BunSocketHandler;
    tls?: { cert: string; key: string };
  }): BunListener;
}

function bun(): BunLike {
  const value = (globalThis as unknown as { Bun?: BunLike }).Bun;
  if (value === undefined) throw new TypeError("This adapter needs the Bun runtime");
  return value;
}

/** Socket events shared by client and server sockets, routed to the socket's transport. */
const common = {
  binaryType: "uint8array",
  data(socket: BunSocket, data: Uint8Array): void {
    // Bun hands each `data` call a freshly allocated Uint8Array.
    socket.data?.duplex.push(data);
  },
  drain(socket: BunSocket): void {
    socket.data?.drain();
  },
  end(socket: BunSocket): void {
    socket.data?.duplex.pushEnd();
  },
  close(socket: BunSocket, error?: Error): void {
    socket.data?.duplex.finish(error);
  },
  error(socket: BunSocket, error: Error): void {
    socket.data?.duplex.finish(error);
  },
} as const;

/**
 * Connects over TCP, or TLS when `options.tls` is set, and resolves once connected (for TLS,
 * once the handshake succeeded and the certificate was verified).
 *
 * @param options Where to connect, TLS settings and an abort signal.
 * @returns The connection.
 * @throws {TypeError} If an option has the wrong type.
 * @throws {RangeError} If `port` is not an integer from 1 to 65535.
 *
 * The promise rejects with a {@linkcode ConnectError} when connecting or the TLS handshake fails
 * (its `code` is `ECONNREFUSED`, `ENOTFOUND`, `ETLS`, …; its `cause` is Bun's error, such as its
 * "Failed to connect"), and with the signal's reason when aborted.
 *
 * @example TLS with a private certificate authority
 * (Bun only: the doc tests run on Deno and skip it.)
 * ```ts ignore
 * import { Handlers, Peer, Server } from "@gotalk/gotalk";
 * import { connect, listen } from "@gotalk/gotalk/bun";
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
  const Bun = bun();
  const ca = tls?.caCerts === undefined ? undefined : [...await rootCertificates(), ...tls.caCerts];
  signal?.throwIfAborted();
  let settled = false;
  let resolveWith!: (socket: BunSocket) => void;
  let rejectWith!: (error: unknown) => void;
  const connected = new Promise<BunSocket>((resolve, reject) => {
    resolveWith = resolve;
    rejectWith = reject;
  });
  const succeed = (socket: BunSocket) => {
    settled = true;
    resolveWith(socket);
  };
  const reject = (error: unknown) => {
    settled = true;
    rejectWith(error);
  };
  const address = formatAddr(hostname, port);
  const fail = (error: unknown, phase: ConnectPhase) => {
    if (!settled) reject(toConnectError(address, error, phase));
  };
  const connecting = Bun.connect({
    hostname,
    port,
    allowHalfOpen: true,
    tls: tls === undefined
      ? undefined
      : { ca, serverName: tls.serverName, rejectUnauthorized: true },
    socket: {
      ...common,
      open(socket) {
        socket.data = new BunDriver(socket, tls !== undefined);
        if (tls === undefined) succeed(socket);
      },
      handshake: tls === undefined ? undefined : (socket, success, authorizationError) => {
        if (success) succeed(socket);
        else fail(authorizationError ?? undefined, "tls");
      },
      close(socket, error) {
        if (error !== undefined) fail(error, tls === undefined ? "tcp" : "tls");
        else if (!settled) {
          reject(new ConnectError(address, "ECONNRESET", "the connection closed while connecting"));
        }
        socket.data?.duplex.finish(error);
      },
      connectError(_socket, error) {
        fail(error, "tcp");
      },
    },
  });
  connecting.catch((error) => fail(error, "tcp"));
  const onAbort = () => reject(signal!.reason);
  signal?.addEventListener("abort", onAbort, { once: true });
  try {
    const socket = await connected;
    return (socket.data ??= new BunDriver(socket, tls !== undefined)).duplex;
  } catch (error) {
    connecting.then((socket) => socket.terminate(), () => {});
    throw error;
  } finally {
    signal?.removeEventListener("abort", onAbort);
  }
}

let roots: string[] | undefined;

/** Bun's default roots, which `ca` would otherwise replace. */
async function rootCertificates(): Promise<readonly string[]> {
  roots ??= [...(await import("node:tls")).rootCertificates];
  return roots;
}

/**
 * Listens for TCP connections, or TLS ones when `options.tls` is set. The socket is bound when
 * this returns; with `port: 0`, `addr.port` is the port picked.
 *
 * A TLS connection is handed out once its handshake succeeded; failed handshakes never reach
 * `accept()`. At most 128 accepted connections wait for `accept()`; more are closed at once.
 *
 * @param options Where to listen and TLS settings.
 * @returns The listener.
 * @throws {TypeError} If an option has the wrong type.
 * @throws {RangeError} If `port` is not an integer from 0 to 65535.
 * @throws {Error} Bun's error (such as `EADDRINUSE`) when it cannot listen.
 *
 * @example A server for every connection
 * (Bun only: the doc tests run on Deno and skip it.)
 * ```ts ignore
 * import { Handlers, Peer, Server } from "@gotalk/gotalk";
 * import { connect, listen } from "@gotalk/gotalk/bun";
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
  const queue = new AcceptQueue();
  queue.kind = tls === undefined ? "tcp" : "tls";
  // Set once listening; the callbacks only run later.
  const guarded: { guard?: FdGuard } = {};
  const listenOn = (port: number) =>
    bun().listen({
      hostname,
      port,
      allowHalfOpen: true,
      reusePort,
      tls: tls === undefined ? undefined : { cert: tls.cert, key: tls.key },
      socket: {
        ...common,
        open(socket) {
          if (queue.closed) {
            socket.terminate();
            return;
          }
          socket.data = new BunDriver(socket, tls !== undefined);
          guarded.guard?.accepted();
          if (tls === undefined) queue.push(socket.data.duplex);
        },
        // Called for TLS sockets only. A server does not ask for a client certificate, so only a
        // failed handshake (which also closes the socket) reports `success` false.
        handshake: tls === undefined ? undefined : (socket, success) => {
          if (!socket.data) return;
          if (success && !queue.closed) queue.push(socket.data.duplex);
          else socket.data.duplex.close();
        },
      },
    });
  const listener = listenOn(port);
  const stopper = (l: BunListener) => () => l.stop(false);
  // (Bun's `port` may read 0 once stopped: keep the one first bound.)
  const bound = { hostname: listener.hostname, port: listener.port };
  const fdGuard = new FdGuard(() => stopper(listenOn(bound.port)), stopper(listener));
  guarded.guard = fdGuard;
  queue.listening(bound, () => fdGuard.close());
  return queue;
}

/**
 * A socket as a push source: `data` chunks go to the readable (the socket is paused while
 * 64 KiB wait unread), and a write the kernel takes only part of keeps the rest and finishes it
 * on `drain`, so `writer.ready` reflects the kernel's backpressure.
 */
class BunDriver implements SocketDriver {
  readonly duplex: SocketDuplex;
  #socket: BunSocket;
  /** The part of a chunk the socket has not taken yet, and the write waiting for it. */
  #unsent: Uint8Array | undefined;
  #waiter: Pending | undefined;

  /** `tls`: the socket is read from the start, for its handshake (see `readEarly`). */
  constructor(socket: BunSocket, tls: boolean) {
    this.#socket = socket;
    // The driver is this object's methods (no closures of its own per connection).
    this.duplex = new SocketDuplex(this, {
      remoteAddr: formatAddr(socket.remoteAddress, socket.remotePort),
      localAddr: formatAddr(socket.localAddress, socket.localPort),
      readEarly: tls,
    });
    socket.setNoDelay(true);
  }

  write(chunk: Uint8Array): void | Promise<void> {
    const written = this.#socket.write(chunk);
    if (written === chunk.byteLength) return;
    if (written < 0) throw new ConnectionClosedError("The connection was closed");
    this.#unsent = chunk.subarray(written);
    this.#waiter = pending();
    return this.#waiter.promise;
  }

  end(): void {
    this.#socket.shutdown();
  }

  destroy(): void {
    this.#settle(this.duplex.error ?? new ConnectionClosedError("The connection was closed"));
    // A graceful close: data already written still goes out, then FIN (TLS: close_notify).
    this.#socket.close();
  }

  pause(): void {
    this.#socket.pause();
  }

  resume(): void {
    this.#socket.resume();
  }

  /** The socket can take more: send what is left of the waiting write. */
  drain(): void {
    const unsent = this.#unsent;
    if (unsent === undefined) return;
    const written = this.#socket.write(unsent);
    if (written === unsent.byteLength) this.#settle(undefined);
    else if (written < 0) this.#settle(new ConnectionClosedError("The connection was closed"));
    else this.#unsent = unsent.subarray(written);
  }

  #settle(error: Error | undefined): void {
    const waiter = this.#waiter;
    this.#waiter = this.#unsent = undefined;
    if (error) waiter?.reject(error);
    else waiter?.resolve();
  }
}
