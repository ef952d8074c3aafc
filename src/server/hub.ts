// This module is browser compatible.

import { encodeMessage } from "../protocol/mod.ts";
import { frameSink } from "../peer/_peer_seam.ts";
import type { Handlers } from "../peer/handlers.ts";
import type { BufferHandler } from "../peer/handler_types.ts";
import { encodeJson } from "../peer/_payload.ts";
import type { Peer } from "../peer/peer.ts";
import {
  type Backplane,
  BackplanePayloadTooLargeError,
  type BackplaneSubscription,
  NoRespondersError,
} from "./backplane.ts";
import { InProcessBackplane } from "./in_process_backplane.ts";
import { deliverFrame, Topic, type TopicOptions } from "./topic.ts";
import { forwarder, serveOps } from "./_cluster_ops.ts";
import {
  randomId,
  type Subjects,
  subjects,
  unwrapTopicFrame,
  wrapTopicFrame,
} from "./_hub_wire.ts";
import { linkTopic } from "./_topic_link.ts";

/**
 * Options for a {@linkcode Hub}: its backplane, and the slow-member policy of its topics.
 *
 * @example A hub alone in its process (the default backplane)
 * ```ts
 * import { Hub, type HubOptions } from "@gotalk/gotalk";
 * import assert from "node:assert/strict";
 *
 * const options: HubOptions = { maxBacklogBytes: 512 * 1024, slowMembers: "skip" };
 * const hub = new Hub(options);
 * assert.equal(hub.topic("a"), hub.topic("a"));
 * await hub.close();
 * ```
 */
export interface HubOptions extends TopicOptions {
  /**
   * The bus to the other servers. The hub does not close it.
   *
   * @default {new InProcessBackplane()}
   */
  backplane?: Backplane;
  /**
   * The first token of every subject the hub uses (`PREFIX.t.TOPIC`, `PREFIX.op.OP`,
   * `PREFIX.p.ID`): hubs with the same prefix on one backplane are one cluster.
   *
   * @default {"gotalk"}
   */
  subjectPrefix?: string;
  /**
   * How long a request forwarded to the cluster ({@linkcode Hub.forward}) or a message to a
   * peer on another server waits for its answer, in ms.
   *
   * @default {30000}
   */
  requestTimeoutMs?: number;
  /**
   * Gets the errors of publishes the backplane failed (say, while NATS is unreachable and the
   * client's reconnect buffer is full): the notification still reaches this server's members;
   * the other servers miss it (delivery is at most once).
   *
   * @default {undefined}
   */
  onError?: (error: unknown) => void;
}

interface Registered {
  id: string;
  subscription: BackplaneSubscription;
}

/**
 * One server's part of a cluster: its {@linkcode Topic}s (a topic spans every server on the
 * backplane: a notification on one reaches each member on every server once), peers reachable
 * by id from any server, and ops served by whichever server has them.
 *
 * Delivery is at most once and in order per publisher: a server that is cut off from the
 * backplane misses what is published meanwhile (NATS keeps nothing for it). Backlog bounds
 * (`maxBacklogBytes`, `slowMembers`) apply to every member, local or remote notifications
 * alike. With the default {@linkcode InProcessBackplane} the hub is one server alone; with
 * `NatsBackplane` (`@gotalk/gotalk/nats`) it is one of a cluster.
 *
 * @example Rooms for a server's connections
 * ```ts
 * import { Handlers, Hub, Peer, Server } from "@gotalk/gotalk";
 * import { connect, listen } from "@gotalk/gotalk/deno";
 * import assert from "node:assert/strict";
 *
 * const hub = new Hub();
 * const handlers = new Handlers()
 *   .handle("join", (room: string, ctx) => hub.topic(room).join(ctx.peer as Peer))
 *   .handle("say", ([room, text]: string[]) => hub.topic(room).notify("said", text));
 * const server = new Server(await listen({ hostname: "127.0.0.1", port: 0 }), { handlers });
 * const heard = Promise.withResolvers<string>();
 * const client = new Peer(await connect({ port: server.addr.port }), {
 *   handlers: new Handlers().handleNotification("said", heard.resolve),
 * });
 * assert.equal(await client.request("join", "lobby"), true);
 * assert.equal(await client.request("say", ["lobby", "hello"]), 1);
 * assert.equal(await heard.promise, "hello");
 * await client.close();
 * await server.close();
 * await hub.close();
 * ```
 */
export class Hub {
  /** This server's id in the cluster (random). */
  readonly nodeId: string = randomId();
  readonly #origin: Uint8Array;
  readonly #backplane: Backplane;
  readonly #names: Subjects;
  readonly #options: TopicOptions;
  readonly #timeoutMs: number;
  readonly #onError: ((error: unknown) => void) | undefined;
  readonly #topics = new Map<string, Topic>();
  readonly #subscriptions = new Map<Topic, BackplaneSubscription>();
  readonly #ids = new Map<string, Peer>();
  readonly #registered = new Map<Peer, Registered>();
  readonly #served: Array<{ close(): void }> = [];
  #forward: BufferHandler | undefined;
  #closed = false;

  /**
   * Creates a hub.
   *
   * @param options The backplane, the subject prefix, the topics' slow-member policy.
   * @throws {RangeError} If an option is out of range.
   */
  constructor(options?: HubOptions) {
    this.#backplane = options?.backplane ?? new InProcessBackplane();
    this.#names = subjects(options?.subjectPrefix ?? "gotalk");
    this.#origin = new TextEncoder().encode(this.nodeId);
    this.#timeoutMs = options?.requestTimeoutMs ?? 30_000;
    this.#onError = options?.onError;
    if (!(this.#timeoutMs > 0)) {
      throw new RangeError(`requestTimeoutMs must be positive, got ${this.#timeoutMs}`);
    }
    this.#options = {
      maxBacklogBytes: options?.maxBacklogBytes,
      slowMembers: options?.slowMembers,
      onSlowMember: options?.onSlowMember,
    };
    new Topic("", this.#options); // validates the topic options now
  }

  /**
   * The topic `name` (created on first use). It subscribes to the backplane while it has
   * members on this server; publishing needs no members here.
   *
   * @param name The topic's name (any string).
   * @returns The topic; the same object for the same name.
   *
   * @example Usage
   * ```ts
   * import { Hub } from "@gotalk/gotalk";
   * import assert from "node:assert/strict";
   *
   * const hub = new Hub();
   * assert.equal(hub.topic("news").name, "news");
   * await hub.close();
   * ```
   */
  topic(name: string): Topic {
    let topic = this.#topics.get(name);
    if (topic !== undefined) return topic;
    const t = topic = new Topic(name, this.#options);
    this.#topics.set(name, t);
    const subject = this.#names.topic(name);
    linkTopic(t, {
      publish: (frame) => {
        if (this.#closed) return;
        const data = wrapTopicFrame(this.#origin, frame);
        const max = this.#backplane.maxPayloadBytes;
        if (data.length > max) throw new BackplanePayloadTooLargeError(data.length, max);
        try {
          this.#backplane.publish(subject, data);
        } catch (e) {
          // At most once: the local members still get it; the other servers miss it.
          this.#onError?.(e);
        }
      },
      changed: () => {
        const sub = this.#subscriptions.get(t);
        if (t.size > 0 && sub === undefined && !this.#closed) {
          this.#subscriptions.set(
            t,
            this.#backplane.subscribe(subject, (data) => {
              const frame = unwrapTopicFrame(data, this.#origin);
              if (frame !== undefined) deliverFrame(t, frame);
            }),
          );
        } else if (t.size === 0 && sub !== undefined) {
          sub.unsubscribe();
          this.#subscriptions.delete(t);
        }
      },
    });
    return t;
  }

  /**
   * Makes `peer` reachable by `id` from every server ({@linkcode Hub.notifyPeer}), until its
   * connection closes.
   *
   * @param peer A peer of this library.
   * @param id Its id (default: a random one).
   * @returns The id.
   * @throws {TypeError} If `peer` is not a Peer, or `id` is taken on this server.
   *
   * @example Usage
   * ```ts
   * import { Hub, Peer, pipePair } from "@gotalk/gotalk";
   * import assert from "node:assert/strict";
   *
   * const hub = new Hub();
   * const [a, b] = pipePair();
   * const peer = new Peer(a);
   * assert.equal(hub.register(peer, "ada"), "ada");
   * assert.equal(hub.idOf(peer), "ada");
   * peer.abort();
   * b.close();
   * await hub.close();
   * ```
   */
  register(peer: Peer, id?: string): string {
    const existing = this.#registered.get(peer);
    if (existing !== undefined && (id === undefined || id === existing.id)) return existing.id;
    if (frameSink(peer) === undefined) throw new TypeError("Only a Peer can be registered");
    const key = id ?? randomId();
    if (this.#ids.has(key)) throw new TypeError(`The id ${JSON.stringify(key)} is taken`);
    if (existing !== undefined) this.#unregister(peer);
    const subscription = this.#backplane.serve(this.#names.peer(key), key, (frame) => {
      return new Uint8Array([this.#deliverTo(key, frame.slice()) ? 1 : 0]);
    });
    this.#ids.set(key, peer);
    this.#registered.set(peer, { id: key, subscription });
    peer.closed.then(() => this.#unregister(peer, key));
    return key;
  }

  /**
   * The id `peer` was registered with.
   *
   * @param peer A peer.
   * @returns The id, or `undefined`.
   *
   * @example Usage
   * ```ts
   * import { Hub, Peer, pipePair } from "@gotalk/gotalk";
   * import assert from "node:assert/strict";
   *
   * const hub = new Hub();
   * const [a, b] = pipePair();
   * const peer = new Peer(a);
   * assert.equal(hub.idOf(peer), undefined);
   * peer.abort();
   * b.close();
   * await hub.close();
   * ```
   */
  idOf(peer: Peer): string | undefined {
    return this.#registered.get(peer)?.id;
  }

  /**
   * Sends a JSON notification to the peer registered as `id`, on whichever server it is.
   *
   * @param id The peer's id.
   * @param name The notification name.
   * @param value The value.
   * @returns `true` if a server had the peer and queued it, `false` if none did (or the peer
   * was over its backlog bound).
   * @throws {BackplanePayloadTooLargeError} When the frame is over the backplane's limit.
   *
   * @example Usage
   * ```ts
   * import { Handlers, Hub, Peer, pipePair } from "@gotalk/gotalk";
   * import assert from "node:assert/strict";
   *
   * const hub = new Hub();
   * const [a, b] = pipePair();
   * const got = Promise.withResolvers<string>();
   * const client = new Peer(b, { handlers: new Handlers().handleNotification("dm", got.resolve) });
   * hub.register(new Peer(a), "ada");
   * assert.equal(await hub.notifyPeer("ada", "dm", "hi Ada"), true);
   * assert.equal(await got.promise, "hi Ada");
   * assert.equal(await hub.notifyPeer("nobody", "dm", "hi"), false);
   * client.abort();
   * await hub.close();
   * ```
   */
  notifyPeer(id: string, name: string, value?: unknown): Promise<boolean> {
    return this.bufferNotifyPeer(id, name, encodeJson(value, "notification", name));
  }

  /**
   * Sends a raw notification to the peer registered as `id`, on whichever server it is.
   *
   * @param id The peer's id.
   * @param name The notification name.
   * @param payload The payload.
   * @returns `true` if a server had the peer and queued it.
   * @throws {BackplanePayloadTooLargeError} When the frame is over the backplane's limit.
   *
   * @example Usage
   * ```ts
   * import { Hub } from "@gotalk/gotalk";
   * import assert from "node:assert/strict";
   *
   * const hub = new Hub();
   * assert.equal(await hub.bufferNotifyPeer("nobody", "n", new Uint8Array([1])), false);
   * await hub.close();
   * ```
   */
  async bufferNotifyPeer(id: string, name: string, payload: Uint8Array): Promise<boolean> {
    const frame = encodeMessage({ type: "n", name, payload });
    if (this.#ids.has(id)) return this.#deliverTo(id, frame);
    try {
      const reply = await this.#backplane.request(this.#names.peer(id), frame, {
        timeoutMs: this.#timeoutMs,
      });
      return reply[0] === 1;
    } catch (e) {
      if (e instanceof NoRespondersError) return false;
      throw e;
    }
  }

  /**
   * Offers `ops` of `handlers` to the other servers: a request for one of them that reaches a
   * server without it (through {@linkcode Hub.forward}) is answered here, or by another server
   * offering it (one answers each request). The handlers run on an in-memory peer: their
   * `ctx.peer` cannot call the original client back.
   *
   * @param handlers The handlers.
   * @param ops The ops to offer.
   *
   * @example Two hubs on one bus: B answers what A does not handle
   * ```ts
   * import { Handlers, Hub, InProcessBackplane, Peer, pipePair } from "@gotalk/gotalk";
   * import assert from "node:assert/strict";
   *
   * const bus = new InProcessBackplane();
   * const [hubA, hubB] = [new Hub({ backplane: bus }), new Hub({ backplane: bus })];
   * hubB.serve(new Handlers().handle("add", ([x, y]: number[]) => x + y), ["add"]);
   * const [serverSide, clientSide] = pipePair();
   * new Peer(serverSide, { handlers: new Handlers().handleFallback(hubA.forward) });
   * const client = new Peer(clientSide);
   * assert.equal(await client.request("add", [2, 3]), 5);
   * await assert.rejects(client.request("nope"), { message: 'unknown operation "nope"' });
   * client.abort();
   * await Promise.all([hubA.close(), hubB.close()]);
   * ```
   */
  serve(handlers: Handlers, ops: readonly string[]): void {
    if (this.#closed) return;
    this.#served.push(serveOps(this.#backplane, this.#names, handlers, ops));
  }

  /**
   * A fallback handler (`handlers.handleFallback(hub.forward)`) that forwards every op this
   * server has no handler for to the cluster ({@linkcode Hub.serve}); when no server offers
   * it, the caller promptly gets the ErrorResult `unknown operation "OP"`, the same text as
   * from a peer without the op (and Go's).
   *
   * @returns The handler.
   *
   * @example Nobody offers the op
   * ```ts
   * import { Handlers, Hub, Peer, pipePair, RemoteError } from "@gotalk/gotalk";
   * import assert from "node:assert/strict";
   *
   * const hub = new Hub();
   * const [a, b] = pipePair();
   * const server = new Peer(a, { handlers: new Handlers().handleFallback(hub.forward), logger: null });
   * const client = new Peer(b);
   * await assert.rejects(client.request("x"), RemoteError);
   * client.abort();
   * server.abort();
   * await hub.close();
   * ```
   */
  get forward(): BufferHandler {
    return this.#forward ??= forwarder(this.#backplane, this.#names, this.#timeoutMs);
  }

  /**
   * Resolves once this hub's subscriptions and messages so far reached the backplane (NATS: a
   * round trip to the server), so that, say, a member who just joined gets what other servers
   * publish from now on.
   *
   * @returns A promise.
   *
   * @example Usage
   * ```ts
   * import { Hub } from "@gotalk/gotalk";
   *
   * const hub = new Hub();
   * await hub.flush();
   * await hub.close();
   * ```
   */
  async flush(): Promise<void> {
    await this.#backplane.flush?.();
  }

  /**
   * Leaves the cluster: unsubscribes every topic, peer id and op from the backplane (the
   * backplane itself stays open; its owner closes it). Peers stay connected.
   *
   * @returns Resolves when done.
   *
   * @example Usage
   * ```ts
   * import { Hub } from "@gotalk/gotalk";
   *
   * const hub = new Hub();
   * await hub.close();
   * await hub.close(); // twice is fine
   * ```
   */
  close(): Promise<void> {
    if (this.#closed) return Promise.resolve();
    this.#closed = true;
    for (const sub of this.#subscriptions.values()) sub.unsubscribe();
    this.#subscriptions.clear();
    for (const peer of [...this.#registered.keys()]) this.#unregister(peer);
    for (const s of this.#served.splice(0)) s.close();
    return Promise.resolve();
  }

  #deliverTo(id: string, frame: Uint8Array): boolean {
    const peer = this.#ids.get(id);
    const sink = peer === undefined ? undefined : frameSink(peer);
    if (peer === undefined || sink === undefined || !peer.isOpen) return false;
    const max = this.#options.maxBacklogBytes ?? 1024 * 1024;
    if (sink.backlog > max) return false;
    sink.sendFrame(frame);
    return true;
  }

  #unregister(peer: Peer, id?: string): void {
    const r = this.#registered.get(peer);
    if (r === undefined || (id !== undefined && r.id !== id)) return;
    r.subscription.unsubscribe();
    this.#registered.delete(peer);
    this.#ids.delete(r.id);
  }
}
