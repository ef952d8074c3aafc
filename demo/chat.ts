/**
 * The chat: rooms, members, history, and the Gotalk operations both kinds of client use (browser
 * pages over WebSocket, terminal clients over TCP). Runtime-neutral: the servers that feed it
 * connections are in `demo/server.ts`.
 *
 * Each room is a topic of a {@linkcode Hub}: a message, a presence change or a `typing` goes to
 * the room's members on every node of the hub's backplane (one node alone by default; several
 * over NATS with `--nats` or `--nodes`). What the nodes tell each other besides (people, room
 * members, histories) is in `demo/chat_cluster.ts`; the people and rooms lists go to this
 * node's clients through a topic of its own.
 *
 * Client → server requests: `join`, `leave`, `rooms`, `send`, `who`, and `history` (a streaming
 * result, one JSON message per part). Client → server notification: `typing`.
 *
 * Who a connection is comes from the server's `onConnect` (`demo/identity.ts`: a page's connect
 * URL or cookie) as the peer's `data`; only terminals, which connect over TCP, are asked.
 *
 * Server → client requests: `whoami` (terminals, once per connection: name and agent) and
 * `ping` (every `pingIntervalMs`, and for `who`: the latency shown next to each name).
 * Server → client notifications: `welcome`, `message`, `presence`, `rooms`, `users`, `typing`.
 *
 * @module
 */
import { Handlers, Hub, InProcessBackplane, type Peer, Topic } from "../mod.ts";
import { ChatCluster, type NodeState } from "./chat_cluster.ts";
import { type Member, newMember, ping, whoami } from "./chat_members.ts";
import {
  type ChatMessage,
  type ChatOptions,
  type ChatUser,
  DEFAULT_ROOMS,
  type RoomInfo,
} from "./chat_types.ts";
import { USER_NAME } from "./identity.ts";

export type { ChatMessage, ChatOptions, ChatUser, RoomInfo } from "./chat_types.ts";

interface Room {
  name: string;
  history: ChatMessage[];
  /** Its members, on every node. */
  topic: Topic;
}

const ROOM_NAME = /^[a-z0-9][a-z0-9_-]{0,31}$/;
const MAX_TEXT = 2000;
const MAX_ROOMS = 100;
const enc = new TextEncoder();

/** The chat state and its handlers; one per server, shared by all its listeners. */
export class Chat {
  /** The handlers every connection's peer gets. */
  readonly handlers: Handlers;
  readonly #members = new Map<Peer, Member>();
  readonly #rooms = new Map<string, Room>();
  /** This node's identified clients (not a hub's topic: each node tells its own). */
  readonly #everyone = new Topic("everyone");
  readonly #historyLimit: number;
  readonly #log: (line: string) => void;
  readonly #server: string;
  readonly #timer: ReturnType<typeof setInterval> | undefined;
  readonly #hub: Hub;
  readonly #cluster: ChatCluster;
  #guests = 0;

  constructor(options: ChatOptions = {}) {
    this.#historyLimit = options.historyLimit ?? 500;
    this.#log = options.log ?? (() => {});
    this.#server = options.server ?? "";
    const backplane = options.backplane ?? new InProcessBackplane();
    this.#hub = new Hub({ backplane, subjectPrefix: "chat" });
    const every = options.pingIntervalMs ?? 5000;
    this.#cluster = new ChatCluster(backplane, this.#hub.nodeId, {
      state: () => this.#state(),
      message: (m) => this.#remember(this.#room(m.room), m),
      sync: () => Object.fromEntries([...this.#rooms].map(([name, r]) => [name, r.history])),
      changed: () => this.#broadcast(),
    }, every > 0 ? every : 5000);
    for (const [name, text] of Object.entries(options.rooms ?? DEFAULT_ROOMS)) {
      const id = this.#cluster.id();
      this.#room(name).history.push({ id, room: name, from: "server", text, ts: Date.now() });
    }
    this.handlers = this.#makeHandlers();
    if (every > 0) {
      this.#timer = setInterval(() => void this.#pingAll().then(() => this.#changed()), every);
    }
  }

  /**
   * Joins the other nodes: takes the rooms and histories one of them has (none when alone),
   * then answers that question for the nodes that start later.
   */
  async start(): Promise<void> {
    const seeds = new Set([...this.#rooms.values()].flatMap((r) => r.history.map((m) => m.id)));
    const rooms = await this.#cluster.sync();
    // Theirs replace our first messages (theirs begin with their own); what came meanwhile
    // stays, once, in id order.
    for (const [name, history] of Object.entries(rooms)) {
      const room = this.#room(name);
      const byId = new Map([...history, ...room.history].map((m) => [m.id, m]));
      for (const id of seeds) byId.delete(id);
      room.history = [...byId.values()].sort((a, b) => a.id - b.id).slice(-this.#historyLimit);
    }
  }

  /**
   * Starts serving a new connection: asks it who it is (`whoami`), then tracks it until it
   * closes. Call from a `Server`'s `onPeer`.
   */
  attach(peer: Peer, transport: string): void {
    const member = newMember(peer, transport);
    this.#members.set(peer, member);
    member.ready = this.#identify(member);
    void peer.closed.then(() => member.ready).then(() => this.#detach(member));
  }

  /** Stops the ping timer and leaves the other nodes (the servers close the connections). */
  async close(): Promise<void> {
    clearInterval(this.#timer);
    this.#cluster.close();
    await this.#hub.close();
  }

  #remember(room: Room, message: ChatMessage): void {
    room.history.push(message);
    if (room.history.length > this.#historyLimit) room.history.shift();
  }

  /** This node's part, for the others. */
  #state(): NodeState {
    const rooms: Record<string, string[]> = {};
    for (const room of this.#rooms.values()) rooms[room.name] = this.#localNames(room);
    return { node: this.#hub.nodeId, users: this.#localUsers(), rooms };
  }

  /** Something changed here: tell the other nodes and this node's clients. */
  #changed(): void {
    this.#cluster.announce();
    this.#broadcast();
  }

  #broadcast(): void {
    this.#everyone.notify("users", this.#users());
    this.#everyone.notify("rooms", this.#roomInfos());
  }

  async #identify(member: Member): Promise<void> {
    let wanted = "";
    // Pages: who they are was checked by the server's onConnect (see demo/identity.ts).
    const given = member.peer.data as { name?: string; agent: string } | undefined;
    if (given !== undefined) {
      wanted = given.name ?? "";
      member.agent = given.agent;
      member.status = "active";
    } else {
      wanted = await whoami(member);
    }
    if (!member.peer.isOpen) return;
    member.name = this.#uniqueName(USER_NAME.test(wanted) ? wanted : `guest-${++this.#guests}`);
    this.#log(`+ ${member.name} connected over ${member.transport} (${member.agent})`);
    void member.peer.notify("welcome", {
      name: member.name,
      rooms: this.#roomInfos(),
      server: this.#server,
    }).catch(() => {});
    this.#everyone.join(member.peer);
    this.#changed();
  }

  #detach(member: Member): void {
    this.#members.delete(member.peer);
    for (const name of member.rooms) this.#part(member, this.#rooms.get(name)!);
    if (member.name) {
      this.#log(`- ${member.name} disconnected`);
      this.#changed();
    }
  }

  #uniqueName(name: string): string {
    const taken = new Set(this.#users().map((u) => u.name));
    if (!taken.has(name)) return name;
    for (let i = 2;; i++) if (!taken.has(`${name}-${i}`)) return `${name}-${i}`;
  }

  /** The member behind a request, once it said who it is. */
  async #member(peer: Peer): Promise<Member> {
    const member = this.#members.get(peer);
    if (member === undefined) throw new Error("Not connected");
    await member.ready;
    return member;
  }

  #room(name: string): Room {
    let room = this.#rooms.get(name);
    if (room === undefined) {
      room = { name, history: [], topic: this.#hub.topic(`room.${name}`) };
      this.#rooms.set(name, room);
    }
    return room;
  }

  /** The names of a room's members on this node. */
  #localNames(room: Room): string[] {
    return [...room.topic.members()].map((p) => this.#members.get(p)?.name ?? "")
      .filter((n) => n !== "");
  }

  /** The names of a room's members on every node. */
  #names(room: Room): string[] {
    return this.#cluster.names(room.name, this.#localNames(room));
  }

  #roomInfos(): RoomInfo[] {
    // Rooms created on another node exist here too, from its state or a message.
    for (const name of this.#cluster.rooms()) this.#room(name);
    return [...this.#rooms.values()]
      .map((r) => ({ name: r.name, members: this.#names(r), messages: r.history.length }))
      .sort((a, b) => a.name.localeCompare(b.name));
  }

  /** The people on every node. */
  #users(): ChatUser[] {
    return this.#cluster.users(this.#localUsers());
  }

  #localUsers(): ChatUser[] {
    return [...this.#members.values()].filter((m) => m.name !== "").map((m) => ({
      name: m.name,
      agent: m.agent,
      transport: m.transport,
      rooms: [...m.rooms].sort(),
      latencyMs: m.latencyMs,
      status: m.status,
    }));
  }

  #part(member: Member, room: Room): void {
    member.rooms.delete(room.name);
    room.topic.leave(member.peer); // a closed connection has left already
    room.topic.notify("presence", {
      room: room.name,
      members: this.#names(room),
      left: member.name,
    });
    this.#changed();
  }

  /** Pings every identified client once. */
  async #pingAll(): Promise<void> {
    await Promise.all([...this.#members.values()].filter((m) => m.name !== "").map(ping));
  }

  /** The room a request names, which its member must have joined. */
  #joined(member: Member, value: unknown): Room {
    const room = this.#rooms.get(roomName(value));
    if (room === undefined || !room.topic.has(member.peer)) {
      throw new Error(`Join #${String(value)} first`);
    }
    return room;
  }

  #makeHandlers(): Handlers {
    return new Handlers()
      .handle("join", async (value: { room?: unknown }, ctx) => {
        const member = await this.#member(ctx.peer as Peer);
        const name = roomName(value?.room);
        const isNew = !this.#rooms.has(name);
        if (isNew && this.#rooms.size >= MAX_ROOMS) throw new Error("Too many rooms already");
        const room = this.#room(name);
        if (room.topic.join(member.peer)) {
          member.rooms.add(name);
          this.#log(`${member.name} joined #${name}`);
          const members = this.#names(room);
          room.topic.notify("presence", { room: name, members, joined: member.name });
          this.#changed();
        }
        if (isNew) this.#log(`room #${name} created by ${member.name}`);
        // Subscribed on the backplane before answering: what any node says next reaches it.
        await this.#hub.flush();
        return { room: name, members: this.#names(room), history: room.history.slice(-100) };
      })
      .handle("leave", async (value: { room?: unknown }, ctx) => {
        const member = await this.#member(ctx.peer as Peer);
        const room = this.#rooms.get(roomName(value?.room));
        if (room === undefined || !room.topic.has(member.peer)) return false;
        this.#part(member, room);
        this.#log(`${member.name} left #${room.name}`);
        return true;
      })
      .handle("rooms", () => this.#roomInfos())
      .handle("send", async (value: { room?: unknown; text?: unknown }, ctx) => {
        const member = await this.#member(ctx.peer as Peer);
        const room = this.#joined(member, value?.room);
        const text = typeof value?.text === "string" ? value.text.trim() : "";
        if (text === "") throw new Error("Empty message");
        if (text.length > MAX_TEXT) throw new Error(`Messages are at most ${MAX_TEXT} characters`);
        const id = this.#cluster.id();
        const message: ChatMessage = {
          id,
          room: room.name,
          from: member.name,
          text,
          ts: Date.now(),
        };
        this.#remember(room, message);
        this.#log(`[#${room.name}] ${member.name}: ${text}`);
        room.topic.notify("message", message);
        this.#cluster.message(message);
        return message;
      })
      .handle("history", (value: { room?: unknown }) => {
        // A streaming result: one message per part, as newline-terminated JSON, pulled by the
        // transport as it drains (a snapshot, so later messages do not change it).
        const room = this.#rooms.get(roomName(value?.room));
        if (room === undefined) throw new Error(`No room #${String(value?.room)}`);
        const snapshot = room.history.slice();
        let i = 0;
        return new ReadableStream<Uint8Array>({
          pull(controller) {
            if (i < snapshot.length) {
              controller.enqueue(enc.encode(JSON.stringify(snapshot[i++]) + "\n"));
            } else controller.close();
          },
        });
      })
      .handle("who", async () => {
        await this.#pingAll();
        this.#changed();
        return this.#users();
      })
      .handleNotification("typing", async (value: { room?: unknown }, ctx) => {
        const member = await this.#member(ctx.peer as Peer);
        const room = this.#rooms.get(typeof value?.room === "string" ? value.room : "");
        if (room === undefined || !room.topic.has(member.peer)) return;
        // To every member, the typist too: clients skip their own name.
        room.topic.notify("typing", { room: room.name, name: member.name });
      });
  }
}

function roomName(value: unknown): string {
  const name = typeof value === "string" ? value.trim().replace(/^#/, "").toLowerCase() : "";
  if (!ROOM_NAME.test(name)) {
    throw new Error("Room names are 1 to 32 letters, digits, - and _");
  }
  return name;
}
