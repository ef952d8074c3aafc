/**
 * A {@linkcode Backplane} over [NATS](https://nats.io): the hubs of several servers become one
 * cluster. Topics are NATS subjects (`gotalk.t.NAME`), ops a server offers are request/reply on
 * a queue group (`gotalk.op.OP`, one server answers each request; with none, NATS says "no
 * responders" at once and the caller gets the ErrorResult `unknown operation "OP"`), and
 * registered peers are subjects of their own (`gotalk.p.ID`).
 *
 * Bring your own connection from the official client: `@nats-io/transport-node` on Node, Bun
 * and Deno (through `npm:`), or `wsconnect` from `@nats-io/nats-core`. This module only uses
 * the connection it is given (it imports types, nothing at run time). For a cluster that rides
 * out a restart of nats-server, connect with `maxReconnectAttempts: -1`: the client reconnects
 * and subscribes again by itself, and topics resume.
 *
 * Guarantees, NATS core's: at most once (what is published while a server is disconnected may
 * be lost to it, never duplicated), in order per publisher. A message over the server's
 * `max_payload` (1 MiB by default) is refused with a {@linkcode BackplanePayloadTooLargeError}
 * before anything is sent.
 *
 * @example Two servers sharing a topic over NATS
 * ```ts ignore
 * // ignore: needs a running nats-server (the tests start one per test).
 * import { Hub, Server } from "@gotalk/gotalk";
 * import { listen } from "@gotalk/gotalk/deno";
 * import { NatsBackplane } from "@gotalk/gotalk/nats";
 * import { connect } from "@nats-io/transport-node";
 *
 * const nc = await connect({ servers: "127.0.0.1:4222", maxReconnectAttempts: -1 });
 * const hub = new Hub({ backplane: new NatsBackplane(nc) });
 * const server = new Server(await listen({ port: 4000 }), {
 *   onPeer: (peer) => void hub.topic("lobby").join(peer),
 * });
 * hub.topic("lobby").notify("hello", "from this server"); // every server's lobby members
 * ```
 *
 * @module
 */

import type { Msg, NatsConnection, Subscription } from "@nats-io/nats-core";
import {
  type Backplane,
  BackplanePayloadTooLargeError,
  type BackplaneRequestOptions,
  type BackplaneResponder,
  type BackplaneSubscription,
  NoRespondersError,
} from "../server/backplane.ts";

export { BackplanePayloadTooLargeError, NoRespondersError };
export type { Backplane, BackplaneRequestOptions, BackplaneResponder, BackplaneSubscription };

/**
 * Options for a {@linkcode NatsBackplane}.
 *
 * @example Handling a responder's failure
 * ```ts
 * import type { NatsBackplaneOptions } from "@gotalk/gotalk/nats";
 * import assert from "node:assert/strict";
 *
 * const failures: unknown[] = [];
 * const options: NatsBackplaneOptions = { onError: (e) => void failures.push(e) };
 * options.onError?.(new Error("x"));
 * assert.equal(failures.length, 1);
 * ```
 */
export interface NatsBackplaneOptions {
  /**
   * Gets errors that have no caller to go to: a subscription that failed, a reply that could
   * not be sent.
   *
   * @default {undefined}
   */
  onError?: (error: unknown) => void;
}

/** The NATS default, for a connection that has not received the server's INFO yet. */
const DEFAULT_MAX_PAYLOAD = 1024 * 1024;

/** Whether `e` is nats.js's "no responders" (a RequestError whose cause is one). */
function isNoResponders(e: unknown): boolean {
  const err = e as { isNoResponders?: () => boolean; cause?: { name?: string }; name?: string };
  return err?.isNoResponders?.() === true || err?.cause?.name === "NoRespondersError" ||
    err?.name === "NoRespondersError";
}

/**
 * The {@linkcode Backplane} of a {@linkcode Hub} over a NATS connection. The connection stays
 * the caller's: close it after the hubs on it.
 *
 * @example Construction (the tests run it against a real nats-server)
 * ```ts ignore
 * // ignore: needs a running nats-server.
 * import { Hub } from "@gotalk/gotalk";
 * import { NatsBackplane } from "@gotalk/gotalk/nats";
 * import { connect } from "@nats-io/transport-node";
 *
 * const nc = await connect({ servers: "127.0.0.1:4222", maxReconnectAttempts: -1 });
 * const hub = new Hub({ backplane: new NatsBackplane(nc) });
 * await hub.close();
 * await nc.close();
 * ```
 */
export class NatsBackplane implements Backplane {
  readonly #nc: NatsConnection;
  readonly #onError: ((error: unknown) => void) | undefined;

  /**
   * Wraps a connection.
   *
   * @param nc A connection from `@nats-io/transport-node`'s `connect` (or any nats.js 3
   * connection).
   * @param options Where errors without a caller go.
   */
  constructor(nc: NatsConnection, options?: NatsBackplaneOptions) {
    this.#nc = nc;
    this.#onError = options?.onError;
  }

  /**
   * The server's `max_payload`, in bytes.
   *
   * @returns The limit.
   */
  get maxPayloadBytes(): number {
    return this.#nc.info?.max_payload ?? DEFAULT_MAX_PAYLOAD;
  }

  /**
   * Publishes `data` on `subject`.
   *
   * @param subject The subject.
   * @param data The bytes.
   * @throws {BackplanePayloadTooLargeError} When `data` is over `max_payload`.
   */
  publish(subject: string, data: Uint8Array): void {
    this.#check(data);
    this.#nc.publish(subject, data);
  }

  /**
   * Subscribes to `subject`.
   *
   * @param subject The subject.
   * @param onMessage Gets each message's data.
   * @returns The subscription.
   */
  subscribe(subject: string, onMessage: (data: Uint8Array) => void): BackplaneSubscription {
    return this.#wrap(this.#nc.subscribe(subject, {
      callback: (error, msg) => {
        if (error) this.#onError?.(error);
        else onMessage(msg.data);
      },
    }));
  }

  /**
   * Answers requests to `subject` in the queue group `queue`.
   *
   * @param subject The subject.
   * @param queue The queue group (one member answers each request).
   * @param responder Makes the reply.
   * @returns The subscription.
   */
  serve(subject: string, queue: string, responder: BackplaneResponder): BackplaneSubscription {
    return this.#wrap(this.#nc.subscribe(subject, {
      queue,
      callback: (error, msg) => {
        if (error) this.#onError?.(error);
        else this.#answer(msg, responder);
      },
    }));
  }

  /**
   * Sends a request to one responder of `subject`.
   *
   * @param subject The subject.
   * @param data The request bytes.
   * @param options A deadline.
   * @returns The reply.
   * @throws {NoRespondersError} When nobody serves `subject` (NATS answers at once).
   * @throws {BackplanePayloadTooLargeError} When `data` is over `max_payload`.
   */
  async request(
    subject: string,
    data: Uint8Array,
    options?: BackplaneRequestOptions,
  ): Promise<Uint8Array> {
    this.#check(data);
    try {
      const msg = await this.#nc.request(subject, data, { timeout: options?.timeoutMs ?? 30_000 });
      return msg.data;
    } catch (e) {
      if (isNoResponders(e)) throw new NoRespondersError(subject, { cause: e });
      throw e;
    }
  }

  /**
   * A round trip to the server: what was sent before (subscriptions too) has reached it.
   *
   * @returns A promise.
   */
  async flush(): Promise<void> {
    await this.#nc.flush();
  }

  async #answer(msg: Msg, responder: BackplaneResponder): Promise<void> {
    try {
      const reply = await responder(msg.data);
      if (reply.length > this.maxPayloadBytes) {
        throw new BackplanePayloadTooLargeError(reply.length, this.maxPayloadBytes);
      }
      msg.respond(reply);
    } catch (e) {
      this.#onError?.(e);
    }
  }

  #wrap(sub: Subscription): BackplaneSubscription {
    return { unsubscribe: () => sub.unsubscribe() };
  }

  #check(data: Uint8Array): void {
    const max = this.maxPayloadBytes;
    if (data.length > max) throw new BackplanePayloadTooLargeError(data.length, max);
  }
}
