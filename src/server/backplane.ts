// This module is browser compatible.

/**
 * The backplane: what a {@linkcode Hub} needs from the bus between servers. Three things,
 * all on opaque bytes: publish/subscribe (a topic's notifications reach every server),
 * request/reply in a queue group (one server answers an op), and the errors for a request no
 * server answers and for a message over the bus's size limit.
 *
 * @module
 */

/**
 * A subscription on a {@linkcode Backplane}.
 *
 * @example Unsubscribing
 * ```ts
 * import { InProcessBackplane } from "@gotalk/gotalk";
 * import assert from "node:assert/strict";
 *
 * const bus = new InProcessBackplane();
 * const got: number[] = [];
 * const sub = bus.subscribe("s", (data) => void got.push(data[0]));
 * bus.publish("s", new Uint8Array([1]));
 * await new Promise((resolve) => setTimeout(resolve, 0));
 * sub.unsubscribe();
 * bus.publish("s", new Uint8Array([2]));
 * await new Promise((resolve) => setTimeout(resolve, 0));
 * assert.deepEqual(got, [1]);
 * ```
 */
export interface BackplaneSubscription {
  /** Stops the subscription; nothing more is delivered to it. */
  unsubscribe(): void;
}

/** Answers a request that came over a {@linkcode Backplane}. */
export type BackplaneResponder = (data: Uint8Array) => Uint8Array | Promise<Uint8Array>;

/**
 * Options for {@linkcode Backplane.request}.
 *
 * @example A deadline
 * ```ts
 * import { type BackplaneRequestOptions, InProcessBackplane } from "@gotalk/gotalk";
 * import assert from "node:assert/strict";
 *
 * const bus = new InProcessBackplane();
 * bus.serve("echo", "q", (data) => data);
 * const options: BackplaneRequestOptions = { timeoutMs: 1000 };
 * assert.deepEqual(await bus.request("echo", new Uint8Array([7]), options), new Uint8Array([7]));
 * ```
 */
export interface BackplaneRequestOptions {
  /**
   * How long to wait for the reply, in ms.
   *
   * @default {30000}
   */
  timeoutMs?: number;
}

/**
 * The bus between servers, as a {@linkcode Hub} uses it. Implementations:
 * {@linkcode InProcessBackplane} (one process, the default) and `NatsBackplane`
 * (`@gotalk/gotalk/nats`, a cluster of servers over NATS). Data is opaque bytes; delivery is
 * at most once (a message published while a server is unreachable is lost to it), in order per
 * publisher and subject.
 *
 * @example A minimal backplane of your own: the in-process one, counting publishes
 * ```ts
 * import { type Backplane, Hub, InProcessBackplane } from "@gotalk/gotalk";
 * import assert from "node:assert/strict";
 *
 * const inner = new InProcessBackplane();
 * let published = 0;
 * const counting: Backplane = {
 *   maxPayloadBytes: inner.maxPayloadBytes,
 *   publish: (subject, data) => (published++, inner.publish(subject, data)),
 *   subscribe: (subject, onMessage) => inner.subscribe(subject, onMessage),
 *   serve: (subject, queue, responder) => inner.serve(subject, queue, responder),
 *   request: (subject, data, options) => inner.request(subject, data, options),
 * };
 * const hub = new Hub({ backplane: counting });
 * hub.topic("news").notify("headline", "hello");
 * assert.equal(published, 1);
 * await hub.close();
 * ```
 */
export interface Backplane {
  /** The largest message the bus carries, in bytes (NATS: the server's `max_payload`). */
  readonly maxPayloadBytes: number;
  /**
   * Sends `data` to every subscriber of `subject` (at most once each).
   *
   * @throws {BackplanePayloadTooLargeError} When `data` is over `maxPayloadBytes`.
   */
  publish(subject: string, data: Uint8Array): void;
  /** Calls `onMessage` with every message published to `subject` from now on. */
  subscribe(subject: string, onMessage: (data: Uint8Array) => void): BackplaneSubscription;
  /** Answers requests to `subject`; of the responders in one `queue`, one answers each. */
  serve(subject: string, queue: string, responder: BackplaneResponder): BackplaneSubscription;
  /**
   * Sends a request to one responder of `subject` and resolves with its reply.
   *
   * @throws {NoRespondersError} At once when nobody serves `subject`.
   * @throws {BackplanePayloadTooLargeError} When `data` is over `maxPayloadBytes`.
   */
  request(
    subject: string,
    data: Uint8Array,
    options?: BackplaneRequestOptions,
  ): Promise<Uint8Array>;
  /**
   * Resolves once everything this server sent so far (subscriptions included) reached the bus
   * (NATS: a round trip to the server). Optional: without it, {@linkcode Hub.flush} resolves
   * at once.
   */
  flush?(): Promise<void>;
}

/**
 * A backplane request that no server serves (NATS: "no responders").
 *
 * @example Usage
 * ```ts
 * import { InProcessBackplane, NoRespondersError } from "@gotalk/gotalk";
 * import assert from "node:assert/strict";
 *
 * const bus = new InProcessBackplane();
 * await assert.rejects(bus.request("nobody", new Uint8Array()), NoRespondersError);
 * ```
 */
export class NoRespondersError extends Error {
  /** The subject nobody serves. */
  readonly subject: string;

  /**
   * Creates the error.
   *
   * @param subject The subject nobody serves.
   * @param options Standard error options.
   */
  constructor(subject: string, options?: ErrorOptions) {
    super(`No responders for ${JSON.stringify(subject)}`, options);
    this.name = "NoRespondersError";
    this.subject = subject;
  }
}

/**
 * A message over the backplane's size limit (NATS `max_payload`, 1 MiB by default): it is
 * refused before anything is sent, to any server, this one included.
 *
 * @example Usage
 * ```ts
 * import { BackplanePayloadTooLargeError, InProcessBackplane } from "@gotalk/gotalk";
 * import assert from "node:assert/strict";
 *
 * const bus = new InProcessBackplane({ maxPayloadBytes: 4 });
 * assert.throws(() => bus.publish("s", new Uint8Array(5)), BackplanePayloadTooLargeError);
 * ```
 */
export class BackplanePayloadTooLargeError extends Error {
  /** The message's size, in bytes. */
  readonly size: number;
  /** The backplane's limit, in bytes. */
  readonly limit: number;

  /**
   * Creates the error.
   *
   * @param size The message's size.
   * @param limit The limit.
   * @param options Standard error options.
   */
  constructor(size: number, limit: number, options?: ErrorOptions) {
    super(
      `A backplane message of ${size} bytes is over the backplane's limit of ${limit} bytes ` +
        `(NATS max_payload)`,
      options,
    );
    this.name = "BackplanePayloadTooLargeError";
    this.size = size;
    this.limit = limit;
  }
}
