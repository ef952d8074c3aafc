// deno-lint-ignore-file no-console
/**
 * A bare socket server without the library, the floor of the per-connection memory rows
 * (`bench/_memory.ts`): it accepts, answers the Gotalk handshake `01` once it has read `01`, and
 * holds the connection. It uses the runtime API our transports use there: TCP on `Deno.listen`
 * (Deno), `Bun.listen` (Bun), `node:net` (Node); WebSocket on `node:http` + `ws` (Deno, Node)
 * and `Bun.serve`'s `websocket` handlers (Bun), upgrades at `/gotalk/`.
 *
 * Usage: `_bare.mjs tcp|ws [HOST:PORT]` (default 127.0.0.1:0); prints `READY tcp://HOST:PORT` or
 * `READY ws://HOST:PORT/gotalk/`.
 *
 * @module
 */

const transport = (globalThis.process?.argv ?? []).includes("ws") ? "ws" : "tcp";
const addrArg = (globalThis.process?.argv ?? []).find((a) => /^[\w.]+:\d+$/.test(a)) ??
  "127.0.0.1:0";
const host = addrArg.slice(0, addrArg.lastIndexOf(":"));
const port = Number(addrArg.slice(addrArg.lastIndexOf(":") + 1));
/** Held connections (so nothing is collected). */
const held = new Set();

function ready(p) {
  console.log(
    transport === "ws" ? `READY ws://${host}:${p}/gotalk/` : `READY tcp://${host}:${p}`,
  );
}

/** Whether `seen` (a string of what was read so far) completes the handshake. */
const handshaken = (seen) => seen.length >= 2 && seen.slice(0, 2) === "01";

async function denoTcp() {
  const listener = Deno.listen({ hostname: host, port });
  ready(listener.addr.port);
  for await (const conn of listener) {
    held.add(conn);
    (async () => {
      const buf = new Uint8Array(64);
      let seen = "";
      while (!handshaken(seen)) {
        const n = await conn.read(buf).catch(() => null);
        if (n === null) return conn.close();
        seen += new TextDecoder().decode(buf.subarray(0, n));
      }
      await conn.write(new TextEncoder().encode("01"));
      // Hold: read (and drop) until the peer closes.
      while ((await conn.read(buf).catch(() => null)) !== null);
      held.delete(conn);
      conn.close();
    })();
  }
}

function bunTcp() {
  const server = Bun.listen({
    hostname: host,
    port,
    socket: {
      open(s) {
        s.data = { seen: "", done: false };
        held.add(s);
      },
      data(s, d) {
        if (s.data.done) return;
        s.data.seen += new TextDecoder().decode(d);
        if (handshaken(s.data.seen)) {
          s.data.done = true;
          s.write("01");
        }
      },
      close(s) {
        held.delete(s);
      },
      error() {},
    },
  });
  ready(server.port);
}

async function nodeTcp() {
  const { createServer } = await import("node:net");
  const server = createServer((s) => {
    held.add(s);
    let seen = "";
    let done = false;
    s.on("data", (d) => {
      if (done) return;
      seen += d.toString("latin1");
      if (handshaken(seen)) {
        done = true;
        s.write("01");
      }
    });
    s.on("error", () => {});
    s.on("close", () => held.delete(s));
  });
  server.listen(port, host, () => ready(server.address().port));
}

function bunWs() {
  const server = Bun.serve({
    hostname: host,
    port,
    fetch(req, srv) {
      if (new URL(req.url).pathname === "/gotalk/" && srv.upgrade(req, { data: { seen: "" } })) {
        return undefined;
      }
      return new Response("not found", { status: 404 });
    },
    websocket: {
      open(ws) {
        held.add(ws);
      },
      message(ws, m) {
        if (ws.data.seen === null) return;
        ws.data.seen += typeof m === "string" ? m : new TextDecoder().decode(m);
        if (handshaken(ws.data.seen)) {
          ws.data.seen = null;
          ws.sendBinary(new TextEncoder().encode("01"));
        }
      },
      close(ws) {
        held.delete(ws);
      },
    },
  });
  ready(server.port);
}

async function nodeWs() {
  const { createServer } = await import("node:http");
  const { WebSocketServer } = await import("ws");
  const http = createServer((_req, res) => res.writeHead(404).end());
  const wss = new WebSocketServer({ server: http, path: "/gotalk/" });
  wss.on("connection", (ws) => {
    held.add(ws);
    let seen = "";
    ws.on("message", (d) => {
      if (seen === null) return;
      seen += Buffer.from(d).toString("latin1");
      if (handshaken(seen)) {
        seen = null;
        ws.send(Buffer.from("01"), { binary: true });
      }
    });
    ws.on("error", () => {});
    ws.on("close", () => held.delete(ws));
  });
  http.listen(port, host, () => ready(http.address().port));
}

const runtime = typeof Bun !== "undefined" ? "bun" : typeof Deno !== "undefined" ? "deno" : "node";
if (transport === "tcp") {
  await (runtime === "deno" ? denoTcp() : runtime === "bun" ? bunTcp() : nodeTcp());
} else await (runtime === "bun" ? bunWs() : nodeWs());
