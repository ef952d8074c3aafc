/**
 * A terminal client for the chat demo (`demo/main.ts`), over TCP: reads lines from stdin and
 * sends them to the current room, prints what arrives. Like the page, it stays connected with
 * `ReconnectingPeer`: when the server goes away it prints `* Disconnected…`, keeps trying, and
 * once back prints `* Reconnected…` and joins its rooms again (showing only messages it has not
 * shown yet). It exits when it cannot join its first room within 10 s.
 *
 * Run: `node_modules/.bin/deno run -A demo/chat_client.ts --port TCPPORT [--host 127.0.0.1]
 * [--room general] [--name bob]`
 *
 * Commands: `/join ROOM` (and make it current), `/leave [ROOM]`, `/rooms`, `/who` (the server
 * pings everyone and lists the latencies), `/history` (the current room's history as a streaming
 * result), `/quit`. End of input also quits.
 *
 * @module
 */
// deno-lint-ignore-file no-console
import { parseArgs } from "node:util";
import { Handlers, ReconnectingPeer } from "../mod.ts";
import { connect } from "../src/transports/deno.ts";
import type { ChatMessage, ChatUser, RoomInfo } from "./chat.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    host: { type: "string", default: "127.0.0.1" },
    port: { type: "string" },
    room: { type: "string", default: "general" },
    name: { type: "string", default: Deno.env.get("USER") ?? "terminal" },
  },
});
const port = Number(values.port);
if (!Number.isInteger(port) || port < 1 || port > 65535) {
  console.error("Usage: chat_client.ts --port TCPPORT [--host H] [--room general] [--name bob]");
  Deno.exit(2);
}

let me = values.name;
let current = values.room.replace(/^#/, "");
/** The rooms joined, joined again after a reconnect. */
const rooms = new Set<string>();
/**
 * The messages shown, by author, time and text (ids start again at 1 when the server restarts),
 * so that history received again after a reconnect is not printed twice.
 */
const seen = new Set<string>();
const key = (m: ChatMessage) => JSON.stringify([m.from, m.ts, m.text]);
const time = (ts: number) => new Date(ts).toTimeString().slice(0, 5);
const show = (m: ChatMessage) => {
  seen.add(key(m));
  console.log(`${time(m.ts)} [#${m.room}] ${m.from}: ${m.text}`);
};

const handlers = new Handlers()
  .handle("whoami", () => ({ name: me, agent: `terminal, Deno ${Deno.version.deno}` }))
  .handle("ping", (v: { t?: number }) => ({ t: v?.t, status: "active" }))
  .handleNotification("welcome", (v: { name: string }) => {
    me = v.name;
    console.log(`* Connected as ${me}`);
  })
  .handleNotification("message", (m: ChatMessage) => show(m))
  .handleNotification(
    "presence",
    (p: { room: string; joined?: string; left?: string }) => {
      if (p.joined && p.joined !== me) console.log(`* ${p.joined} joined #${p.room}`);
      if (p.left) console.log(`* ${p.left} left #${p.room}`);
    },
  )
  // Lists pushed on every change: the terminal asks for them with /rooms and /who instead.
  .handleNotification("rooms", () => {})
  .handleNotification("users", () => {})
  .handleNotification("typing", () => {});

let opens = 0;
let quitting = false;
const peer = new ReconnectingPeer({
  connect: (signal) =>
    connect({
      hostname: values.host,
      port,
      signal: AbortSignal.any([signal, AbortSignal.timeout(10_000)]),
    }),
  handlers,
  minDelayMs: 250,
  maxDelayMs: 5000,
  onOpen: () => {
    if (++opens === 1) return;
    console.log(`* Reconnected to ${values.host}:${port}`);
    for (const room of rooms) {
      join(room, { again: true }).catch((e) => console.log(`! #${room}: ${e.message}`));
    }
  },
  onClose: (reason) => {
    if (quitting) return;
    console.log(`* Disconnected${reason ? `: ${reason.message}` : ""}; reconnecting…`);
  },
});

async function join(room: string, { again = false } = {}): Promise<void> {
  const r = await peer.request<{ room: string; members: string[]; history: ChatMessage[] }>(
    "join",
    { room },
    { timeoutMs: 10_000 },
  );
  rooms.add(r.room);
  const members = r.members.join(", ");
  if (again) {
    const news = r.history.filter((m) => !seen.has(key(m)));
    console.log(`* Rejoined #${r.room} (${members}), ${news.length} new messages:`);
    for (const m of news) show(m);
    return;
  }
  current = r.room;
  console.log(`* Joined #${r.room} (${members}), ${r.history.length} earlier messages:`);
  for (const m of r.history) show(m);
}

async function history(room: string): Promise<void> {
  const { writable, readable } = peer.streamRequest("history", { timeoutMs: 10_000 });
  const writer = writable.getWriter();
  await writer.write(new TextEncoder().encode(JSON.stringify({ room })));
  await writer.close();
  let parts = 0;
  for await (const part of readable as unknown as AsyncIterable<Uint8Array>) {
    parts++;
    for (const line of new TextDecoder().decode(part).split("\n")) {
      if (line) show(JSON.parse(line));
    }
  }
  console.log(`* #${room}: ${parts} messages streamed`);
}

async function command(line: string): Promise<boolean> {
  const [verb, ...rest] = line.split(/\s+/);
  const arg = rest.join(" ").replace(/^#/, "");
  switch (verb) {
    case "/quit":
      return false;
    case "/join":
      await join(arg);
      break;
    case "/leave": {
      const room = arg || current;
      await peer.request("leave", { room });
      rooms.delete(room);
      console.log(`* Left #${room}`);
      break;
    }
    case "/rooms":
      for (const r of await peer.request<RoomInfo[]>("rooms")) {
        console.log(`  #${r.name}: ${r.members.length} here, ${r.messages} messages`);
      }
      break;
    case "/who":
      for (const u of await peer.request<ChatUser[]>("who")) {
        const latency = u.latencyMs === null ? "no answer" : `${u.latencyMs} ms`;
        console.log(`  ${u.name} (${u.agent}, ${u.transport}): ${latency}, ${u.status}`);
      }
      break;
    case "/history":
      await history(arg || current);
      break;
    default:
      if (verb.startsWith("/")) console.log(`* Unknown command ${verb}`);
      else await peer.request("send", { room: current, text: line });
  }
  return true;
}

try {
  await join(current);
} catch (error) {
  console.error(
    `Cannot join #${current} on ${values.host}:${port}: ${(error as Error).message ?? error}`,
  );
  peer.abort();
  Deno.exit(1);
}
const lines = Deno.stdin.readable.pipeThrough(new TextDecoderStream());
let buffered = "";
reading: for await (const chunk of lines) {
  buffered += chunk;
  let i;
  while ((i = buffered.indexOf("\n")) >= 0) {
    const line = buffered.slice(0, i).trim();
    buffered = buffered.slice(i + 1);
    if (!line) continue;
    try {
      if (!await command(line)) break reading;
    } catch (error) {
      console.log(`! ${error instanceof Error ? error.message : error}`);
    }
  }
}
if (buffered.trim() && !buffered.trim().startsWith("/quit")) {
  await command(buffered.trim()).catch((e) => console.log(`! ${e.message}`));
}
quitting = true;
await peer.close({ timeoutMs: 2000 });
Deno.exit(0);
