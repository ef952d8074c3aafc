/**
 * TCP and TLS transports built on `node:net` and `node:tls`, for Node 20 and later; they also
 * work on Deno and Bun through their Node compatibility.
 *
 * Reads are pulled: the socket stays paused until the `readable` is read from, and pauses again
 * once 64 KiB wait unread. Writes wait for `'drain'` when the socket's buffer is full, so
 * `writer.ready` reflects the kernel's backpressure. Sockets are half-open: closing `writable`
 * sends FIN (TLS: close_notify) and reading continues until the remote ends too.
 *
 * @example A peer on each end of a loopback connection
 * ```ts
 * import { Handlers, Peer } from "@gotalk/gotalk";
 * import { connect, listen } from "@gotalk/gotalk/node";
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

import { connect as tcpConnect, createServer as createTcpServer, type Server } from "node:net";
import type { Socket } from "node:net";
import {
  connect as tlsConnect,
  type ConnectionOptions,
  createServer as createTlsServer,
  rootCertificates,
} from "node:tls";
import { ConnectionClosedError } from "../peer/errors.ts";
import { toConnectError } from "./_connect_error.ts";
import type { Listener, Transport } from "../peer/transport.ts";
import type { ConnectOptions, ListenOptions } from "./socket_options.ts";
import { type Pending, pending, SocketDuplex } from "./_duplex.ts";
import { guardNodeServer } from "./_fd_guard.ts";
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
export { spawn, stdio } from "./_stdio_node.ts";
export type { ChildExit, ChildTransport, SpawnOptions } from "./stdio_options.ts";
export { startWorkers } from "./_workers_node.ts";
export { workerIndex, workerReady } from "./_workers_util.ts";
export type { StartWorkersOptions, WorkerExit, WorkerProcess, Workers } from "./workers_options.ts";

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
 * (its `code` is `ECONNREFUSED`, `ENOTFOUND`, `ETLS`, …; its `cause` is the socket's error), and
 * with the signal's reason when aborted.
 *
 * @example TLS with a private certificate authority
 * ```ts
 * import { Handlers, Peer, Server } from "@gotalk/gotalk";
 * import { connect, listen } from "@gotalk/gotalk/node";
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
export function connect(options: ConnectOptions): Promise<Transport> {
  const { hostname, port, tls, signal } = connectParams(options);
  return new Promise<Transport>((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const socket = tls === undefined
      ? tcpConnect({ host: hostname, port, allowHalfOpen: true, noDelay: true })
      : tlsConnect(tlsConnectOptions(hostname, port, tls.serverName, tls.caCerts));
    const readyEvent = tls === undefined ? "connect" : "secureConnect";
    const cleanup = () => {
      socket.off(readyEvent, onReady);
      socket.off("error", onError);
      signal?.removeEventListener("abort", onAbort);
    };
    const onReady = () => {
      cleanup();
      resolve(nodeTransport(socket));
    };
    const onError = (error: Error) => {
      cleanup();
      socket.destroy();
      reject(toConnectError(formatAddr(hostname, port), error, tls === undefined ? "tcp" : "tls"));
    };
    const onAbort = () => {
      cleanup();
      socket.destroy();
      reject(signal!.reason);
    };
    socket.on(readyEvent, onReady);
    socket.on("error", onError);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

function tlsConnectOptions(
  host: string,
  port: number,
  servername: string | undefined,
  caCerts: string[] | undefined,
): ConnectionOptions {
  // `allowHalfOpen` is honoured by tls.connect, though missing from its option type.
  const options: ConnectionOptions & { allowHalfOpen: boolean } = {
    host,
    port,
    servername,
    // Node replaces its default roots with `ca`; keep them, as Deno does.
    ca: caCerts === undefined ? undefined : [...rootCertificates, ...caCerts],
    allowHalfOpen: true,
  };
  return options;
}

/**
 * Listens for TCP connections, or TLS ones when `options.tls` is set, and resolves once the
 * socket is bound; with `port: 0`, `addr.port` is the port picked. (Node binds asynchronously,
 * hence the promise; `await listen(…)` reads the same with every adapter.)
 *
 * A TLS connection is handed out once its handshake succeeded; failed handshakes never reach
 * `accept()`. At most 128 accepted connections wait for `accept()`; more are closed at once.
 *
 * @param options Where to listen and TLS settings.
 * @returns The listener.
 * @throws {TypeError} If an option has the wrong type.
 * @throws {RangeError} If `port` is not an integer from 0 to 65535.
 *
 * The promise rejects with the server's error (such as `EADDRINUSE`) when it cannot listen.
 *
 * @example A server for every connection
 * ```ts
 * import { Handlers, Peer, Server } from "@gotalk/gotalk";
 * import { connect, listen } from "@gotalk/gotalk/node";
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
export function listen(options: ListenOptions): Promise<Listener> {
  const { hostname, port, tls, reusePort } = listenParams(options);
  const queue = new AcceptQueue();
  queue.kind = tls === undefined ? "tcp" : "tls";
  const create = (): Server => {
    const server: Server = tls === undefined
      ? createTcpServer({ allowHalfOpen: true, noDelay: true })
      : createTlsServer({ cert: tls.cert, key: tls.key, allowHalfOpen: true, noDelay: true });
    server.on(tls === undefined ? "connection" : "secureConnection", (socket: Socket) => {
      queue.push(nodeTransport(socket));
    });
    return server;
  };
  const server = create();
  return new Promise<Listener>((resolve, reject) => {
    const onError = (error: Error) => {
      queue.close();
      reject(error);
    };
    server.once("error", onError);
    // `reusePort` is Node 22.12's; Node 20 ignores it (its workers share a port via cluster).
    server.listen({ host: hostname, port, ...(reusePort ? { reusePort } : {}) }, () => {
      server.off("error", onError);
      // From now on the server reports accept failures (such as EMFILE) here; they concern one
      // connection, not the listener, so the listener keeps going.
      server.on("error", () => {});
      const address = server.address();
      const addr = typeof address === "object" && address !== null
        ? { hostname: address.address, port: address.port }
        : { hostname: String(address), port: 0 };
      // On Deno and Bun, out of file descriptors, accept would spin or stop: see _fd_guard.ts.
      const guard = guardNodeServer(server, create, hostname, addr.port);
      queue.listening(addr, () => guard === null ? server.close() : guard.close());
      resolve(queue);
    });
  });
}

/** Where a socket's event listeners (shared functions, `this` is the socket) find its driver. */
const DRIVER: unique symbol = Symbol("gotalk.node.driver");
type DrivenSocket = Socket & { [DRIVER]: NodeDriver };

/**
 * A socket as a push source: `'data'` chunks go to the readable (the socket is paused while
 * 64 KiB wait unread), a write that fills the socket's buffer waits for `'drain'`, `end` for
 * `'finish'`. The driver is this object's methods and the listeners are shared functions, so an
 * idle connection keeps no closures of its own.
 */
class NodeDriver {
  readonly duplex: SocketDuplex;
  readonly #socket: Socket;
  #drained: Pending | undefined;
  #finished: Pending | undefined;
  readonly #remote: string | undefined;
  readonly #remotePort: number | undefined;
  readonly #local: string | undefined;
  readonly #localPort: number | undefined;

  constructor(socket: Socket) {
    this.#socket = socket;
    // Kept as they are (the socket forgets them once gone), formatted when first asked for.
    this.#remote = socket.remoteAddress;
    this.#remotePort = socket.remotePort;
    this.#local = socket.localAddress;
    this.#localPort = socket.localPort;
    this.duplex = new SocketDuplex(this);
  }

  address(local: boolean): string | undefined {
    return local
      ? formatAddr(this.#local, this.#localPort)
      : formatAddr(this.#remote, this.#remotePort);
  }

  write(chunk: Uint8Array): void | Promise<void> {
    if (this.#socket.write(chunk)) return;
    this.#drained = pending();
    return this.#drained.promise;
  }

  end(): Promise<void> {
    this.#finished = pending();
    this.#socket.end();
    return this.#finished.promise;
  }

  destroy(): void {
    const error = this.duplex.error ?? new ConnectionClosedError("The connection was closed");
    this.#drained?.reject(error);
    this.#finished?.reject(error);
    this.#drained = this.#finished = undefined;
    this.#socket.destroy();
  }

  pause(): void {
    this.#socket.pause();
  }

  resume(): void {
    this.#socket.resume();
  }

  drain(): void {
    const waiter = this.#drained;
    this.#drained = undefined;
    waiter?.resolve();
  }

  finishedWriting(): void {
    const waiter = this.#finished;
    this.#finished = undefined;
    waiter?.resolve();
  }
}

function onData(this: DrivenSocket, chunk: Uint8Array): void {
  // Each 'data' Buffer is a fresh allocation; hand it on as a plain Uint8Array view.
  this[DRIVER].duplex.push(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength));
}
function onEnd(this: DrivenSocket): void {
  this[DRIVER].duplex.pushEnd();
}
function onDrain(this: DrivenSocket): void {
  this[DRIVER].drain();
}
function onFinish(this: DrivenSocket): void {
  this[DRIVER].finishedWriting();
}
function onError(this: DrivenSocket, error: Error): void {
  this[DRIVER].duplex.finish(error);
}
function onClose(this: DrivenSocket): void {
  this[DRIVER].duplex.finish();
}

function nodeTransport(socket: Socket): Transport {
  const driver = new NodeDriver(socket);
  (socket as DrivenSocket)[DRIVER] = driver;
  // The socket is paused (by the duplex) before a 'data' listener exists, so nothing flows early.
  socket.setNoDelay(true);
  socket.on("data", onData);
  socket.on("end", onEnd);
  socket.on("drain", onDrain);
  socket.on("finish", onFinish);
  socket.on("error", onError);
  socket.on("close", onClose);
  return driver.duplex;
}
