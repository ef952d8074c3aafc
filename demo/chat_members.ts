/**
 * A chat client as the server knows it, and the two requests the server sends it: `whoami`
 * (once, when it connects) and `ping` (the latency shown next to its name).
 *
 * @module
 */
import type { Peer } from "../mod.ts";

/** A connected client. */
export interface Member {
  peer: Peer;
  /** Empty until it said who it is. */
  name: string;
  agent: string;
  transport: string;
  rooms: Set<string>;
  latencyMs: number | null;
  status: string;
  /** Resolves once the client said who it is (or failed to). */
  ready: Promise<void>;
}

/** A member for a new connection, not identified yet. */
export function newMember(peer: Peer, transport: string): Member {
  return {
    peer,
    name: "",
    agent: "?",
    transport,
    rooms: new Set(),
    latencyMs: null,
    status: "connecting",
    ready: Promise.resolve(),
  };
}

/** Asks the client who it is (bounded by 5 s); returns the name it wants (may be empty). */
export async function whoami(member: Member): Promise<string> {
  try {
    const t0 = performance.now();
    const who = await member.peer.request<{ name?: unknown; agent?: unknown }>("whoami", null, {
      timeoutMs: 5000,
    });
    member.latencyMs = Math.round((performance.now() - t0) * 10) / 10;
    member.status = "active";
    if (typeof who?.agent === "string") member.agent = who.agent.slice(0, 60);
    return typeof who?.name === "string" ? who.name.trim() : "";
  } catch {
    member.status = "no answer";
    return "";
  }
}

/** Pings the client once (bounded by 2 s) and records the answer. */
export async function ping(member: Member): Promise<void> {
  const t0 = performance.now();
  try {
    const answer = await member.peer.request<{ status?: unknown }>("ping", { t: Date.now() }, {
      timeoutMs: 2000,
    });
    member.latencyMs = Math.round((performance.now() - t0) * 10) / 10;
    member.status = typeof answer?.status === "string" ? answer.status.slice(0, 20) : "active";
  } catch {
    member.latencyMs = null;
    member.status = "no answer";
  }
}
