// This module is browser compatible.

/**
 * Helpers shared by the runtime socket adapters: argument checks, address formatting and the
 * bounded queue of accepted connections. Internal: not part of the public API.
 *
 * @module
 */

import type { Transport } from "../peer/transport.ts";
import type { ConnectOptions, ListenOptions } from "./socket_options.ts";

/** The host connected to or listened on when none is given. */
export const DEFAULT_HOSTNAME = "127.0.0.1";

/** Accepted connections a listener holds for `accept()` before it refuses more. */
export const MAX_PENDING_ACCEPTS = 128;

/** Bytes a socket's readable queues before it stops reading from the socket. */
export const READ_HIGH_WATER_MARK = 64 * 1024;

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
}

function checkHostname(hostname: unknown): string {
  if (hostname === undefined) return DEFAULT_HOSTNAME;
  if (typeof hostname !== "string" || hostname === "") {
    throw new TypeError(`hostname must be a non-empty string, got ${String(hostname)}`);
  }
  return hostname;
}

function checkPort(port: unknown, min: number): number {
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
  const { tls } = options;
  if (tls !== undefined && (typeof tls !== "object" || tls === null)) {
    throw new TypeError("tls must be an object");
  }
  return {
    hostname: checkHostname(options.hostname),
    port: checkPort(options.port, 0),
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
 * The connections a push-style server (Node, Bun) accepted but `accept()` has not returned yet.
 * Bounded: past {@linkcode MAX_PENDING_ACCEPTS} a new connection is closed at once, as a full
 * kernel backlog would refuse it.
 */
export class AcceptQueue {
  #ready: Transport[] = [];
  #waiters: ((transport: Transport | null) => void)[] = [];
  #closed = false;

  /** Whether {@linkcode AcceptQueue.close} was called. */
  get closed(): boolean {
    return this.#closed;
  }

  /** Hands a new connection to a waiting `accept()`, or queues it. */
  push(transport: Transport): void {
    const waiter = this.#waiters.shift();
    if (waiter) {
      waiter(transport);
    } else if (!this.#closed && this.#ready.length < MAX_PENDING_ACCEPTS) {
      this.#ready.push(transport);
    } else {
      transport.close?.();
    }
  }

  /** The next connection, or `null` once closed. */
  accept(): Promise<Transport | null> {
    const next = this.#ready.shift();
    if (next) return Promise.resolve(next);
    if (this.#closed) return Promise.resolve(null);
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  /** Resolves waiting `accept()` calls with `null` and closes queued connections. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const waiter of this.#waiters.splice(0)) waiter(null);
    for (const transport of this.#ready.splice(0)) transport.close?.();
  }
}

/** Iterates `accept()` until it returns `null`. */
export async function* acceptAll(
  accept: () => Promise<Transport | null>,
): AsyncGenerator<Transport, void, undefined> {
  while (true) {
    const transport = await accept();
    if (transport === null) return;
    yield transport;
  }
}
