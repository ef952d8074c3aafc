/**
 * The chat: rooms, members, history, and the Gotalk operations both kinds of client use (browser
 * pages over WebSocket, terminal clients over TCP). Runtime-neutral: the servers that feed it
 * connections are in `demo/server.ts`.
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
import { Handlers, type Session } from "../mod.ts";
import { USER_NAME } from "./identity.ts";

/** A chat message. */
export interface ChatMessage {
  /** Unique per server run, increasing. */
  id: number;
  room: string;
  from: string;
  text: string;
  /** Milliseconds since the epoch. */
  ts: number;
}

/** A connected user, as `who` and the `users` notification describe them. */
export interface ChatUser {
  name: string;
  /** What the client said it is, such as `Chrome 156` or `terminal (Deno 2.9.6)`. */
  agent: string;
  /** `ws` or `tcp`. */
  transport: string;
  rooms: string[];
  /** The round trip of the last `ping` the server sent, or `null` if unanswered. */
  latencyMs: number | null;
  /** What the client answered to the last `ping` (`active`, `away`), or `no answer`. */
  status: string;
}

/** A room, as `rooms` and the `rooms` notification describe it. */
export interface RoomInfo {
  name: string;
  members: string[];
  messages: number;
}

/** Options of a {@linkcode Chat}. */
export interface ChatOptions {
  /** Rooms that exist from the start, with a first message each. Default: general, random. */
  rooms?: Record<string, string>;
  /** Messages kept per room. Default: 500. */
  historyLimit?: number;
  /** How often every client is pinged (0: never). Default: 5000. */
  pingIntervalMs?: number;
  /** Where events are logged, one line each. Default: nowhere. */
  log?: (line: string) => void;
  /** Describes the server to clients (in `welcome`), e.g. `Deno 2.9.6, terminals on TCP 1236`. */
  server?: string;
}

interface Member {
  peer: Session;
  name: string;
  agent: string;
  transport: string;
  rooms: Set<string>;
  latencyMs: number | null;
  status: string;
  /** Resolves once the client said who it is (or failed to). */
  ready: Promise<void>;
}

interface Room {
  name: string;
  history: ChatMessage[];
  members: Set<Member>;
}

const ROOM_NAME = /^[a-z0-9][a-z0-9_-]{0,31}$/;
const MAX_TEXT = 2000;
const MAX_ROOMS = 100;
const enc = new TextEncoder();

/** The chat state and its handlers; one per server, shared by all its listeners. */
export class Chat {
  /** The handlers every connection's peer gets. */
  readonly handlers: Handlers;
  readonly #members = new Map<Session, Member>();
  readonly #rooms = new Map<string, Room>();
  readonly #historyLimit: number;
  readonly #log: (line: string) => void;
  readonly #server: string;
  readonly #timer: ReturnType<typeof setInterval> | undefined;
  #nextId = 1;
  #guests = 0;

  constructor(options: ChatOptions = {}) {
    this.#historyLimit = options.historyLimit ?? 500;
    this.#log = options.log ?? (() => {});
    this.#server = options.server ?? "";
    const seed = options.rooms ?? {
      general: "Welcome to #general. This chat speaks Gotalk: WebSocket for browsers, TCP for " +
        "terminals.",
      random: "Anything goes in #random.",
    };
    for (const [name, text] of Object.entries(seed)) {
      const room = this.#room(name);
      room.history.push({ id: this.#nextId++, room: name, from: "server", text, ts: Date.now() });
    }
    this.handlers = this.#makeHandlers();
    const every = options.pingIntervalMs ?? 5000;
    if (every > 0) {
      this.#timer = setInterval(
        () => void this.#pingAll().then(() => this.#broadcastUsers()),
        every,
      );
    }
  }

  /**
   * Starts serving a new connection: asks it who it is (`whoami`), then tracks it until it
   * closes. Call from a `Server`'s `onPeer`.
   */
  attach(peer: Session, transport: string): void {
    const member: Member = {
      peer,
      name: "",
      agent: "?",
      transport,
      rooms: new Set(),
      latencyMs: null,
      status: "connecting",
      ready: Promise.resolve(),
    };
    this.#members.set(peer, member);
    member.ready = this.#identify(member);
    void peer.closed.then(() => member.ready).then(() => this.#detach(member));
  }

  /** Stops the ping timer (the servers close the connections). */
  close(): void {
    clearInterval(this.#timer);
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
      await this.#ask(member).then((name) => wanted = name);
    }
    if (!member.peer.isOpen) return;
    member.name = this.#uniqueName(USER_NAME.test(wanted) ? wanted : `guest-${++this.#guests}`);
    this.#log(`+ ${member.name} connected over ${member.transport} (${member.agent})`);
    void member.peer.notify("welcome", {
      name: member.name,
      rooms: this.#roomInfos(),
      server: this.#server,
    })
      .catch(() => {});
    this.#broadcastUsers();
  }

  /** Asks a terminal who it is: the name it wants ("" if it does not say). */
  async #ask(member: Member): Promise<string> {
    let wanted = "";
    try {
      const t0 = performance.now();
      const who = await member.peer.request<{ name?: unknown; agent?: unknown }>("whoami", null, {
        timeoutMs: 5000,
      });
      member.latencyMs = Math.round((performance.now() - t0) * 10) / 10;
      member.status = "active";
      if (typeof who?.name === "string") wanted = who.name.trim();
      if (typeof who?.agent === "string") member.agent = who.agent.slice(0, 60);
    } catch {
      member.status = "no answer";
    }
    return wanted;
  }

  #detach(member: Member): void {
    this.#members.delete(member.peer);
    for (const name of member.rooms) this.#part(member, this.#rooms.get(name)!);
    if (member.name) {
      this.#log(`- ${member.name} disconnected`);
      this.#broadcastUsers();
    }
  }

  #uniqueName(name: string): string {
    const taken = new Set([...this.#members.values()].map((m) => m.name));
    if (!taken.has(name)) return name;
    for (let i = 2;; i++) if (!taken.has(`${name}-${i}`)) return `${name}-${i}`;
  }

  /** The member behind a request, once it said who it is. */
  async #member(peer: Session): Promise<Member> {
    const member = this.#members.get(peer);
    if (member === undefined) throw new Error("Not connected");
    await member.ready;
    return member;
  }

  #room(name: string): Room {
    let room = this.#rooms.get(name);
    if (room === undefined) {
      room = { name, history: [], members: new Set() };
      this.#rooms.set(name, room);
    }
    return room;
  }

  #roomInfos(): RoomInfo[] {
    return [...this.#rooms.values()]
      .map((r) => ({ name: r.name, members: names(r.members), messages: r.history.length }))
      .sort((a, b) => a.name.localeCompare(b.name));
  }

  #users(): ChatUser[] {
    return [...this.#members.values()].filter((m) => m.name !== "").map((m) => ({
      name: m.name,
      agent: m.agent,
      transport: m.transport,
      rooms: [...m.rooms].sort(),
      latencyMs: m.latencyMs,
      status: m.status,
    })).sort((a, b) => a.name.localeCompare(b.name));
  }

  #notify(members: Iterable<Member>, name: string, value: unknown): void {
    for (const m of members) {
      if (m.peer.isOpen) void m.peer.notify(name, value).catch(() => {});
    }
  }

  #broadcastUsers(): void {
    this.#notify(this.#members.values(), "users", this.#users());
  }

  #broadcastRooms(): void {
    this.#notify(this.#members.values(), "rooms", this.#roomInfos());
  }

  #part(member: Member, room: Room): void {
    member.rooms.delete(room.name);
    if (!room.members.delete(member)) return;
    this.#notify(room.members, "presence", {
      room: room.name,
      members: names(room.members),
      left: member.name,
    });
    this.#broadcastRooms();
  }

  /** Pings every identified client once (each bounded by 2 s) and records the answers. */
  async #pingAll(): Promise<void> {
    await Promise.all(
      [...this.#members.values()].filter((m) => m.name !== "").map(async (m) => {
        const t0 = performance.now();
        try {
          const answer = await m.peer.request<{ status?: unknown }>("ping", { t: Date.now() }, {
            timeoutMs: 2000,
          });
          m.latencyMs = Math.round((performance.now() - t0) * 10) / 10;
          m.status = typeof answer?.status === "string" ? answer.status.slice(0, 20) : "active";
        } catch {
          m.latencyMs = null;
          m.status = "no answer";
        }
      }),
    );
  }

  #makeHandlers(): Handlers {
    return new Handlers()
      .handle("join", async (value: { room?: unknown }, ctx) => {
        const member = await this.#member(ctx.peer);
        const name = roomName(value?.room);
        const isNew = !this.#rooms.has(name);
        if (isNew && this.#rooms.size >= MAX_ROOMS) throw new Error("Too many rooms already");
        const room = this.#room(name);
        if (!room.members.has(member)) {
          room.members.add(member);
          member.rooms.add(name);
          this.#log(`${member.name} joined #${name}`);
          this.#notify(room.members, "presence", {
            room: name,
            members: names(room.members),
            joined: member.name,
          });
          this.#broadcastRooms();
          this.#broadcastUsers();
        }
        if (isNew) this.#log(`room #${name} created by ${member.name}`);
        return { room: name, members: names(room.members), history: room.history.slice(-100) };
      })
      .handle("leave", async (value: { room?: unknown }, ctx) => {
        const member = await this.#member(ctx.peer);
        const room = this.#rooms.get(roomName(value?.room));
        if (room === undefined || !room.members.has(member)) return false;
        this.#part(member, room);
        this.#log(`${member.name} left #${room.name}`);
        this.#broadcastUsers();
        return true;
      })
      .handle("rooms", () => this.#roomInfos())
      .handle("send", async (value: { room?: unknown; text?: unknown }, ctx) => {
        const member = await this.#member(ctx.peer);
        const room = this.#rooms.get(roomName(value?.room));
        if (room === undefined || !room.members.has(member)) {
          throw new Error(`Join #${String(value?.room)} first`);
        }
        const text = typeof value?.text === "string" ? value.text.trim() : "";
        if (text === "") throw new Error("Empty message");
        if (text.length > MAX_TEXT) throw new Error(`Messages are at most ${MAX_TEXT} characters`);
        const message: ChatMessage = {
          id: this.#nextId++,
          room: room.name,
          from: member.name,
          text,
          ts: Date.now(),
        };
        room.history.push(message);
        if (room.history.length > this.#historyLimit) room.history.shift();
        this.#log(`[#${room.name}] ${member.name}: ${text}`);
        this.#notify(room.members, "message", message);
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
        this.#broadcastUsers();
        return this.#users();
      })
      .handleNotification("typing", async (value: { room?: unknown }, ctx) => {
        const member = await this.#member(ctx.peer);
        const room = this.#rooms.get(typeof value?.room === "string" ? value.room : "");
        if (room === undefined || !room.members.has(member)) return;
        const others = [...room.members].filter((m) => m !== member);
        this.#notify(others, "typing", { room: room.name, name: member.name });
      });
  }
}

function names(members: Iterable<Member>): string[] {
  return [...members].map((m) => m.name).sort();
}

function roomName(value: unknown): string {
  const name = typeof value === "string" ? value.trim().replace(/^#/, "").toLowerCase() : "";
  if (!ROOM_NAME.test(name)) {
    throw new Error("Room names are 1 to 32 letters, digits, - and _");
  }
  return name;
}
