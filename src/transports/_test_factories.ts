/**
 * Connection factories for the behaviour suites: each makes a connected client/server pair of
 * {@linkcode Transport}s over one transport (in-memory pipe, this runtime's TCP adapter, TLS,
 * and on Deno and Bun also the `node:net` adapter). Test-only.
 *
 * @module
 */

import { readFileSync } from "node:fs";
import type { Transport } from "../peer/transport.ts";
import type { Listener } from "../peer/transport.ts";
import { pipePair } from "./pipe.ts";
import type { ConnectOptions, ListenOptions } from "./socket_options.ts";

/** A connected pair from a factory. */
export interface ConnectionPair {
  client: Transport;
  server: Transport;
  /** Closes both transports and the listener, if any. */
  close(): Promise<void>;
}

/** The `connect`/`listen` pair every socket adapter exports. */
export interface SocketAdapter {
  connect(options: ConnectOptions): Promise<Transport>;
  listen(options: ListenOptions): Promise<Listener>;
}

/** Makes connected pairs over one kind of transport. */
export interface ConnectionFactory {
  name: string;
  pair(): Promise<ConnectionPair>;
  /** For socket transports: listens on 127.0.0.1, a free port, with the factory's TLS setup. */
  listen?(): Promise<Listener>;
  /** For socket transports: connects to 127.0.0.1 `port` with the factory's TLS setup. */
  connect?(port: number, signal?: AbortSignal): Promise<Transport>;
  /** For socket transports: the adapter module. */
  adapter?: SocketAdapter;
}

/** The runtime the tests run on. */
export function runtimeName(): "deno" | "bun" | "node" {
  const g = globalThis as { Bun?: unknown; Deno?: unknown };
  if (g.Bun !== undefined) return "bun";
  if (g.Deno !== undefined) return "deno";
  return "node";
}

/** The test certificate (for `localhost` and `127.0.0.1`) and its key, as PEM. */
export function testCertificate(): { cert: string; key: string } {
  const dir = new URL("./testdata/", import.meta.url);
  return {
    cert: readFileSync(new URL("cert.pem", dir), "utf8"),
    key: readFileSync(new URL("key.pem", dir), "utf8"),
  };
}

function socketFactory(name: string, adapter: SocketAdapter, tls: boolean): ConnectionFactory {
  const { cert, key } = testCertificate();
  const listen = async () =>
    await adapter.listen({
      hostname: "127.0.0.1",
      port: 0,
      tls: tls ? { cert, key } : undefined,
    });
  const connect = (port: number, signal?: AbortSignal) =>
    adapter.connect({
      hostname: "127.0.0.1",
      port,
      tls: tls ? { caCerts: [cert] } : undefined,
      signal,
    });
  return {
    name,
    listen,
    connect,
    adapter,
    async pair() {
      const listener = await listen();
      return await acceptPair(listener, () => connect(listener.addr.port));
    },
  };
}

/**
 * Connects a client to `listener` and accepts it: both ends, and a `close` that releases the
 * two transports and the listener. The listener is closed if either side fails.
 */
export async function acceptPair(
  listener: Listener,
  connect: () => Promise<Transport>,
): Promise<ConnectionPair> {
  try {
    const [client, server] = await Promise.all([connect(), listener.accept()]);
    if (server === null) throw new Error("The listener closed before accepting");
    return {
      client,
      server,
      close() {
        client.close();
        server.close();
        listener.close();
        return Promise.resolve();
      },
    };
  } catch (error) {
    listener.close();
    throw error;
  }
}

/** This runtime's own socket adapter (imported dynamically). */
export async function nativeAdapter(): Promise<SocketAdapter> {
  const runtime = runtimeName();
  return runtime === "deno"
    ? await import("./deno.ts")
    : runtime === "bun"
    ? await import("./bun.ts")
    : await import("./node.ts");
}

/**
 * The factories for this runtime: `pipe`, `tcp` (this runtime's own adapter), `tls` (the same
 * over TLS with the test certificate) and, on Deno and Bun, `tcp-node` (the `node:net` adapter).
 * Adapters are imported dynamically so that a runtime never loads another runtime's adapter.
 */
export async function factories(): Promise<ConnectionFactory[]> {
  const runtime = runtimeName();
  const native = await nativeAdapter();
  const list: ConnectionFactory[] = [
    {
      name: "pipe",
      pair() {
        const [client, server] = pipePair();
        return Promise.resolve({
          client,
          server,
          close() {
            client.close();
            server.close();
            return Promise.resolve();
          },
        });
      },
    },
    socketFactory("tcp", native, false),
    socketFactory("tls", native, true),
  ];
  if (runtime !== "node") list.push(socketFactory("tcp-node", await import("./node.ts"), false));
  return list;
}
