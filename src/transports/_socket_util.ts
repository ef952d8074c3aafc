// This module is browser compatible.

/**
 * Helpers shared by the runtime socket adapters: argument checks, address formatting and quiet
 * closing. Internal: not part of the public API.
 *
 * @module
 */

import type { ConnectOptions, ListenOptions } from "./socket_options.ts";

/** The host connected to or listened on when none is given. */
export const DEFAULT_HOSTNAME = "127.0.0.1";

/** Checked and defaulted connect options. */
export interface ConnectParams {
  hostname: string;
  port: number;
  tls: { caCerts: string[] | undefined; serverName: string | undefined } | undefined;
  signal: AbortSignal | undefined;
}

/** Checked and defaulted listen options. */
export interface ListenParams {
  hostname: string;
  port: number;
  tls: { cert: string; key: string } | undefined;
  reusePort: boolean;
}

/** Checks a `hostname` option; `undefined` gives {@linkcode DEFAULT_HOSTNAME}. */
export function checkHostname(hostname: unknown): string {
  if (hostname === undefined) return DEFAULT_HOSTNAME;
  if (typeof hostname !== "string" || hostname === "") {
    throw new TypeError(`hostname must be a non-empty string, got ${String(hostname)}`);
  }
  return hostname;
}

/** Checks a `port` option: an integer from `min` to 65535. */
export function checkPort(port: unknown, min: number): number {
  if (typeof port !== "number") throw new TypeError(`port must be a number, got ${typeof port}`);
  if (!Number.isInteger(port) || port < min || port > 65535) {
    throw new RangeError(`port must be an integer from ${min} to 65535, got ${port}`);
  }
  return port;
}

function checkStrings(value: unknown, name: string): string[] | undefined {
  if (value === undefined) return undefined;
  if (!Array.isArray(value) || !value.every((v) => typeof v === "string")) {
    throw new TypeError(`${name} must be an array of strings`);
  }
  return value;
}

function checkString(value: unknown, name: string): string {
  if (typeof value !== "string" || value === "") {
    throw new TypeError(`${name} must be a non-empty string`);
  }
  return value;
}

/** Validates and defaults the options of `connect`. */
export function connectParams(options: ConnectOptions): ConnectParams {
  if (typeof options !== "object" || options === null) {
    throw new TypeError("connect options must be an object");
  }
  const { tls, signal } = options;
  if (signal !== undefined && !(signal instanceof AbortSignal)) {
    throw new TypeError("signal must be an AbortSignal");
  }
  if (tls !== undefined && (typeof tls !== "object" || tls === null)) {
    throw new TypeError("tls must be an object");
  }
  return {
    hostname: checkHostname(options.hostname),
    port: checkPort(options.port, 1),
    tls: tls === undefined ? undefined : {
      caCerts: checkStrings(tls.caCerts, "tls.caCerts"),
      serverName: tls.serverName === undefined
        ? undefined
        : checkString(tls.serverName, "tls.serverName"),
    },
    signal,
  };
}

/** Validates and defaults the options of `listen`. */
export function listenParams(options: ListenOptions): ListenParams {
  if (typeof options !== "object" || options === null) {
    throw new TypeError("listen options must be an object");
  }
  const { tls, reusePort } = options;
  if (tls !== undefined && (typeof tls !== "object" || tls === null)) {
    throw new TypeError("tls must be an object");
  }
  if (reusePort !== undefined && typeof reusePort !== "boolean") {
    throw new TypeError("reusePort must be a boolean");
  }
  return {
    hostname: checkHostname(options.hostname),
    port: checkPort(options.port, 0),
    reusePort: reusePort === true,
    tls: tls === undefined
      ? undefined
      : { cert: checkString(tls.cert, "tls.cert"), key: checkString(tls.key, "tls.key") },
  };
}

/** Formats `host:port`, bracketing IPv6 addresses. */
export function formatAddr(hostname: string | undefined, port: number | undefined): string {
  const host = hostname ?? "unknown";
  return `${host.includes(":") ? `[${host}]` : host}:${port ?? 0}`;
}

/**
 * Closes a socket, listener or WebSocket (with `code` and `reason`, if given), ignoring the error
 * of one already closed: there is nothing left to release then.
 */
export function closeQuietly(
  closable: { close(code?: number, reason?: string): void },
  code?: number,
  reason?: string,
): void {
  try {
    if (code === undefined) closable.close();
    else closable.close(code, reason);
  } catch {
    // Already closed.
  }
}
