// The chat page: plain DOM, no framework. It imports gotalk for TypeScript from the server's
// browser bundle and stays connected with ReconnectingPeer over a WebSocket at /gotalk/.
//
// URL parameters: ?name=alice (kept in the gotalk-chat-name cookie; without either, the server
// makes this page a guest) and ?room=general,random (rooms to join at start; default general). `window.chat` exposes the
// client and state, for the browser tests and the curious.
import { connectWebSocket, Handlers, ReconnectingPeer } from "/gotalk/gotalk.js";

const $ = (id) => document.getElementById(id);
const params = new URLSearchParams(location.search);
const enc = new TextEncoder();
const dec = new TextDecoder();

const state = {
  /** The name the server gave this page (in `welcome`): it decides, from our connect URL or cookie. */
  me: params.get("name") || nameCookie() || "",
  /** The room shown. */
  current: null,
  /**
   * Joined rooms: name → { messages, keys, members, unread }. `keys` holds a key per message
   * held (see messageKey), so that history merged in again after a reconnect adds only what is
   * new.
   */
  joined: new Map(),
  /** Every room (from the server's `rooms` notifications). */
  rooms: [],
  /** Connected users, with the latency the server measured (the last known, while offline). */
  users: [],
  /** Whether the page's connection is up: while it is down, everyone is shown offline. */
  online: false,
  /** room → name → timer. */
  typing: new Map(),
  server: "",
  /** What the server asked of this page, and what it pushed. */
  stats: { welcomes: 0, pings: 0, notifications: 0, opens: 0 },
};

// What the server may ask of this page (requests) and tell it (notifications).
const handlers = new Handlers()
  .handle("ping", (value) => {
    state.stats.pings++;
    return { t: value?.t, status: document.hidden ? "away" : "active" };
  })
  .handleNotification("welcome", (value) => {
    state.stats.notifications++;
    state.stats.welcomes++;
    state.me = value.name;
    state.server = value.server ?? "";
    if (Array.isArray(value.rooms)) state.rooms = value.rooms;
    renderHeader();
    renderRooms();
  })
  .handleNotification("message", (message) => {
    state.stats.notifications++;
    addMessage(message);
  })
  .handleNotification("presence", (value) => {
    state.stats.notifications++;
    const room = state.joined.get(value.room);
    if (!room) return;
    room.members = value.members;
    if (value.joined && value.joined !== state.me) systemLine(value.room, `${value.joined} joined`);
    if (value.left) systemLine(value.room, `${value.left} left`);
    renderRoomBar();
  })
  .handleNotification("rooms", (rooms) => {
    state.stats.notifications++;
    state.rooms = rooms;
    // The list carries each room's members on every node as this node knows them now. A
    // presence line is as of the join or leave it tells: one made on a node that had not yet
    // heard of the other nodes' members would otherwise stay the page's last word.
    for (const info of rooms) {
      const room = state.joined.get(info.name);
      if (room) room.members = info.members;
    }
    renderRooms();
    renderRoomBar();
  })
  .handleNotification("users", (users) => {
    state.stats.notifications++;
    state.users = users;
    renderUsers();
  })
  .handleNotification("typing", (value) => {
    state.stats.notifications++;
    // The room's topic tells every member, the typist too.
    if (value.name !== state.me) showTyping(value.room, value.name);
  });

const client = new ReconnectingPeer({
  // Who this page is travels with the upgrade request (the ?name here, or the cookie), and the
  // server checks it before it accepts the connection.
  connect: (signal) => connectWebSocket(connectUrl(), { signal }),
  handlers,
  minDelayMs: 250,
  maxDelayMs: 5000,
  onOpen: () => {
    state.stats.opens++;
    setStatus("connected");
    if (state.stats.opens > 1) systemLine(state.current, "reconnected");
    // After a reconnection: join again (the server forgot us) and merge each room's history
    // into what is shown (the scrollback stays; only messages not held yet are added).
    for (const name of state.joined.keys()) join(name, { show: false }).catch(showError);
  },
  onClose: () => {
    setStatus("disconnected");
    systemLine(state.current, "connection lost, reconnecting…");
  },
});

// --- Operations ------------------------------------------------------------------------------

/** Joins a room (or rejoins it): the answer carries its members and latest messages. */
async function join(name, { show = true } = {}) {
  const answer = await client.request("join", { room: name }, { timeoutMs: 10_000 });
  const room = roomState(answer.room);
  for (const message of answer.history) hold(room, message);
  room.members = answer.members;
  if (show || state.current === null) state.current = answer.room;
  if (state.current === answer.room) room.unread = 0;
  renderAll();
  return answer;
}

async function leave(name) {
  await client.request("leave", { room: name }, { timeoutMs: 10_000 });
  state.joined.delete(name);
  if (state.current === name) state.current = state.joined.keys().next().value ?? null;
  renderAll();
}

function send(text) {
  return client.request("send", { room: state.current, text }, { timeoutMs: 10_000 });
}

/** Asks the server to ping everyone now; it answers with the users and their latencies. */
async function who() {
  const users = await client.request("who", null, { timeoutMs: 10_000 });
  state.users = users;
  renderUsers();
  return users;
}

/**
 * The whole history of a room as a streaming result: a streaming request carrying the room
 * name, answered with one JSON message per part.
 */
async function exportHistory(name) {
  const peer = client.peer;
  if (!peer) throw new Error("Not connected");
  const { writable, readable } = peer.streamRequest("history", { timeoutMs: 10_000 });
  const writer = writable.getWriter();
  await writer.write(enc.encode(JSON.stringify({ room: name })));
  await writer.close();
  const reader = readable.getReader();
  const messages = [];
  let parts = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    parts++;
    for (const line of dec.decode(value).split("\n")) if (line) messages.push(JSON.parse(line));
  }
  return { parts, messages };
}

// --- State and rendering ---------------------------------------------------------------------

function roomState(name) {
  let room = state.joined.get(name);
  if (!room) {
    room = { messages: [], keys: new Set(), members: [], unread: 0 };
    state.joined.set(name, room);
  }
  return room;
}

/**
 * What tells messages apart across server runs: ids start again at 1 when the server restarts,
 * so the author, time and text identify a message.
 */
function messageKey(message) {
  return JSON.stringify([message.from, message.ts, message.text]);
}

/** Adds `message` to `room` unless it is held already; returns whether it was added. */
function hold(room, message) {
  const key = messageKey(message);
  if (room.keys.has(key)) return false;
  room.keys.add(key);
  room.messages.push(message);
  return true;
}

function addMessage(message) {
  const room = state.joined.get(message.room);
  if (!room || !hold(room, message)) return;
  clearTyping(message.room, message.from);
  if (message.room === state.current) {
    appendMessage(message);
  } else {
    room.unread++;
    renderRooms();
  }
}

function systemLine(roomName, text) {
  const room = state.joined.get(roomName);
  if (!room) return;
  const line = { system: true, text, ts: Date.now() };
  room.messages.push(line);
  if (roomName === state.current) appendMessage(line);
}

function showError(error) {
  if (state.current) systemLine(state.current, `⚠ ${error?.message ?? error}`);
}

function showTyping(roomName, name) {
  let names = state.typing.get(roomName);
  if (!names) state.typing.set(roomName, names = new Map());
  clearTimeout(names.get(name));
  names.set(name, setTimeout(() => clearTyping(roomName, name), 3000));
  renderTyping();
}

function clearTyping(roomName, name) {
  const names = state.typing.get(roomName);
  if (!names?.has(name)) return;
  clearTimeout(names.get(name));
  names.delete(name);
  renderTyping();
}

function setStatus(status) {
  state.online = status === "connected";
  document.body.dataset.status = status;
  $("status").textContent = state.online ? "● connected" : "○ reconnecting…";
  renderUsers();
}

function renderAll() {
  renderHeader();
  renderRooms();
  renderRoomBar();
  renderMessages();
  renderTyping();
}

function renderHeader() {
  if (document.activeElement !== $("name-input")) $("name-input").value = state.me;
  $("server").textContent = state.server ? `served by ${state.server}` : "";
}

function renderRooms() {
  const all = new Map(state.rooms.map((r) => [r.name, r]));
  for (const name of state.joined.keys()) {
    if (!all.has(name)) all.set(name, { name, members: [], messages: 0 });
  }
  const ul = $("rooms");
  ul.replaceChildren();
  for (const info of [...all.values()].sort((a, b) => a.name.localeCompare(b.name))) {
    const joined = state.joined.get(info.name);
    const li = el("li", { className: "room", dataset: { room: info.name } });
    li.classList.toggle("joined", Boolean(joined));
    li.classList.toggle("current", info.name === state.current);
    li.append(el("span", { className: "name", textContent: `#${info.name}` }));
    li.append(el("span", { className: "count", textContent: String(info.members.length) }));
    if (joined?.unread) {
      li.append(el("span", { className: "unread", textContent: String(joined.unread) }));
    }
    li.addEventListener("click", () => {
      if (state.joined.has(info.name)) {
        state.current = info.name;
        state.joined.get(info.name).unread = 0;
        renderAll();
      } else {
        join(info.name).catch(showError);
      }
    });
    ul.append(li);
  }
}

function renderUsers() {
  const ul = $("users");
  ul.replaceChildren();
  for (const user of state.users) {
    // While this page is disconnected it cannot know who is there: everyone shows offline.
    const status = state.online ? user.status : "offline";
    const li = el("li", { className: `user ${status.replace(/\W+/g, "-")}` });
    li.dataset.name = user.name;
    li.append(el("span", { className: "name", textContent: user.name }));
    const latency = !state.online
      ? "offline"
      : user.latencyMs === null
      ? "no answer"
      : `${user.latencyMs} ms`;
    li.append(el("small", { textContent: `${user.agent} · ${user.transport} · ${latency}` }));
    if (user.name === state.me) li.classList.add("me");
    ul.append(li);
  }
}

function renderRoomBar() {
  const room = state.current ? state.joined.get(state.current) : undefined;
  $("room-title").textContent = room ? `#${state.current}` : "no room";
  $("members").textContent = room ? room.members.join(", ") : "join a room on the left";
  $("leave").disabled = $("export").disabled = !room;
  $("text").disabled = !room;
}

function renderMessages() {
  const ul = $("messages");
  ul.replaceChildren();
  const room = state.current ? state.joined.get(state.current) : undefined;
  for (const message of room?.messages ?? []) appendMessage(message);
}

function appendMessage(message) {
  const ul = $("messages");
  const li = el("li", { className: message.system ? "sys" : "msg" });
  li.append(el("time", { textContent: new Date(message.ts).toTimeString().slice(0, 5) }));
  if (!message.system) {
    li.dataset.id = String(message.id);
    li.classList.toggle("mine", message.from === state.me);
    li.classList.toggle("server", message.from === "server");
    li.append(el("b", { className: "from", textContent: message.from }));
  }
  li.append(el("span", { className: "text", textContent: message.text }));
  ul.append(li);
  ul.scrollTop = ul.scrollHeight;
}

function renderTyping() {
  const names = [...(state.typing.get(state.current)?.keys() ?? [])];
  $("typing").textContent = names.length === 0
    ? ""
    : `${names.join(", ")} ${names.length === 1 ? "is" : "are"} typing…`;
}

function el(tag, props) {
  const node = document.createElement(tag);
  const { dataset, ...rest } = props ?? {};
  Object.assign(node, rest);
  Object.assign(node.dataset, dataset ?? {});
  return node;
}

/** The name kept in the cookie, if any. */
function nameCookie() {
  const pair = document.cookie.split("; ").find((c) => c.startsWith("gotalk-chat-name="));
  return pair ? decodeURIComponent(pair.slice("gotalk-chat-name=".length)) : null;
}

function setNameCookie(name) {
  document.cookie = `gotalk-chat-name=${encodeURIComponent(name)}; path=/; max-age=31536000; ` +
    "samesite=strict";
}

/** The WebSocket URL, with the ?name of this page's URL (otherwise the cookie says it). */
function connectUrl() {
  const url = new URL("/gotalk/", location.href);
  if (params.get("name")) url.searchParams.set("name", params.get("name"));
  return url;
}

// --- Input -----------------------------------------------------------------------------------

let lastTyping = 0;
$("text").addEventListener("input", () => {
  const now = Date.now();
  // Commands (`/who`, `/join …`) are not messages: nobody sees "is typing…" for them.
  if ($("text").value.trimStart().startsWith("/")) return;
  if (!state.current || !client.isOpen || now - lastTyping < 2000) return;
  lastTyping = now;
  client.notify("typing", { room: state.current }).catch(() => {});
});

$("composer").addEventListener("submit", (event) => {
  event.preventDefault();
  const input = $("text");
  const text = input.value.trim();
  if (!text) return;
  input.value = "";
  lastTyping = 0;
  command(text).catch(showError);
});

async function command(text) {
  const [verb, ...rest] = text.split(/\s+/);
  const arg = rest.join(" ");
  switch (verb) {
    case "/join":
      return void await join(arg);
    case "/leave":
      return void await leave(arg || state.current);
    case "/who": {
      const users = await who();
      const line = users.map((u) =>
        `${u.name} (${u.agent}, ${u.transport}, ${u.latencyMs ?? "?"} ms, ${u.status})`
      ).join("; ");
      return systemLine(state.current, `who: ${line}`);
    }
    case "/export":
      return void await download(state.current);
    default:
      if (verb.startsWith("/")) throw new Error(`Unknown command ${verb}`);
      await send(text);
  }
}

async function download(name) {
  const { parts, messages } = await exportHistory(name);
  const text = messages.map((m) => `${new Date(m.ts).toISOString()} ${m.from}: ${m.text}`)
    .join("\n") + "\n";
  const a = el("a", {
    href: URL.createObjectURL(new Blob([text], { type: "text/plain" })),
    download: `${name}.txt`,
  });
  a.click();
  URL.revokeObjectURL(a.href);
  systemLine(name, `exported ${messages.length} messages (${parts} streamed parts)`);
}

$("join-form").addEventListener("submit", (event) => {
  event.preventDefault();
  const name = $("join-input").value.trim();
  $("join-input").value = "";
  if (name) join(name).catch(showError);
});

$("name-form").addEventListener("submit", (event) => {
  event.preventDefault();
  const name = $("name-input").value.trim();
  if (!name || name === state.me) return;
  setNameCookie(name);
  const url = new URL(location.href);
  url.searchParams.set("name", name);
  url.searchParams.set("room", [...state.joined.keys()].join(",") || "general");
  location.href = url.href;
});

$("leave").addEventListener("click", () => leave(state.current).catch(showError));
$("export").addEventListener("click", () => download(state.current).catch(showError));

// --- Start -----------------------------------------------------------------------------------

if (params.get("name")) setNameCookie(params.get("name"));
renderAll();
const initial = (params.get("room") || "general").split(",").map((r) => r.trim()).filter(Boolean);
for (const [i, name] of initial.entries()) join(name, { show: i === 0 }).catch(showError);

globalThis.chat = { client, state, join, leave, send, who, exportHistory };
