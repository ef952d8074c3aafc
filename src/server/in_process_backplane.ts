// This module is browser compatible.

import {
  type Backplane,
  BackplanePayloadTooLargeError,
  type BackplaneRequestOptions,
  type BackplaneResponder,
  type BackplaneSubscription,
  NoRespondersError,
} from "./backplane.ts";

/**
 * Options for an {@linkcode InProcessBackplane}.
 *
 * @example A size limit, as a NATS server would have
 * ```ts
 * import { InProcessBackplane, type InProcessBackplaneOptions } from "@gotalk/gotalk";
 * import assert from "node:assert/strict";
 *
 * const options: InProcessBackplaneOptions = { maxPayloadBytes: 1024 * 1024 };
 * assert.equal(new InProcessBackplane(options).maxPayloadBytes, 1024 * 1024);
 * ```
 */
export interface InProcessBackplaneOptions {
  /**
   * The largest message, in bytes.
   *
   * @default {Infinity}
   */
  maxPayloadBytes?: number;
}

type Listener = (data: Uint8Array) => void;

/**
 * A {@linkcode Backplane} inside one process: the default of a {@linkcode Hub}, and a way to
 * run several hubs (say, one per listener) as one cluster without a network. Messages are
 * delivered in a later microtask, in publish order; the same bytes go to every subscriber (they
 * must not modify them). A queue group's requests go round-robin to its responders.
 *
 * @example Two hubs on one bus: a topic spans both
 * ```ts
 * import { Handlers, Hub, InProcessBackplane, Peer, pipePair } from "@gotalk/gotalk";
 * import assert from "node:assert/strict";
 *
 * const bus = new InProcessBackplane();
 * const [hubA, hubB] = [new Hub({ backplane: bus }), new Hub({ backplane: bus })];
 * const [serverSide, clientSide] = pipePair();
 * const got = Promise.withResolvers<string>();
 * const client = new Peer(clientSide, {
 *   handlers: new Handlers().handleNotification("news", got.resolve),
 * });
 * hubB.topic("world").join(new Peer(serverSide)); // a member on hub B
 * hubA.topic("world").notify("news", "hello from A");
 * assert.equal(await got.promise, "hello from A");
 * client.abort();
 * await Promise.all([hubA.close(), hubB.close()]);
 * ```
 */
export class InProcessBackplane implements Backplane {
  readonly #subscribers = new Map<string, Set<Listener>>();
  readonly #responders = new Map<string, Map<string, BackplaneResponder[]>>();
  #turn = 0;

  /** The largest message, in bytes. */
  readonly maxPayloadBytes: number;

  /**
   * Creates a bus.
   *
   * @param options The size limit.
   * @throws {RangeError} If `maxPayloadBytes` is not a positive number.
   */
  constructor(options?: InProcessBackplaneOptions) {
    const max = options?.maxPayloadBytes ?? Infinity;
    if (!(max > 0)) throw new RangeError(`maxPayloadBytes must be positive, got ${max}`);
    this.maxPayloadBytes = max;
  }

  /**
   * Sends `data` to every subscriber of `subject`, in a later microtask.
   *
   * @param subject The subject.
   * @param data The bytes (not to be modified afterwards).
   * @throws {BackplanePayloadTooLargeError} When `data` is over `maxPayloadBytes`.
   *
   * @example Usage
   * ```ts
   * import { InProcessBackplane } from "@gotalk/gotalk";
   * import assert from "node:assert/strict";
   *
   * const bus = new InProcessBackplane();
   * const got = Promise.withResolvers<Uint8Array>();
   * bus.subscribe("s", got.resolve);
   * bus.publish("s", new Uint8Array([1, 2]));
   * assert.deepEqual(await got.promise, new Uint8Array([1, 2]));
   * ```
   */
  publish(subject: string, data: Uint8Array): void {
    this.#check(data);
    const subs = this.#subscribers.get(subject);
    if (subs === undefined || subs.size === 0) return;
    const targets = [...subs];
    queueMicrotask(() => {
      for (const fn of targets) if (subs.has(fn)) fn(data);
    });
  }

  /**
   * Calls `onMessage` with every message published to `subject` from now on.
   *
   * @param subject The subject.
   * @param onMessage The listener.
   * @returns The subscription.
   *
   * @example Usage
   * ```ts
   * import { InProcessBackplane } from "@gotalk/gotalk";
   * import assert from "node:assert/strict";
   *
   * const bus = new InProcessBackplane();
   * const got = Promise.withResolvers<number>();
   * const sub = bus.subscribe("s", (data) => got.resolve(data.length));
   * bus.publish("s", new Uint8Array(3));
   * assert.equal(await got.promise, 3);
   * sub.unsubscribe();
   * ```
   */
  subscribe(subject: string, onMessage: (data: Uint8Array) => void): BackplaneSubscription {
    let subs = this.#subscribers.get(subject);
    if (subs === undefined) this.#subscribers.set(subject, subs = new Set());
    const fn: Listener = (data) => onMessage(data);
    subs.add(fn);
    return {
      unsubscribe: () => {
        subs.delete(fn);
        if (subs.size === 0 && this.#subscribers.get(subject) === subs) {
          this.#subscribers.delete(subject);
        }
      },
    };
  }

  /**
   * Answers requests to `subject`; within one `queue`, responders take turns.
   *
   * @param subject The subject.
   * @param queue The queue group.
   * @param responder Answers each request.
   * @returns The subscription.
   *
   * @example Usage
   * ```ts
   * import { InProcessBackplane } from "@gotalk/gotalk";
   * import assert from "node:assert/strict";
   *
   * const bus = new InProcessBackplane();
   * const sub = bus.serve("len", "q", (data) => new Uint8Array([data.length]));
   * assert.deepEqual(await bus.request("len", new Uint8Array(5)), new Uint8Array([5]));
   * sub.unsubscribe();
   * ```
   */
  serve(subject: string, queue: string, responder: BackplaneResponder): BackplaneSubscription {
    let groups = this.#responders.get(subject);
    if (groups === undefined) this.#responders.set(subject, groups = new Map());
    let group = groups.get(queue);
    if (group === undefined) groups.set(queue, group = []);
    const fn: BackplaneResponder = (data) => responder(data);
    group.push(fn);
    return {
      unsubscribe: () => {
        const i = group.indexOf(fn);
        if (i >= 0) group.splice(i, 1);
        if (group.length === 0) groups.delete(queue);
        if (groups.size === 0) this.#responders.delete(subject);
      },
    };
  }

  /**
   * Sends a request to one responder of `subject` (one per queue group; the first group's
   * answer wins).
   *
   * @param subject The subject.
   * @param data The request bytes.
   * @param options A deadline.
   * @returns The reply.
   * @throws {NoRespondersError} When nobody serves `subject`.
   * @throws {BackplanePayloadTooLargeError} When `data` is over `maxPayloadBytes`.
   *
   * @example Nobody serves it
   * ```ts
   * import { InProcessBackplane, NoRespondersError } from "@gotalk/gotalk";
   * import assert from "node:assert/strict";
   *
   * const bus = new InProcessBackplane();
   * await assert.rejects(bus.request("x", new Uint8Array()), NoRespondersError);
   * ```
   */
  async request(
    subject: string,
    data: Uint8Array,
    options?: BackplaneRequestOptions,
  ): Promise<Uint8Array> {
    this.#check(data);
    const groups = this.#responders.get(subject);
    if (groups === undefined || groups.size === 0) throw new NoRespondersError(subject);
    const answers = [...groups.values()].map((group) => {
      const responder = group[this.#turn++ % group.length];
      return Promise.resolve().then(() => responder(data));
    });
    const timeoutMs = options?.timeoutMs ?? 30_000;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new DOMException(`No reply within ${timeoutMs} ms`, "TimeoutError")),
        timeoutMs,
      );
    });
    try {
      const reply = await Promise.race([Promise.race(answers), deadline]);
      this.#check(reply);
      return reply;
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * Resolves once the messages published so far were delivered (after a macrotask).
   *
   * @returns A promise.
   *
   * @example Usage
   * ```ts
   * import { InProcessBackplane } from "@gotalk/gotalk";
   * import assert from "node:assert/strict";
   *
   * const bus = new InProcessBackplane();
   * let got = 0;
   * bus.subscribe("s", () => void got++);
   * bus.publish("s", new Uint8Array());
   * await bus.flush();
   * assert.equal(got, 1);
   * ```
   */
  flush(): Promise<void> {
    return new Promise((resolve) => setTimeout(resolve, 0));
  }

  #check(data: Uint8Array): void {
    if (data.length > this.maxPayloadBytes) {
      throw new BackplanePayloadTooLargeError(data.length, this.maxPayloadBytes);
    }
  }
}
