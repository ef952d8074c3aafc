/**
 * What the chat's nodes tell each other over the backplane, beside the rooms' topics (which
 * carry the messages to the members on every node): each node's people and room members, each
 * message for every node's history, and a first history for a node that starts late. Alone (the
 * default in-process backplane), there is nobody to tell.
 *
 * Subjects: `chat.state` (a node's whole state, on every change and every `announceMs`; a node
 * not heard of for three of those is gone), `chat.message` (a message, for the histories), and
 * `chat.sync` (a request: the rooms and their histories, answered by one node).
 *
 * @module
 */
import { type Backplane, type BackplaneSubscription, NoRespondersError } from "../mod.ts";
import type { ChatMessage, ChatUser } from "./chat_types.ts";

/** One node's part of the chat, as it announces it. */
export interface NodeState {
  node: string;
  users: ChatUser[];
  /** Room → the names of its members on that node. */
  rooms: Record<string, string[]>;
  /** Set in a node's last word, when it stops. */
  gone?: boolean;
}

/** What a node answers to `chat.sync`: every room with its history. */
export type SyncReply = Record<string, ChatMessage[]>;

/** Hooks into the chat of this node. */
export interface ClusterHooks {
  /** This node's state now. */
  state(): NodeState;
  /** A message sent on another node. */
  message(message: ChatMessage): void;
  /** What this node has, for a node that starts. */
  sync(): SyncReply;
  /** Another node's state changed (or it went away). */
  changed(): void;
}

const enc = new TextEncoder();
const dec = new TextDecoder();
const json = (value: unknown) => enc.encode(JSON.stringify(value));

/** This node's link to the others. */
export class ChatCluster {
  readonly node: string;
  readonly #backplane: Backplane;
  readonly #hooks: ClusterHooks;
  readonly #others = new Map<string, { state: NodeState; seen: number }>();
  readonly #subscriptions: BackplaneSubscription[] = [];
  readonly #timer: ReturnType<typeof setInterval>;
  readonly #announceMs: number;
  readonly #bits = Math.floor(Math.random() * 1024);
  #clock = 0;
  #announcing = false;

  constructor(backplane: Backplane, node: string, hooks: ClusterHooks, announceMs = 5000) {
    this.#backplane = backplane;
    this.node = node;
    this.#hooks = hooks;
    this.#announceMs = announceMs;
    this.#subscriptions.push(
      backplane.subscribe("chat.state", (data) => this.#state(JSON.parse(dec.decode(data)))),
      backplane.subscribe("chat.message", (data) => {
        const { node, message } = JSON.parse(dec.decode(data));
        if (node === this.node) return;
        this.saw(message);
        hooks.message(message);
      }),
    );
    this.#timer = setInterval(() => {
      this.#expire();
      this.announce();
    }, announceMs);
  }

  /**
   * Asks one other node for the rooms and their histories (`{}` when there is none), then starts
   * answering that question itself (so that it never asks itself).
   */
  async sync(): Promise<SyncReply> {
    let reply: SyncReply = {};
    // Subscribed first: nothing sent after the answer was made is missed.
    await this.#backplane.flush?.();
    try {
      const data = await this.#backplane.request("chat.sync", new Uint8Array(), {
        timeoutMs: 3000,
      });
      reply = JSON.parse(dec.decode(data));
      for (const history of Object.values(reply)) for (const m of history) this.saw(m);
    } catch (error) {
      if (!(error instanceof NoRespondersError)) throw error;
    }
    this.#subscriptions.push(
      this.#backplane.serve("chat.sync", "chat-sync", () => json(this.#hooks.sync())),
    );
    this.announce();
    return reply;
  }

  /** Tells the others this node's state (once per microtask, however often it is called). */
  announce(): void {
    if (this.#announcing) return;
    this.#announcing = true;
    queueMicrotask(() => {
      this.#announcing = false;
      this.#backplane.publish("chat.state", json(this.#hooks.state()));
    });
  }

  /** Tells the others about a message sent here, for their histories. */
  message(message: ChatMessage): void {
    this.#backplane.publish("chat.message", json({ node: this.node, message }));
  }

  /** A new message id: a Lamport clock, times 1024, plus this node's bits. */
  id(): number {
    return ++this.#clock * 1024 + this.#bits;
  }

  /** Moves the clock past a message from another node. */
  saw(message: ChatMessage): void {
    this.#clock = Math.max(this.#clock, Math.floor(message.id / 1024));
  }

  /** The names of a room's members on every node, given this node's. */
  names(room: string, local: string[]): string[] {
    return [...new Set([...local, ...this.#states().flatMap((s) => s.rooms[room] ?? [])])].sort();
  }

  /** The people on every node, given this node's. */
  users(local: ChatUser[]): ChatUser[] {
    return [...local, ...this.#states().flatMap((s) => s.users)]
      .sort((a, b) => a.name.localeCompare(b.name));
  }

  /** The rooms the other nodes have. */
  rooms(): string[] {
    return this.#states().flatMap((s) => Object.keys(s.rooms));
  }

  #states(): NodeState[] {
    return [...this.#others.values()].map((o) => o.state);
  }

  /** Says goodbye and stops listening. */
  close(): void {
    clearInterval(this.#timer);
    this.#backplane.publish("chat.state", json({ ...this.#hooks.state(), gone: true }));
    for (const s of this.#subscriptions) s.unsubscribe();
  }

  #state(state: NodeState): void {
    if (state.node === this.node) return;
    const known = this.#others.has(state.node);
    if (state.gone) this.#others.delete(state.node);
    else this.#others.set(state.node, { state, seen: Date.now() });
    // A node that just appeared learns this one's state at once.
    if (!known && !state.gone) this.announce();
    this.#hooks.changed();
  }

  #expire(): void {
    const before = Date.now() - 3 * this.#announceMs;
    let changed = false;
    for (const [node, other] of this.#others) {
      if (other.seen < before) changed = this.#others.delete(node);
    }
    if (changed) this.#hooks.changed();
  }
}
