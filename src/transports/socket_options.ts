// This module is browser compatible.

/**
 * TLS settings for a client connection.
 *
 * @example A server whose certificate authority the client does not trust
 * ```ts
 * import { ConnectError } from "@gotalk/gotalk";
 * import { connect, type ConnectTlsOptions, listen } from "@gotalk/gotalk/deno";
 * import { readFileSync } from "node:fs";
 * import assert from "node:assert/strict";
 *
 * // A self-signed certificate for localhost and 127.0.0.1, and its key.
 * const cert = readFileSync(new URL("./testdata/cert.pem", import.meta.url), "utf8");
 * const key = readFileSync(new URL("./testdata/key.pem", import.meta.url), "utf8");
 * const listener = await listen({ hostname: "127.0.0.1", port: 0, tls: { cert, key } });
 * const tls: ConnectTlsOptions = { serverName: "localhost" }; // no caCerts: the system's only
 * const accepted = listener.accept().then((t) => t?.readable.cancel());
 * await assert.rejects(connect({ port: listener.addr.port, tls }), ConnectError);
 * listener.close();
 * await accepted;
 * ```
 */
export interface ConnectTlsOptions {
  /**
   * Certificates (PEM) to trust in addition to the runtime's default roots, on every runtime (a
   * private certificate authority, or a self-signed server certificate).
   *
   * @default {undefined} (the runtime's default roots only)
   */
  caCerts?: string[];
  /**
   * The name sent in SNI and checked against the server's certificate.
   *
   * @default {undefined} (the `hostname` connected to)
   */
  serverName?: string;
}

/**
 * Options for the runtime adapters' `connect`.
 *
 * @example Giving up on a connect with a signal
 * ```ts
 * import { connect, type ConnectOptions, listen } from "@gotalk/gotalk/deno";
 * import assert from "node:assert/strict";
 *
 * const listener = await listen({ hostname: "127.0.0.1", port: 0 });
 * const options: ConnectOptions = { port: listener.addr.port, signal: AbortSignal.abort() };
 * await assert.rejects(connect(options), { name: "AbortError" });
 * listener.close();
 * ```
 */
export interface ConnectOptions {
  /**
   * The host name or IP address to connect to.
   *
   * @default {"127.0.0.1"}
   */
  hostname?: string;
  /** The TCP port to connect to. */
  port: number;
  /**
   * Connect over TLS with these settings (`{}` for the defaults).
   *
   * @default {undefined} (plain TCP)
   */
  tls?: ConnectTlsOptions;
  /**
   * Aborts connecting; the returned promise then rejects with the signal's reason.
   *
   * @default {undefined}
   */
  signal?: AbortSignal;
}

/**
 * TLS settings for a listener.
 *
 * @example A TLS server
 * ```ts
 * import { Handlers, Peer, Server } from "@gotalk/gotalk";
 * import { connect, listen, type ListenTlsOptions } from "@gotalk/gotalk/deno";
 * import { readFileSync } from "node:fs";
 * import assert from "node:assert/strict";
 *
 * // A self-signed certificate for localhost and 127.0.0.1, and its key.
 * const cert = readFileSync(new URL("./testdata/cert.pem", import.meta.url), "utf8");
 * const key = readFileSync(new URL("./testdata/key.pem", import.meta.url), "utf8");
 * const tls: ListenTlsOptions = { cert, key };
 * const server = new Server(await listen({ hostname: "127.0.0.1", port: 0, tls }), {
 *   handlers: new Handlers().handle("ping", () => "pong"),
 * });
 * const client = new Peer(await connect({ port: server.addr.port, tls: { caCerts: [cert] } }));
 * assert.equal(await client.request("ping"), "pong");
 * await client.close();
 * await server.close();
 * ```
 */
export interface ListenTlsOptions {
  /** The server's certificate chain (PEM). */
  cert: string;
  /** The server's private key (PEM). */
  key: string;
}

/**
 * Options for the runtime adapters' `listen`.
 *
 * @example Any free port, and a taken one
 * ```ts
 * import { listen, type ListenOptions } from "@gotalk/gotalk/deno";
 * import assert from "node:assert/strict";
 *
 * const options: ListenOptions = { hostname: "127.0.0.1", port: 0 };
 * const listener = await listen(options);
 * assert.ok(listener.addr.port > 0); // the port it picked
 * await assert.rejects(listen({ ...options, port: listener.addr.port })); // already taken
 * listener.close();
 * ```
 */
export interface ListenOptions {
  /**
   * The address to listen on; `"0.0.0.0"` for every IPv4 interface.
   *
   * @default {"127.0.0.1"}
   */
  hostname?: string;
  /** The TCP port to listen on; `0` picks a free one (read it from the listener's `addr`). */
  port: number;
  /**
   * Accept TLS connections with this certificate and key.
   *
   * @default {undefined} (plain TCP)
   */
  tls?: ListenTlsOptions;
  /**
   * Sets `SO_REUSEPORT`, so that several processes (the workers of `startWorkers`) listen on one
   * port and the kernel spreads the new connections among them (Linux; elsewhere each runtime
   * does what its own option does). On Deno, `Deno.listen`'s option is unstable: run with
   * `--unstable-net`. Node 20 has no such option (it is passed on, and honoured from Node
   * 22.12); there, workers share a port through `node:cluster`, as `startWorkers` of
   * `@gotalk/gotalk/node` does.
   *
   * @default {false}
   */
  reusePort?: boolean;
}
