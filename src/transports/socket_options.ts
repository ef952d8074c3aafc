// This module is browser compatible.

/**
 * TLS settings for a client connection.
 *
 * @example Trusting a private certificate authority
 * ```ts
 * import type { ConnectTlsOptions } from "@gotalk/gotalk/deno";
 * import assert from "node:assert/strict";
 *
 * const tls: ConnectTlsOptions = { caCerts: ["-----BEGIN CERTIFICATE-----\n..."], serverName: "localhost" };
 * assert.equal(tls.serverName, "localhost");
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
 * @example Usage
 * ```ts
 * import type { ConnectOptions } from "@gotalk/gotalk/deno";
 * import assert from "node:assert/strict";
 *
 * const options: ConnectOptions = { hostname: "127.0.0.1", port: 1234, tls: {} };
 * assert.equal(options.port, 1234);
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
 * @example Usage
 * ```ts
 * import type { ListenTlsOptions } from "@gotalk/gotalk/deno";
 * import assert from "node:assert/strict";
 *
 * const tls: ListenTlsOptions = { cert: "-----BEGIN CERTIFICATE-----\n...", key: "..." };
 * assert.ok(tls.cert.startsWith("-----BEGIN"));
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
 * @example Usage
 * ```ts
 * import type { ListenOptions } from "@gotalk/gotalk/deno";
 * import assert from "node:assert/strict";
 *
 * const options: ListenOptions = { hostname: "0.0.0.0", port: 0 };
 * assert.equal(options.port, 0);
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
}
