// This module is browser compatible.

import type { Transport } from "../peer/transport.ts";

/**
 * The address a {@linkcode Listener} is bound to.
 *
 * @example Usage
 * ```ts
 * import type { ListenAddr } from "@gotalk/gotalk";
 * import assert from "node:assert/strict";
 *
 * const addr: ListenAddr = { hostname: "127.0.0.1", port: 4000 };
 * assert.equal(addr.port, 4000);
 * ```
 */
export interface ListenAddr {
  /** The host name or IP address. */
  hostname: string;
  /** The port (the real one when listening on port 0). */
  port: number;
}

/**
 * Accepts incoming connections as {@linkcode Transport}s. Each runtime adapter
 * (`@gotalk/gotalk/deno`, `/bun`, `/node`) returns one from its `listen` function; a
 * {@linkcode Server} serves one.
 *
 * @example Accepting one connection
 * ```ts ignore
 * import { listen } from "@gotalk/gotalk/deno";
 *
 * const listener = listen({ hostname: "127.0.0.1", port: 0 });
 * for await (const transport of listener) {
 *   transport.close?.();
 *   break;
 * }
 * listener.close();
 * ```
 */
export interface Listener extends AsyncIterable<Transport> {
  /** Where it listens. */
  readonly addr: ListenAddr;
  /**
   * Waits for the next connection.
   *
   * @returns The connection, or `null` once the listener is closed.
   */
  accept(): Promise<Transport | null>;
  /** Stops accepting; a pending `accept()` resolves with `null`. Idempotent. */
  close(): void;
}
