// This module is browser compatible.

import { encodeMessage } from "../protocol/mod.ts";
import { type FrameSink, frameSink } from "../peer/_peer_seam.ts";
import { encodeJson } from "../peer/_payload.ts";
import type { Peer } from "../peer/peer.ts";
import { topicLink } from "./_topic_link.ts";

/**
 * What a topic does with a member whose unwritten backlog is over `maxBacklogBytes` when a
 * notification is sent: `"skip"` leaves that member out of this one notification (counted in
 * {@linkcode TopicStats.skipped}); `"close"` aborts the member's connection with a
 * {@linkcode SlowMemberError} (a client with `ReconnectingPeer` comes back and joins again).
 */
export type SlowMemberPolicy = "skip" | "close";

/**
 * Options for a {@linkcode Topic} (and, through {@linkcode HubOptions}, for every topic of a
 * hub).
 *
 * @example Closing members that fall 256 KiB behind
 * ```ts
 * import { Topic, type TopicOptions } from "@gotalk/gotalk";
 * import assert from "node:assert/strict";
 *
 * const options: TopicOptions = { maxBacklogBytes: 256 * 1024, slowMembers: "close" };
 * assert.equal(new Topic("news", options).size, 0);
 * ```
 */
export interface TopicOptions {
  /**
   * The unwritten bytes a member may have (queued or handed to its transport) before the
   * `slowMembers` policy applies to it.
   *
   * @default {1048576}
   */
  maxBacklogBytes?: number;
  /**
   * What happens to a member over `maxBacklogBytes`.
   *
   * @default {"skip"}
   */
  slowMembers?: SlowMemberPolicy;
  /**
   * Called for each member the policy applied to (skipped or closed).
   *
   * @default {undefined}
   */
  onSlowMember?: (peer: Peer, topic: Topic) => void;
}

/**
 * Counters of a {@linkcode Topic}, since it was created.
 *
 * @example Reading them
 * ```ts
 * import { Topic, type TopicStats } from "@gotalk/gotalk";
 * import assert from "node:assert/strict";
 *
 * const stats: TopicStats = new Topic("t").stats;
 * assert.deepEqual(stats, { notifications: 0, delivered: 0, skipped: 0, closed: 0 });
 * ```
 */
export interface TopicStats {
  /** Notifications sent to this topic (here, or arrived from other servers). */
  notifications: number;
  /** Frames queued to local members. */
  delivered: number;
  /** Frames left out for a member over its backlog bound (policy `"skip"`). */
  skipped: number;
  /** Members closed for being over it (policy `"close"`). */
  closed: number;
}

/**
 * The reason a member's connection was closed by the `"close"` policy of a topic.
 *
 * @example Usage
 * ```ts
 * import { SlowMemberError } from "@gotalk/gotalk";
 * import assert from "node:assert/strict";
 *
 * const e = new SlowMemberError("news", 2_000_000, 1_048_576);
 * assert.equal(e.name, "SlowMemberError");
 * assert.equal(e.backlog, 2_000_000);
 * ```
 */
export class SlowMemberError extends Error {
  /** The topic. */
  readonly topic: string;
  /** The member's unwritten bytes. */
  readonly backlog: number;
  /** The bound. */
  readonly limit: number;

  /**
   * Creates the error.
   *
   * @param topic The topic.
   * @param backlog The member's unwritten bytes.
   * @param limit The bound.
   * @param options Standard error options.
   */
  constructor(topic: string, backlog: number, limit: number, options?: ErrorOptions) {
    super(
      `Closed: ${backlog} unwritten bytes is over topic ${JSON.stringify(topic)}'s ` +
        `maxBacklogBytes of ${limit}`,
      options,
    );
    this.name = "SlowMemberError";
    this.topic = topic;
    this.backlog = backlog;
    this.limit = limit;
  }
}

// Set by the Topic class's static block: delivery of a frame from another server.
let deliver: (topic: Topic, frame: Uint8Array) => number;

/**
 * A server-side group of peers that get the same notifications. A notification is encoded
 * once and the same frame bytes are queued to every member, TCP and WebSocket alike, each
 * written with that peer's other frames in order. A member leaves by itself when its
 * connection closes. A member that does not keep up (its unwritten backlog over
 * `maxBacklogBytes`) is skipped or closed, by the `slowMembers` policy: memory stays bounded.
 *
 * A topic made with `new Topic()` is local to this process; the topics of a {@linkcode Hub}
 * span every server on its backplane.
 *
 * @example A room: two members get one notification
 * ```ts
 * import { Handlers, Peer, pipePair, Topic } from "@gotalk/gotalk";
 * import assert from "node:assert/strict";
 *
 * const room = new Topic("general");
 * const clients = [0, 1].map(() => {
 *   const [serverSide, clientSide] = pipePair();
 *   const member = new Peer(serverSide);
 *   room.join(member);
 *   const got = Promise.withResolvers<string>();
 *   const handlers = new Handlers().handleNotification("message", got.resolve);
 *   return { client: new Peer(clientSide, { handlers }), got: got.promise, member };
 * });
 * assert.equal(room.notify("message", "hi all"), 2);
 * for (const c of clients) assert.equal(await c.got, "hi all");
 * for (const c of clients) c.client.abort();
 * await Promise.all(clients.map((c) => c.member.closed));
 * assert.equal(room.size, 0); // members leave when their connection closes
 * ```
 */
export class Topic {
  /** The topic's name. */
  readonly name: string;
  readonly #members = new Map<Peer, FrameSink>();
  readonly #watched = new WeakSet<Peer>();
  readonly #maxBacklog: number;
  readonly #policy: SlowMemberPolicy;
  readonly #onSlow: ((peer: Peer, topic: Topic) => void) | undefined;
  readonly #stats: TopicStats = { notifications: 0, delivered: 0, skipped: 0, closed: 0 };

  /**
   * Creates a topic local to this process (see {@linkcode Hub.topic} for one that spans
   * servers).
   *
   * @param name The name.
   * @param options The slow-member policy.
   * @throws {RangeError} If `maxBacklogBytes` is not a non-negative number.
   * @throws {TypeError} If `slowMembers` is not `"skip"` or `"close"`.
   */
  constructor(name: string, options?: TopicOptions) {
    const max = options?.maxBacklogBytes ?? 1024 * 1024;
    if (!(max >= 0)) throw new RangeError(`maxBacklogBytes must be non-negative, got ${max}`);
    const policy = options?.slowMembers ?? "skip";
    if (policy !== "skip" && policy !== "close") {
      throw new TypeError(`slowMembers must be "skip" or "close", got ${JSON.stringify(policy)}`);
    }
    this.name = name;
    this.#maxBacklog = max;
    this.#policy = policy;
    this.#onSlow = options?.onSlowMember;
  }

  /**
   * The number of members on this server.
   *
   * @returns The count.
   *
   * @example Usage
   * ```ts
   * import { Peer, pipePair, Topic } from "@gotalk/gotalk";
   * import assert from "node:assert/strict";
   *
   * const [a, b] = pipePair();
   * const peer = new Peer(a);
   * const topic = new Topic("t");
   * topic.join(peer);
   * assert.equal(topic.size, 1);
   * peer.abort();
   * b.close();
   * ```
   */
  get size(): number {
    return this.#members.size;
  }

  /**
   * The members on this server.
   *
   * @returns An iterator over them.
   *
   * @example Usage
   * ```ts
   * import { Peer, pipePair, Topic } from "@gotalk/gotalk";
   * import assert from "node:assert/strict";
   *
   * const [a, b] = pipePair();
   * const peer = new Peer(a);
   * const topic = new Topic("t");
   * topic.join(peer);
   * assert.deepEqual([...topic.members()], [peer]);
   * peer.abort();
   * b.close();
   * ```
   */
  members(): IterableIterator<Peer> {
    return this.#members.keys();
  }

  /**
   * The topic's counters (a snapshot).
   *
   * @returns Notifications, deliveries, skips, closes.
   *
   * @example Usage
   * ```ts
   * import { Topic } from "@gotalk/gotalk";
   * import assert from "node:assert/strict";
   *
   * const topic = new Topic("t");
   * topic.notify("n", 1);
   * assert.equal(topic.stats.notifications, 1);
   * ```
   */
  get stats(): TopicStats {
    return { ...this.#stats };
  }

  /**
   * Adds `peer` (a no-op if it is a member already). It leaves by itself when its connection
   * closes.
   *
   * @param peer A peer of this library (such as one a {@linkcode Server} accepted).
   * @returns `true` if it was not a member before.
   * @throws {TypeError} If `peer` is not a {@linkcode Peer}.
   *
   * @example Usage
   * ```ts
   * import { Peer, pipePair, Topic } from "@gotalk/gotalk";
   * import assert from "node:assert/strict";
   *
   * const [a, b] = pipePair();
   * const peer = new Peer(a);
   * const topic = new Topic("t");
   * assert.equal(topic.join(peer), true);
   * assert.equal(topic.join(peer), false);
   * peer.abort();
   * await peer.closed;
   * assert.equal(topic.has(peer), false);
   * b.close();
   * ```
   */
  join(peer: Peer): boolean {
    if (this.#members.has(peer)) return false;
    const sink = frameSink(peer);
    if (sink === undefined) throw new TypeError("A topic member must be a Peer");
    if (!peer.isOpen) return false;
    this.#members.set(peer, sink);
    if (!this.#watched.has(peer)) {
      this.#watched.add(peer);
      peer.closed.then(() => this.leave(peer));
    }
    topicLink(this)?.changed(peer, true);
    return true;
  }

  /**
   * Removes `peer`.
   *
   * @param peer The member.
   * @returns `true` if it was a member.
   *
   * @example Usage
   * ```ts
   * import { Peer, pipePair, Topic } from "@gotalk/gotalk";
   * import assert from "node:assert/strict";
   *
   * const [a, b] = pipePair();
   * const peer = new Peer(a);
   * const topic = new Topic("t");
   * topic.join(peer);
   * assert.equal(topic.leave(peer), true);
   * assert.equal(topic.leave(peer), false);
   * peer.abort();
   * b.close();
   * ```
   */
  leave(peer: Peer): boolean {
    if (!this.#members.delete(peer)) return false;
    topicLink(this)?.changed(peer, false);
    return true;
  }

  /**
   * Whether `peer` is a member.
   *
   * @param peer A peer.
   * @returns `true` if it is.
   *
   * @example Usage
   * ```ts
   * import { Peer, pipePair, Topic } from "@gotalk/gotalk";
   * import assert from "node:assert/strict";
   *
   * const [a, b] = pipePair();
   * const peer = new Peer(a);
   * assert.equal(new Topic("t").has(peer), false);
   * peer.abort();
   * b.close();
   * ```
   */
  has(peer: Peer): boolean {
    return this.#members.has(peer);
  }

  /**
   * Sends a JSON notification to every member (on every server, for a hub's topic).
   *
   * @param name The notification name.
   * @param value The value (`JSON.stringify`-able).
   * @returns The number of members on this server it was queued to.
   * @throws {TypeError} When JSON cannot carry `value` faithfully.
   * @throws {BackplanePayloadTooLargeError} When the frame is over the backplane's limit
   * (nothing is sent, here or elsewhere).
   *
   * @example Usage
   * ```ts
   * import { Topic } from "@gotalk/gotalk";
   * import assert from "node:assert/strict";
   *
   * assert.equal(new Topic("empty").notify("n", { a: 1 }), 0);
   * ```
   */
  notify(name: string, value?: unknown): number {
    return this.bufferNotify(name, encodeJson(value, "notification", name));
  }

  /**
   * Sends a notification with a raw payload to every member.
   *
   * @param name The notification name.
   * @param payload The payload (do not modify it afterwards).
   * @returns The number of members on this server it was queued to.
   * @throws {RangeError} When the frame is larger than Gotalk can carry.
   * @throws {BackplanePayloadTooLargeError} When the frame is over the backplane's limit.
   *
   * @example Usage
   * ```ts
   * import { Topic } from "@gotalk/gotalk";
   * import assert from "node:assert/strict";
   *
   * assert.equal(new Topic("empty").bufferNotify("n", new Uint8Array([1])), 0);
   * ```
   */
  bufferNotify(name: string, payload: Uint8Array): number {
    const frame = encodeMessage({ type: "n", name, payload });
    topicLink(this)?.publish(frame);
    return this.#deliver(frame);
  }

  #deliver(frame: Uint8Array): number {
    this.#stats.notifications++;
    let delivered = 0;
    for (const [peer, sink] of this.#members) {
      const backlog = sink.backlog;
      if (backlog > this.#maxBacklog) {
        this.#slow(peer, backlog);
        continue;
      }
      sink.sendFrame(frame);
      delivered++;
    }
    this.#stats.delivered += delivered;
    return delivered;
  }

  #slow(peer: Peer, backlog: number): void {
    if (this.#policy === "skip") {
      this.#stats.skipped++;
    } else {
      this.#stats.closed++;
      this.leave(peer);
      peer.abort(new SlowMemberError(this.name, backlog, this.#maxBacklog));
    }
    this.#onSlow?.(peer, this);
  }

  static {
    deliver = (topic, frame) => topic.#deliver(frame);
  }
}

/** Queues a frame that came from another server to the local members (the hub's use). */
export function deliverFrame(topic: Topic, frame: Uint8Array): number {
  return deliver(topic, frame);
}
