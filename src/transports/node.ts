/**
 * TCP and TLS transports built on `node:net` and `node:tls`, for Node 20 and later; they also
 * work on Deno and Bun through their Node compatibility.
 *
 * Reads are pulled: the socket stays paused until the `readable` is read from, and pauses again
 * once 64 KiB wait unread. Writes wait for `'drain'` when the socket's buffer is full, so
 * `writer.ready` reflects the kernel's backpressure. Sockets are half-open: closing `writable`
 * sends FIN (TLS: close_notify) and reading continues until the remote ends too.
 *
 * @example A client and a server over loopback
 * ```ts
 * import { connect, listen } from "@gotalk/gotalk/node";
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

import { connect as tcpConnect, createServer as createTcpServer, type Server } from "node:net";
import type { Socket } from "node:net";
import {
  connect as tlsConnect,
  type ConnectionOptions,
  createServer as createTlsServer,
  rootCertificates,
} from "node:tls";
import { ConnectionClosedError } from "../peer/errors.ts";
import type { Transport } from "../peer/transport.ts";
import type { ListenAddr, Listener } from "../peer/transport.ts";
import type { ConnectOptions, ListenOptions } from "./socket_options.ts";
import {
  acceptAll,
  AcceptQueue,
  connectParams,
  formatAddr,
  listenParams,
  READ_HIGH_WATER_MARK,
} from "./_socket_util.ts";

export type {
  ConnectOptions,
  ConnectTlsOptions,
  ListenOptions,
  ListenTlsOptions,
} from "./socket_options.ts";
export type { ListenAddr, Listener } from "../peer/transport.ts";
export type { Transport } from "../peer/transport.ts";

/**
 * Connects over TCP, or TLS when `options.tls` is set, and resolves once connected (for TLS,
 * once the handshake succeeded and the certificate was verified).
 *
 * @param options Where to connect, TLS settings and an abort signal.
 * @returns The connection.
 * @throws {TypeError} If an option has the wrong type.
 * @throws {RangeError} If `port` is not an integer from 1 to 65535.
 *
 * The promise rejects with the socket's error (such as `ECONNREFUSED`) when connecting or the TLS
 * handshake fails, and with the signal's reason when aborted.
 *
 * @example Connecting with a timeout
 * ```ts ignore
 * import { connect } from "@gotalk/gotalk/node";
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
      resolve(new NodeTransport(socket));
    };
    const onError = (error: Error) => {
      cleanup();
      socket.destroy();
      reject(error);
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
 * @example Serving connections
 * ```ts
 * import { connect, listen } from "@gotalk/gotalk/node";
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
export function listen(options: ListenOptions): Promise<Listener> {
  const { hostname, port, tls } = listenParams(options);
  const server: Server = tls === undefined
    ? createTcpServer({ allowHalfOpen: true, noDelay: true })
    : createTlsServer({ cert: tls.cert, key: tls.key, allowHalfOpen: true, noDelay: true });
  const queue = new AcceptQueue();
  server.on(tls === undefined ? "connection" : "secureConnection", (socket: Socket) => {
    queue.push(new NodeTransport(socket));
  });
  return new Promise<Listener>((resolve, reject) => {
    const onError = (error: Error) => {
      queue.close();
      reject(error);
    };
    server.once("error", onError);
    server.listen({ host: hostname, port }, () => {
      server.off("error", onError);
      resolve(new NodeListener(server, queue));
    });
  });
}

class NodeListener implements Listener {
  readonly addr: ListenAddr;
  #server: Server;
  #queue: AcceptQueue;

  constructor(server: Server, queue: AcceptQueue) {
    this.#server = server;
    this.#queue = queue;
    const address = server.address();
    this.addr = typeof address === "object" && address !== null
      ? { hostname: address.address, port: address.port }
      : { hostname: String(address), port: 0 };
    // After listening succeeded the server reports accept failures (such as EMFILE) here; they
    // concern one connection, not the listener, so the listener keeps going.
    server.on("error", () => {});
  }

  accept(): Promise<Transport | null> {
    return this.#queue.accept();
  }

  close(): void {
    if (this.#queue.closed) return;
    this.#queue.close();
    this.#server.close();
  }

  [Symbol.asyncIterator](): AsyncIterator<Transport> {
    return acceptAll(() => this.accept());
  }
}

interface Waiter {
  resolve(): void;
  reject(error: Error): void;
}

class NodeTransport implements Transport {
  readonly readable: ReadableStream<Uint8Array>;
  readonly writable: WritableStream<Uint8Array>;
  readonly remoteAddr: string;
  #socket: Socket;
  #readController!: ReadableStreamDefaultController<Uint8Array>;
  #writeController!: WritableStreamDefaultController;
  #readDone = false;
  #writeDone = false;
  #closed = false;
  #error: Error | undefined;
  /** A write waiting for `'drain'`. */
  #drained: Waiter | undefined;
  /** `end()` waiting for `'finish'`. */
  #finished: Waiter | undefined;

  constructor(socket: Socket) {
    this.#socket = socket;
    this.remoteAddr = formatAddr(socket.remoteAddress, socket.remotePort);
    // Paused before any 'data' listener exists, so nothing flows until the readable pulls.
    socket.pause();
    socket.setNoDelay(true);
    socket.on("error", (error) => this.#fail(error));
    socket.on("close", () => this.#fail(undefined));
    socket.on("drain", () => {
      const drained = this.#drained;
      this.#drained = undefined;
      drained?.resolve();
    });
    socket.on("finish", () => {
      this.#writeDone = true;
      const finished = this.#finished;
      this.#finished = undefined;
      finished?.resolve();
      this.#releaseIfDone();
    });
    this.readable = new ReadableStream<Uint8Array>(
      {
        start: (controller) => {
          this.#readController = controller;
          socket.on("data", (chunk: Uint8Array) => {
            if (this.#readDone) return;
            // Each 'data' Buffer is a fresh allocation; hand it on as a plain Uint8Array view.
            controller.enqueue(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength));
            if ((controller.desiredSize ?? 0) <= 0) socket.pause();
          });
          socket.on("end", () => {
            if (this.#readDone) return;
            this.#readDone = true;
            controller.close();
            this.#releaseIfDone();
          });
        },
        pull: () => {
          if (!this.#readDone) socket.resume();
        },
        cancel: () => {
          this.#readDone = true;
          socket.pause();
          this.#releaseIfDone();
        },
      },
      new ByteLengthQueuingStrategy({ highWaterMark: READ_HIGH_WATER_MARK }),
    );
    this.writable = new WritableStream<Uint8Array>({
      start: (controller) => {
        this.#writeController = controller;
        // An abort waits for the write in flight; destroying the socket ends that write.
        // (Erroring the controller here would make `abort()` reject.)
        controller.signal.addEventListener("abort", () => {
          this.#writeDone = true;
          this.close();
        });
      },
      write: (chunk) => {
        if (this.#closed || this.#error) throw this.#closedError();
        if (socket.write(chunk)) return;
        return new Promise<void>((resolve, reject) => this.#drained = { resolve, reject });
      },
      close: () => {
        if (this.#closed || this.#error) throw this.#closedError();
        const ended = new Promise<void>((resolve, reject) => this.#finished = { resolve, reject });
        socket.end();
        return ended;
      },
      abort: () => this.close(),
    });
  }

  #closedError(): Error {
    return this.#error ?? new ConnectionClosedError("The connection was closed");
  }

  /** The socket errored (`error`) or closed (`undefined`): end both streams. */
  #fail(error: Error | undefined): void {
    if (error) this.#error ??= error;
    const reason = this.#closedError();
    for (const waiter of [this.#drained, this.#finished]) waiter?.reject(reason);
    this.#drained = this.#finished = undefined;
    if (!this.#readDone) {
      this.#readDone = true;
      if (error) this.#readController.error(error);
      else this.#readController.close();
    }
    if (!this.#writeDone) {
      this.#writeDone = true;
      this.#writeController.error(reason);
    }
    if (error) this.close();
  }

  #releaseIfDone(): void {
    if (this.#readDone && this.#writeDone) this.close();
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#fail(undefined);
    this.#socket.destroy();
  }
}
