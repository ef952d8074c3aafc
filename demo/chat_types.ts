/**
 * The chat's data as the clients and the nodes see it, and the options of a `Chat`.
 *
 * @module
 */
import type { Backplane } from "../mod.ts";

/** A chat message. */
export interface ChatMessage {
  /** Unique in the cluster, increasing on each node (a Lamport clock and the node's bits). */
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

/** Options of a `Chat`. */
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
  /** The bus to the chat's other nodes. Default: none (an in-process backplane, alone). */
  backplane?: Backplane;
}

/** The rooms a chat starts with, and their first messages. */
export const DEFAULT_ROOMS: Record<string, string> = {
  general: "Welcome to #general. This chat speaks Gotalk: WebSocket for browsers, TCP for " +
    "terminals.",
  random: "Anything goes in #random.",
};
