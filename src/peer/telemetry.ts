// This module is browser compatible.

/**
 * The per-request telemetry event of a {@linkcode Peer} (see `PeerOptions.onRequestEvent`).
 *
 * @module
 */

import type { RequestKind } from "./middleware.ts";
import type { Session } from "./session.ts";

/**
 * How a request ended:
 *
 * - `ok`: answered with a result (incoming: we sent it; outgoing: it arrived);
 * - `error`: an ErrorResult (sent or received), or a local failure (a result too large, an
 *   interceptor that threw, an abort);
 * - `retry`: a RetryResult (incoming: we answered with one, a limit or a `RetryResult`
 *   thrown; outgoing: the retry budget ran out);
 * - `timeout`: a timeout (`timeoutMs`, `requestTimeoutMs`, or a signal's `TimeoutError`);
 * - `closed`: the connection closed before it was answered.
 *
 * A notification is `ok` when it was sent (outgoing) or its handler finished (incoming), and
 * `error` when that failed.
 *
 * @example Counting outcomes
 * ```ts
 * import { Handlers, Peer, pipePair, type RequestOutcome } from "@gotalk/gotalk";
 * import assert from "node:assert/strict";
 *
 * const outcomes: RequestOutcome[] = [];
 * const [a, b] = pipePair();
 * const handlers = new Handlers().handle("ok", () => 1).handle("fail", () => { throw new Error("no"); });
 * const server = new Peer(a, { handlers, logger: null });
 * const client = new Peer(b, { onRequestEvent: (e) => void outcomes.push(e.outcome) });
 * await client.request("ok");
 * await assert.rejects(client.request("fail"));
 * assert.deepEqual(outcomes, ["ok", "error"]);
 * client.abort();
 * server.abort();
 * ```
 */
export type RequestOutcome = "ok" | "error" | "retry" | "timeout" | "closed";

/**
 * One request or notification, sent or received, once it ended: what it was, its bytes, how
 * long it took and how it ended. Bytes are payload bytes as this peer sees them (frame headers
 * not counted): `bytesIn` received (incoming: the request; outgoing: the result), `bytesOut`
 * sent (incoming: the result; outgoing: the request, once however often it was retried).
 *
 * @example Timing every request a server answers
 * ```ts
 * import { Handlers, Peer, pipePair, type RequestEvent } from "@gotalk/gotalk";
 * import assert from "node:assert/strict";
 *
 * const events: RequestEvent[] = [];
 * const [a, b] = pipePair();
 * const server = new Peer(a, {
 *   handlers: new Handlers().handle("upper", (s: string) => s.toUpperCase()),
 *   onRequestEvent: (e) => void events.push(e),
 * });
 * const client = new Peer(b);
 * await client.request("upper", "abc");
 * const [e] = events;
 * assert.equal(e.direction, "in");
 * assert.equal(e.op, "upper");
 * assert.equal(e.kind, "json");
 * assert.equal(e.bytesIn, 5); // "abc"
 * assert.equal(e.bytesOut, 5); // "ABC"
 * assert.equal(e.outcome, "ok");
 * assert.ok(e.durationMs >= 0);
 * client.abort();
 * server.abort();
 * ```
 */
export interface RequestEvent {
  /** `in`: the remote sent it and this peer handled it; `out`: this peer sent it. */
  readonly direction: "in" | "out";
  /** The operation, or the notification's name. */
  readonly op: string;
  /** The request id as on the wire (four characters); `undefined` for notifications. */
  readonly id: string | undefined;
  /** What it was. */
  readonly kind: RequestKind;
  /** Payload bytes received for it. */
  readonly bytesIn: number;
  /** Payload bytes sent for it. */
  readonly bytesOut: number;
  /** From when it arrived or was sent to when it ended, in milliseconds. */
  readonly durationMs: number;
  /** How it ended. */
  readonly outcome: RequestOutcome;
  /** The error, unless it ended `ok`. */
  readonly error: unknown;
  /** The peer it went through. */
  readonly peer: Session;
}
