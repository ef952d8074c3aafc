// This module is browser compatible.

/**
 * Turns whatever a runtime rejects a connect with into one {@linkcode ConnectError}: the shapes
 * differ (Node and Bun set `code`, as Bun's "Failed to connect" does; Deno throws
 * `Deno.errors.ConnectionRefused` and friends, with a `code` on Deno 2, and a plain `Error` for a
 * failed name lookup; WebSockets report an `error` event whose text, if any, is all there is).
 * Internal: not part of the public API.
 *
 * @module
 */

import { ConnectError } from "../peer/errors.ts";

/** What was being done when it failed: the TCP connect, the TLS handshake, a WebSocket open. */
export type ConnectPhase = "tcp" | "tls" | "websocket";

/** The OS codes kept as they are, with the description the message gives each. */
const OS_CODES: Readonly<Record<string, string>> = {
  ECONNREFUSED: "connection refused",
  ENOTFOUND: "host name not found",
  EAI_AGAIN: "the host name lookup failed for now",
  ETIMEDOUT: "timed out",
  ECONNRESET: "connection reset by the remote",
  ECONNABORTED: "connection aborted",
  EHOSTUNREACH: "host unreachable",
  ENETUNREACH: "network unreachable",
  EADDRNOTAVAIL: "address not available",
};

/** `Deno.errors` class names (for Deno versions whose errors carry no `code`). */
const DENO_NAMES: Readonly<Record<string, string>> = {
  ConnectionRefused: "ECONNREFUSED",
  ConnectionReset: "ECONNRESET",
  ConnectionAborted: "ECONNABORTED",
  TimedOut: "ETIMEDOUT",
  AddrNotAvailable: "EADDRNOTAVAIL",
};

/**
 * Texts that name the failure where there is no code: the OS's own (Deno's
 * "No route to host (os error 113)"), Deno's name lookup ("failed to lookup address
 * information") and Deno's WebSocket client ("failed to connect to WebSocket: dns error").
 */
const TEXTS: readonly (readonly [RegExp, string])[] = [
  [/connection refused/i, "ECONNREFUSED"],
  [/temporary failure in name resolution/i, "EAI_AGAIN"],
  [
    /failed to lookup address|name or service not known|nodename nor servname|dns error/i,
    "ENOTFOUND",
  ],
  [/no route to host|host is unreachable/i, "EHOSTUNREACH"],
  [/network is unreachable/i, "ENETUNREACH"],
  [/connection reset/i, "ECONNRESET"],
  [/timed out/i, "ETIMEDOUT"],
];

/** A WebSocket upgrade answered with another status (Deno's, Bun's and `ws`'s wording). */
const UPGRADE =
  /(?:invalid status code|expected 101 status code|unexpected server response)\W*(\d{3})?/i;
/** A TLS failure a WebSocket reports (there is no separate handshake phase to tell it). */
const TLS_TEXT = /certificate|\btls\b|\bssl\b/i;

function messageOf(error: unknown): string {
  if (error instanceof Error) return error.message;
  const message = (error as { message?: unknown } | null | undefined)?.message;
  return typeof message === "string" ? message : "";
}

/** The code for `error` (see {@linkcode ConnectError.code}). */
export function connectErrorCode(error: unknown, phase: ConnectPhase): string {
  const e = (typeof error === "object" && error !== null ? error : {}) as {
    code?: unknown;
    name?: unknown;
  };
  if (typeof e.code === "string" && e.code in OS_CODES) return e.code;
  if (typeof e.name === "string" && e.name in DENO_NAMES) return DENO_NAMES[e.name];
  const message = messageOf(error);
  for (const [pattern, code] of TEXTS) if (pattern.test(message)) return code;
  // Anything else during a handshake (an untrusted certificate, a server that does not speak
  // TLS; Bun reports the latter as EPROTO) is the handshake failing.
  if (phase === "tls") return "ETLS";
  if (UPGRADE.test(message)) return "EUPGRADE";
  if (TLS_TEXT.test(message)) return "ETLS";
  return "ECONNECT";
}

/**
 * The {@linkcode ConnectError} for a connect to `address` that failed with `error` (kept as the
 * cause; a `ConnectError` is returned as it is). `fallback` describes a failure that came with
 * no error or no text.
 */
export function toConnectError(
  address: string,
  error: unknown,
  phase: ConnectPhase,
  fallback = "the runtime gave no reason",
): ConnectError {
  if (error instanceof ConnectError) return error;
  const code = connectErrorCode(error, phase);
  const message = messageOf(error);
  let detail: string;
  if (code in OS_CODES) {
    detail = OS_CODES[code];
  } else if (code === "ETLS") {
    detail = `the TLS handshake failed${message ? `: ${message}` : ""}`;
  } else if (code === "EUPGRADE") {
    const status = UPGRADE.exec(message)?.[1];
    detail = status === undefined
      ? `the server refused the WebSocket upgrade: ${message}`
      : `the server answered the WebSocket upgrade with HTTP ${status}`;
  } else {
    detail = message || fallback;
  }
  return new ConnectError(
    address,
    code,
    detail,
    error === undefined ? undefined : { cause: error },
  );
}
