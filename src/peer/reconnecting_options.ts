// This module is browser compatible.

import type { PeerOptions } from "./options.ts";
import type { Peer } from "./peer.ts";
import type { Transport } from "./transport.ts";

/**
 * Options for a {@linkcode ReconnectingPeer}.
 *
 * @example Calls made while disconnected fail at once with `maxQueued: 0`
 * ```ts
 * import { ConnectionClosedError, ReconnectingPeer, type ReconnectingPeerOptions } from "@gotalk/gotalk";
 * import assert from "node:assert/strict";
 *
 * const options: ReconnectingPeerOptions = {
 *   connect: () => Promise.reject(new Error("offline")),
 *   maxQueued: 0,
 * };
 * const client = new ReconnectingPeer(options);
 * await assert.rejects(client.request("ping"), ConnectionClosedError);
 * client.abort();
 * await client.closed;
 * ```
 */
export interface ReconnectingPeerOptions extends PeerOptions {
  /**
   * Opens a new connection. Called at start and after every disconnection, with backoff; a
   * rejection counts as a failed attempt. The signal aborts when the peer is closed.
   */
  connect: (signal: AbortSignal) => Promise<Transport>;
  /**
   * The first retry delay, in milliseconds.
   *
   * @default {250}
   */
  minDelayMs?: number;
  /**
   * The longest retry delay, in milliseconds. Delays double from `minDelayMs` up to this, each
   * one drawn at random between half and all of it ("equal jitter"), so that many clients
   * cut off together do not come back together.
   *
   * @default {30000}
   */
  maxDelayMs?: number;
  /**
   * How many requests and notifications made while disconnected wait for the next connection;
   * further ones reject at once with {@linkcode ConnectionClosedError}. 0 rejects every call
   * made while disconnected. Waiting calls still honour their own `signal` and `timeoutMs`.
   *
   * @default {100}
   */
  maxQueued?: number;
  /**
   * How long a call made while disconnected waits for a connection, in milliseconds; then it
   * rejects with a {@linkcode ConnectionClosedError} naming the op and the wait, whose `cause`
   * is the last connect attempt's error. 0 waits as long as it takes.
   *
   * @default {30000}
   */
  queueTimeoutMs?: number;
  /**
   * Called before each connect attempt, with its number (1 for the first after a connection
   * was up, or at start).
   *
   * @default {undefined}
   */
  onConnecting?: (attempt: number) => void;
  /**
   * Called when a connect attempt failed, with its error and number; the next attempt follows
   * after the backoff.
   *
   * @default {undefined}
   */
  onConnectFailed?: (error: unknown, attempt: number) => void;
  /**
   * Called when a connection is up, with its peer.
   *
   * @default {undefined}
   */
  onOpen?: (peer: Peer) => void;
  /**
   * Called when a connection went down, with the error that closed it (`undefined` after a
   * normal close), before the next attempt.
   *
   * @default {undefined}
   */
  onClose?: (reason: Error | undefined) => void;
}
