/**
 * Who a chat connection is, decided by the server before the connection's peer starts (the
 * `Server`'s `onConnect`): for a page, the name in its connect URL (`/gotalk/?name=alice`) or in
 * its `gotalk-chat-name` cookie, checked here, and its browser from the upgrade request's
 * `User-Agent`. A name that is not a valid chat name refuses the connection (403, before the
 * WebSocket upgrade); no name at all makes a guest. Terminals over TCP have no upgrade request:
 * the chat asks them (`whoami`), under the same rules.
 *
 * @module
 */
import { type ConnectionInfo, type ConnectionRefused, refuse } from "../mod.ts";

/** What a name must look like: letters or digits first, then also ` _.-`, 24 at most. */
export const USER_NAME = /^[\p{L}\p{N}][\p{L}\p{N} _.-]{0,23}$/u;
/** The cookie the page keeps its name in. */
export const NAME_COOKIE = "gotalk-chat-name";

/** A page's identity: the name it asked for (`undefined`: a guest), and its browser. */
export interface Identity {
  name: string | undefined;
  agent: string;
}

/** The identity of a new connection; `undefined` for a terminal (TCP), which is asked. */
export function identify(info: ConnectionInfo): Identity | ConnectionRefused | undefined {
  const request = info.request;
  if (request === undefined) return undefined;
  const asked = new URL(request.url).searchParams.get("name") ??
    cookie(request.headers.get("cookie"), NAME_COOKIE);
  const name = asked?.trim() || undefined;
  if (name !== undefined && !USER_NAME.test(name)) {
    return refuse(403, `Not a valid chat name: ${JSON.stringify(name.slice(0, 40))}`);
  }
  return { name, agent: agentOf(request.headers.get("user-agent") ?? "") };
}

/** The value of cookie `name` in a `Cookie` header, or `null`. */
function cookie(header: string | null, name: string): string | null {
  for (const part of (header ?? "").split(";")) {
    const at = part.indexOf("=");
    if (at > 0 && part.slice(0, at).trim() === name) {
      try {
        return decodeURIComponent(part.slice(at + 1).trim());
      } catch {
        return null;
      }
    }
  }
  return null;
}

/** A short browser name from a `User-Agent`, such as `Chrome 156`. */
function agentOf(userAgent: string): string {
  const m = /(Firefox|Edg|HeadlessChrome|Chrome|Version)\/(\d+)/.exec(userAgent);
  if (!m) return userAgent.slice(0, 40) || "?";
  return `${m[1] === "Version" ? "Safari" : m[1] === "Edg" ? "Edge" : m[1]} ${m[2]}`;
}
