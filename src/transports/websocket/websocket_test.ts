// The WebSocket transports on the wire: one message per header and payload, incoming messages as
// one byte stream, flow control, the origin policy and routes, and interop with the Go reference
// (github.com/rsms/gotalk v1.3.7) in both directions, and with its gotalk.js where it runs.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { connect as tcpConnect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { ConnectError, ConnectionClosedError, RemoteError } from "../../peer/errors.ts";
import { Handlers } from "../../peer/handlers.ts";
import { Peer } from "../../peer/peer.ts";
import type { Session } from "../../peer/session.ts";
import type { Transport } from "../../peer/transport.ts";
import { Server } from "../../server/server.ts";
import { runtimeName } from "../_test_factories.ts";
import { wsAdapter } from "./_test_factories.ts";
import type { WebSocketListener } from "./_server_core.ts";
import { webSocketTransport } from "./client.ts";
import { within } from "../../peer/_test_within.ts";

// deno-lint-ignore no-explicit-any
type Any = any;

const runtime = runtimeName();
const adapter = await wsAdapter();
const enc = new TextEncoder();
const dec = new TextDecoder();
const text = (b: Uint8Array) => dec.decode(b);

/** Resolves with `"timeout"` unless `promise` settles within `ms`. */
async function settlesWithin(promise: Promise<unknown>, ms: number): Promise<string> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([
      promise.then(() => "settled", () => "settled"),
      new Promise<string>((resolve) => timer = setTimeout(() => resolve("timeout"), ms)),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** Polls `cond` every few ms, up to a bound. */
async function until(cond: () => boolean, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`${what} not reached within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

function concat(chunks: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.byteLength, 0));
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.byteLength;
  }
  return out;
}

function bytesOf(data: unknown): Uint8Array {
  if (typeof data === "string") return enc.encode(data);
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  if (ArrayBuffer.isView(data)) {
    return new Uint8Array(data.buffer, data.byteOffset, data.byteLength).slice();
  }
  throw new Error(`Unexpected message data ${String(data)}`);
}

/** The `ws` package, loaded only where needed (Node has no global WebSocket or server). */
async function wsPackage(): Promise<Any> {
  const name = "ws";
  return await import(name);
}

/** One side of a WebSocket driven by hand: every message kept with its boundaries. */
interface RawSocket {
  readonly messages: Uint8Array[];
  readonly closed: boolean;
  readonly closeCode: number | undefined;
  send(data: string | Uint8Array): void;
  close(): void;
}

/** Tracks a standard (or `ws` package) WebSocket's messages and close. */
function track(ws: Any): RawSocket {
  ws.binaryType = "arraybuffer";
  const raw = {
    messages: [] as Uint8Array[],
    closed: false,
    closeCode: undefined as number | undefined,
    send: (data: string | Uint8Array) =>
      ws.send(typeof data === "string" ? enc.encode(data) : data),
    close: () => ws.close(),
  };
  ws.addEventListener("message", (e: Any) => raw.messages.push(bytesOf(e.data)));
  ws.addEventListener("close", (e: Any) => {
    raw.closed = true;
    raw.closeCode = e.code;
  });
  return raw;
}

/** Opens a raw WebSocket client to `url`, sending `Origin: origin`. */
async function rawClient(url: string, origin: string): Promise<RawSocket> {
  const Ctor: Any = runtime === "node" ? (await wsPackage()).WebSocket : globalThis.WebSocket;
  const ws = runtime === "node"
    ? new Ctor(url, { headers: { Origin: origin } })
    : new Ctor(url, { headers: { Origin: origin } });
  const raw = track(ws);
  await within(
    new Promise<void>((resolve, reject) => {
      ws.addEventListener("open", () => resolve());
      ws.addEventListener("close", () => reject(new Error("The raw client could not connect")));
    }),
    5000,
    "raw client open",
  );
  return raw;
}

/** A raw WebSocket server on 127.0.0.1: its first connection, with message boundaries kept. */
interface RawServer {
  url: string;
  connection(): Promise<RawSocket>;
  close(): void;
}

async function rawServer(): Promise<RawServer> {
  let resolveConnection!: (raw: RawSocket) => void;
  const connected = new Promise<RawSocket>((resolve) => resolveConnection = resolve);
  const g = globalThis as Any;
  if (runtime === "deno") {
    const server = g.Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (req: Any) => {
      const { socket, response } = g.Deno.upgradeWebSocket(req);
      const raw = track(socket);
      socket.addEventListener("open", () => resolveConnection(raw));
      return response;
    });
    return {
      url: `ws://127.0.0.1:${server.addr.port}/gotalk/`,
      connection: () => within(connected, 5000, "raw server connection"),
      close: () => void server.shutdown(),
    };
  }
  if (runtime === "bun") {
    const server = g.Bun.serve({
      hostname: "127.0.0.1",
      port: 0,
      fetch(req: Any, srv: Any) {
        return srv.upgrade(req, { data: {} }) ? undefined : new Response("no", { status: 400 });
      },
      websocket: {
        open(ws: Any) {
          const raw = {
            messages: [] as Uint8Array[],
            closed: false,
            closeCode: undefined as number | undefined,
            send: (data: string | Uint8Array) => ws.send(data),
            close: () => ws.close(),
          };
          ws.data.raw = raw;
          resolveConnection(raw);
        },
        message(ws: Any, message: Any) {
          ws.data.raw.messages.push(bytesOf(message));
        },
        close(ws: Any, code: number) {
          ws.data.raw.closed = true;
          ws.data.raw.closeCode = code;
        },
      },
    });
    return {
      url: `ws://127.0.0.1:${server.port}/gotalk/`,
      connection: () => within(connected, 5000, "raw server connection"),
      close: () => server.stop(true),
    };
  }
  const { WebSocketServer } = await wsPackage();
  const wss = new WebSocketServer({ host: "127.0.0.1", port: 0 });
  await new Promise((resolve) => wss.once("listening", resolve));
  wss.on("connection", (ws: Any) => resolveConnection(track(ws)));
  return {
    url: `ws://127.0.0.1:${wss.address().port}/gotalk/`,
    connection: () => within(connected, 5000, "raw server connection"),
    close: () => {
      for (const c of wss.clients) c.terminate();
      wss.close();
    },
  };
}

/** Sends a raw HTTP request and reads the status and headers (and a content-length body). */
function httpExchange(
  port: number,
  request: string,
): Promise<{ status: number; head: string; body: string }> {
  return within(
    new Promise((resolve, reject) => {
      const socket = tcpConnect({ host: "127.0.0.1", port }, () => socket.write(request));
      let buf = "";
      const finish = () => {
        const end = buf.indexOf("\r\n\r\n");
        if (end < 0) return false;
        const head = buf.slice(0, end);
        const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1]);
        const length = Number(/\r\ncontent-length: *(\d+)/i.exec(head)?.[1] ?? 0);
        let body = buf.slice(end + 4);
        if (/\r\ntransfer-encoding: *chunked/i.test(head)) {
          if (!body.endsWith("0\r\n\r\n")) return false;
          body = dechunk(body);
        } else if (status !== 101 && body.length < length) {
          return false;
        }
        socket.destroy();
        resolve({ status, head, body });
        return true;
      };
      socket.setEncoding("latin1");
      socket.on("data", (chunk: string) => {
        buf += chunk;
        finish();
      });
      socket.on("end", () => {
        if (!finish()) reject(new Error(`Incomplete HTTP response: ${JSON.stringify(buf)}`));
      });
      socket.on("error", reject);
    }),
    5000,
    "HTTP exchange",
  );
}

/** Decodes a complete chunked body (latin1 text). */
function dechunk(body: string): string {
  let out = "";
  for (let at = 0;;) {
    const eol = body.indexOf("\r\n", at);
    const size = parseInt(body.slice(at, eol), 16);
    if (!(size > 0)) return out;
    out += body.slice(eol + 2, eol + 2 + size);
    at = eol + 2 + size + 2;
  }
}

function upgradeRequest(port: number, path: string, headers: Record<string, string>): string {
  let head = `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n`;
  const all = {
    Upgrade: "websocket",
    Connection: "Upgrade",
    "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==",
    "Sec-WebSocket-Version": "13",
    ...headers,
  };
  for (const [k, v] of Object.entries(all)) head += `${k}: ${v}\r\n`;
  return head + "\r\n";
}

/** The headers and payloads in `messages` after the handshake, as a list of [header, payload]. */
function frames(messages: Uint8Array[]): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  for (let i = 1; i < messages.length; i++) {
    const header = text(messages[i]);
    const size = "hf".includes(header[0]) ? 0 : parseInt(header.slice(-8), 16);
    if (size === 0) {
      out.push([header, ""]);
    } else {
      const payload = messages[++i];
      assert.ok(payload, `payload of ${header} missing`);
      assert.equal(payload.byteLength, size, `payload of ${header} is one whole message`);
      out.push([header, text(payload)]);
    }
  }
  return out;
}

const echoHandlers = () =>
  new Handlers()
    .handleBuffer("echo", (p) => p)
    .handle("upper", (s: string) => s.toUpperCase())
    .handle("notify-back", async ({ name, value }: { name: string; value: unknown }, ctx) => {
      await ctx.peer.notify(name, value);
      return true;
    });

async function serveWith(
  handlers: Handlers,
): Promise<{ listener: WebSocketListener; server: Server }> {
  const listener = await adapter.serveWebSocket({ hostname: "127.0.0.1", port: 0 });
  return { listener, server: new Server(listener, { handlers, heartbeatIntervalMs: 0 }) };
}

describe(`websocket (${runtime})`, () => {
  test("the server sends the handshake, each header and each payload as one message", async () => {
    const { listener, server } = await serveWith(echoHandlers());
    const raw = await rawClient(listener.url, `http://127.0.0.1:${listener.addr.port}`);
    try {
      // Requests coalesced into one message, and one split across messages at odd places: the
      // server reads a byte stream.
      const big = "x".repeat(100_000);
      const mid = "m".repeat(30_000);
      raw.send("01r0001004echo00000002hir0002004echo00000000");
      raw.send("r00030");
      raw.send("04echo000186a0" + big.slice(0, 7));
      raw.send(big.slice(7) + "r0004004echo00007530" + mid + 'r0005005upper00000004"ab"');
      await until(() => raw.messages.length >= 10, 10_000, "all answers");
      assert.equal(text(raw.messages[0]), "01");
      const got = new Map(frames(raw.messages).map(([h, p]) => [h.slice(1, 5), [h, p]]));
      assert.deepEqual(got.get("0001"), ["R000100000002", "hi"]);
      // An empty payload is a header-only message.
      assert.deepEqual(got.get("0002"), ["R000200000000", ""]);
      assert.deepEqual(got.get("0003"), ["R0003000186a0", big]);
      assert.deepEqual(got.get("0004"), ["R000400007530", mid]);
      assert.deepEqual(got.get("0005"), ["R000500000004", '"AB"']);
      assert.equal(raw.messages.length, 10);
    } finally {
      raw.close();
      await server.close({ timeoutMs: 1000 });
    }
  });

  test("the client splits its writes the same way, and reads split answers", async () => {
    const rs = await rawServer();
    try {
      const transport = await adapter.connectWebSocket(rs.url);
      const conn = await rs.connection();
      const peer = new Peer(transport, { heartbeatIntervalMs: 0 });
      const answer = peer.bufferRequest("echo", enc.encode("hi"));
      const notified = peer.bufferNotify("note", new Uint8Array(70_000).fill(0x61));
      await notified;
      await until(() => conn.messages.length >= 5, 5000, "request messages");
      assert.deepEqual(conn.messages.map((m) => m.byteLength), [2, 20, 2, 16, 70_000]);
      assert.equal(text(conn.messages[0]), "01");
      const header = text(conn.messages[1]);
      assert.match(header, /^r....004echo00000002$/);
      assert.equal(text(conn.messages[2]), "hi");
      assert.equal(text(conn.messages[3]), "n004note00011170");
      // The answer arrives cut at odd places, handshake and header sharing a message.
      const id = header.slice(1, 5);
      conn.send("0");
      conn.send(`1R${id}00`);
      conn.send("000005hel");
      conn.send("lo");
      assert.equal(text(await within(answer, 5000, "answer")), "hello");
      peer.abort();
      await within(peer.closed, 5000, "close");
      await until(() => conn.closed, 5000, "the server sees the close");
      assert.equal(conn.closeCode, 1000);
    } finally {
      rs.close();
    }
  });

  test("with coalesceWrites the client sends each write as one message", async () => {
    const rs = await rawServer();
    try {
      const transport = await adapter.connectWebSocket(rs.url, { coalesceWrites: true });
      const conn = await rs.connection();
      const writer = transport.writable.getWriter();
      await writer.write(enc.encode("01r0001004echo00000002hi"));
      await until(() => conn.messages.length >= 1, 5000, "message");
      assert.deepEqual(conn.messages.map(text), ["01r0001004echo00000002hi"]);
      transport.close();
    } finally {
      rs.close();
    }
  });

  test("transports hand over plain Uint8Arrays and end cleanly in both directions", async () => {
    const listener = await adapter.serveWebSocket({ hostname: "127.0.0.1", port: 0 });
    try {
      const [client, server] = await within(
        Promise.all([adapter.connectWebSocket(listener.url), listener.accept()]),
        5000,
        "pair",
      );
      assert.ok(server);
      assert.match(server.remoteAddr ?? "", /^127\.0\.0\.1:\d+$/);
      // The upgrade request, as a fetch Request (on node:http made when first asked for).
      assert.equal(new URL(server.request!.url).pathname, "/gotalk/");
      assert.equal(server.request!.headers.get("upgrade")?.toLowerCase(), "websocket");
      assert.equal(server.request, server.request, "the same Request each time");
      const writer = client.writable.getWriter();
      await writer.write(enc.encode("01n004note00000003abc"));
      const reader = server.readable.getReader();
      const chunks: Uint8Array[] = [];
      while (chunks.reduce((n, c) => n + c.byteLength, 0) < 21) {
        const { value, done } = await within(reader.read(), 5000, "read");
        assert.ok(!done && value);
        assert.equal(Object.getPrototypeOf(value), Uint8Array.prototype);
        chunks.push(value);
      }
      assert.equal(text(concat(chunks)), "01n004note00000003abc");
      // No half-close: closing the client's writable closes the WebSocket; the server's readable
      // ends, and the client's ends once the close completes.
      await within(writer.close(), 5000, "writable close");
      assert.equal((await within(reader.read(), 5000, "server end")).done, true);
      const clientReader = client.readable.getReader();
      assert.equal((await within(clientReader.read(), 5000, "client end")).done, true);
      await assert.rejects(
        server.writable.getWriter().write(enc.encode("late")),
        ConnectionClosedError,
      );
      client.close();
      server.close();
    } finally {
      listener.close();
    }
  });

  test("a reader that falls behind: paused where possible, else a bounded failure", async () => {
    const listener = await adapter.serveWebSocket({ hostname: "127.0.0.1", port: 0 });
    try {
      const limit = 256 * 1024;
      const [client, server] = await within(
        Promise.all([
          adapter.connectWebSocket(listener.url, { maxReadBufferBytes: limit }),
          listener.accept(),
        ]),
        5000,
        "pair",
      );
      assert.ok(server);
      const writer = server.writable.getWriter();
      const frame = enc.encode("n000" + (64 * 1024).toString(16).padStart(8, "0"));
      const payload = new Uint8Array(64 * 1024);
      const writing = (async () => {
        await writer.write(enc.encode("01"));
        for (let i = 0; i < 256; i++) {
          await writer.write(frame.slice());
          await writer.write(payload.slice());
        }
      })();
      // The client never reads. Either its socket pauses and the server's writes stall (the
      // `ws` package), or its readable fails at the bound (standard WebSockets).
      const outcome = await settlesWithin(writing, 1500);
      const reader = client.readable.getReader();
      if (outcome === "timeout") {
        let total = 0;
        while (total < 256 * (frame.byteLength + payload.byteLength) + 2) {
          const { value, done } = await within(reader.read(), 5000, "read");
          assert.ok(!done);
          total += value!.byteLength;
        }
        await within(writing, 5000, "writes finish once read");
      } else {
        await assert.rejects(
          (async () => {
            for (let i = 0; i < 100_000; i++) if ((await reader.read()).done) return;
          })(),
          (e) =>
            e instanceof ConnectionClosedError && /fell more than 262144 bytes/.test(e.message),
        );
      }
      client.close();
      server.close();
    } finally {
      listener.close();
    }
  });

  describe("origin policy and routes", () => {
    test("same origin only by default: missing, null and foreign origins get 403", async () => {
      const listener = await adapter.serveWebSocket({ hostname: "127.0.0.1", port: 0 });
      const { port } = listener.addr;
      const accepted: Transport[] = [];
      const accepting = (async () => {
        for await (const t of listener) accepted.push(t);
      })();
      try {
        const status = async (headers: Record<string, string>, path = "/gotalk/") =>
          (await httpExchange(port, upgradeRequest(port, path, headers))).status;
        assert.equal(await status({}), 403);
        assert.equal(await status({ Origin: "null" }), 403);
        assert.equal(await status({ Origin: "http://evil.example" }), 403);
        assert.equal(await status({ Origin: `http://localhost:${port}` }), 403);
        assert.equal(await status({ Origin: `http://127.0.0.1:${port + 1}` }), 403);
        assert.equal(await status({ Origin: "not a url" }), 403);
        assert.equal(await status({ Origin: `http://127.0.0.1:${port}` }), 101);
        assert.equal(await status({ Origin: `https://127.0.0.1:${port}` }), 101);
        assert.equal(await status({ Origin: `http://127.0.0.1:${port}` }, "/other/"), 404);
        const plain = await httpExchange(
          port,
          `GET /gotalk/ HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nConnection: close\r\n\r\n`,
        );
        assert.equal(plain.status, 426);
        // Clients: ours sends a matching Origin by default; a foreign one is refused.
        const ok = await adapter.connectWebSocket(listener.url);
        ok.close();
        await assert.rejects(
          adapter.connectWebSocket(listener.url, { origin: "http://evil.example" }),
          (e) => e instanceof ConnectError && e.code === "EUPGRADE" && /HTTP 403$/.test(e.message),
        );
      } finally {
        listener.close();
        await within(accepting, 5000, "accept loop ends");
        for (const t of accepted) t.close();
      }
    });

    test("allowOrigin replaces the policy; routes answer first, upgrades included", async () => {
      const seen: Array<string | null> = [];
      const listener = await adapter.serveWebSocket({
        hostname: "127.0.0.1",
        port: 0,
        allowOrigin: (origin, request) => {
          seen.push(origin);
          assert.ok(request instanceof Request);
          return origin === "http://app.example";
        },
        routes: (request) => {
          const url = new URL(request.url);
          if (url.pathname === "/gotalk/gotalk.js") {
            return new Response("// js", { headers: { "content-type": "text/javascript" } });
          }
          if (request.headers.get("authorization") === "no") {
            return new Response("no", { status: 401 });
          }
          return undefined;
        },
      });
      const { port } = listener.addr;
      const accepted: Transport[] = [];
      const accepting = (async () => {
        for await (const t of listener) accepted.push(t);
      })();
      try {
        const exchange = (headers: Record<string, string>, path = "/gotalk/") =>
          httpExchange(port, upgradeRequest(port, path, headers));
        assert.equal((await exchange({ Origin: "http://app.example" })).status, 101);
        assert.equal((await exchange({ Origin: `http://127.0.0.1:${port}` })).status, 403);
        assert.equal((await exchange({})).status, 403);
        assert.deepEqual(seen, ["http://app.example", `http://127.0.0.1:${port}`, null]);
        const denied = await exchange({ Origin: "http://app.example", Authorization: "no" });
        assert.equal(denied.status, 401);
        const js = await httpExchange(
          port,
          `GET /gotalk/gotalk.js HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nConnection: close\r\n\r\n`,
        );
        assert.equal(js.status, 200);
        assert.match(js.head, /content-type: text\/javascript/i);
        assert.equal(js.body, "// js");
        await until(() => accepted.length === 1, 5000, "the allowed upgrade is accepted");
      } finally {
        listener.close();
        await within(accepting, 5000, "accept loop ends");
        for (const t of accepted) t.close();
      }
    });
  });

  test("bad arguments throw TypeError or RangeError", async () => {
    await assert.rejects(adapter.connectWebSocket("not a url"), TypeError);
    await assert.rejects(adapter.connectWebSocket("ftp://127.0.0.1/"), TypeError);
    await assert.rejects(
      adapter.connectWebSocket("ws://127.0.0.1:1/", { maxReadBufferBytes: 0 }),
      RangeError,
    );
    await assert.rejects(
      adapter.connectWebSocket("ws://127.0.0.1:1/", { origin: 1 as unknown as string }),
      TypeError,
    );
    await assert.rejects(adapter.serveWebSocket({ port: -1 }), RangeError);
    await assert.rejects(adapter.serveWebSocket({ port: 0, path: "gotalk" }), TypeError);
    assert.throws(
      () => webSocketTransport({ readyState: 0, send() {} } as unknown as WebSocket),
      TypeError,
    );
    // Connecting to a closed port rejects.
    const listener = await adapter.serveWebSocket({ hostname: "127.0.0.1", port: 0 });
    listener.close();
    await new Promise((r) => setTimeout(r, 50));
    const url = listener.url;
    const outcome = await settlesWithin(
      adapter.connectWebSocket(url).then((t) => t.close()).then(() => "connected"),
      5000,
    );
    assert.equal(outcome, "settled");
    // An aborted signal rejects with its reason.
    await assert.rejects(
      adapter.connectWebSocket(url, { signal: AbortSignal.abort(new Error("stop")) }),
      /stop/,
    );
  });
});

// ---------------------------------------------------------------------------------------------
// Interop with the Go reference peer (conformance/go-peer), built here into a temp dir.

/** The repository root: the nearest folder up from here with conformance/go-peer/go.mod. */
function repoRoot(): string {
  let dir = fileURLToPath(new URL(".", import.meta.url));
  for (let i = 0; i < 8; i++) {
    if (existsSync(join(dir, "conformance", "go-peer", "go.mod"))) return dir;
    dir = join(dir, "..");
  }
  return fileURLToPath(new URL("../../../", import.meta.url));
}

const root = repoRoot();
const goPeerDir = join(root, "conformance", "go-peer");

function run(
  cmd: string,
  args: string[],
  cwd: string,
  timeoutMs: number,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      cmd,
      args,
      { cwd, timeout: timeoutMs, maxBuffer: 16 << 20 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === "number" ? error.code : null) : 0;
        resolve({ code, stdout: String(stdout), stderr: String(stderr) });
      },
    );
  });
}

let goPeerPath: Promise<string | null> | undefined;

/** Builds the Go peer once per process; `null` if Go or its sources are unavailable. */
function goPeer(): Promise<string | null> {
  goPeerPath ??= (async () => {
    if (!existsSync(join(goPeerDir, "go.mod"))) return null;
    const dir = mkdtempSync(join(tmpdir(), "gotalk-ws-"));
    const out = join(dir, "go-peer");
    const r = await run("go", ["build", "-o", out, "."], goPeerDir, 180_000);
    if (r.code !== 0) {
      rmSync(dir, { recursive: true, force: true });
      if (/ENOENT|not found/.test(r.stderr) || r.code === null) return null;
      throw new Error(`go build failed: ${r.stderr}`);
    }
    return out;
  })();
  return goPeerPath;
}

/** Starts `go-peer serve --transport ws`; resolves with its URL once it printed READY. */
async function goServe(bin: string): Promise<{ url: string; child: ChildProcess }> {
  const child = spawn(bin, ["serve", "--transport", "ws", "--addr", "127.0.0.1:0"], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  const url = await within(
    new Promise<string>((resolve, reject) => {
      let out = "";
      child.stdout!.setEncoding("utf8");
      child.stdout!.on("data", (chunk: string) => {
        out += chunk;
        const m = /^READY (ws:\/\/\S+)$/m.exec(out);
        if (m) resolve(m[1]);
      });
      child.on("exit", (code) => reject(new Error(`go-peer serve exited with ${code}`)));
    }),
    10_000,
    "go-peer READY",
  );
  return { url, child };
}

function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return Promise.resolve();
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  child.kill("SIGTERM");
  return within(exited, 5000, "go-peer exit");
}

/** The operations the conformance contract says every `serve` exposes. */
function contractHandlers(): Handlers {
  const notes = new WeakMap<Session, { count: number; last: unknown }>();
  const notesOf = (peer: Session) => {
    let n = notes.get(peer);
    if (!n) notes.set(peer, n = { count: 0, last: null });
    return n;
  };
  return new Handlers()
    .handleBuffer("echo", (p) => p)
    .handle("upper", (s: string) => s.toUpperCase())
    .handleBuffer("fail", (p, ctx) => {
      throw new RemoteError(ctx.op, p);
    })
    .handle("sleep", async ({ ms, value }: { ms: number; value: unknown }) => {
      await new Promise((r) => setTimeout(r, ms));
      return value;
    })
    .handleStream("stream-echo", (parts) => parts)
    .handle("notify-back", async ({ name, value }: { name: string; value: unknown }, ctx) => {
      await ctx.peer.notify(name, value);
      return true;
    })
    .handle(
      "call-back",
      ({ op, value }: { op: string; value: unknown }, ctx) =>
        ctx.peer.request(op, value, { timeoutMs: 10_000 }),
    )
    .handle("notes", (_v, ctx) => notesOf(ctx.peer))
    .handleNotificationFallback((payload, ctx) => {
      const n = notesOf(ctx.peer);
      n.count++;
      n.last = { name: ctx.name, value: payload.length ? JSON.parse(text(payload)) : null };
    });
}

describe(`websocket interop with the Go reference (${runtime})`, () => {
  test("our client against go-peer serve --transport ws", async (t) => {
    const bin = await within(goPeer(), 200_000, "go build");
    if (bin === null) return t.skip("Go is not available");
    const { url, child } = await goServe(bin);
    const pushed: unknown[] = [];
    try {
      const handlers = new Handlers()
        .handle("upper", (s: string) => s.toUpperCase())
        .handleNotification("pushed", (v) => void pushed.push(v));
      const peer = new Peer(await adapter.connectWebSocket(url), { handlers });
      try {
        const all = new Uint8Array(256).map((_, i) => i);
        assert.deepEqual(await within(peer.bufferRequest("echo", all), 5000, "echo"), all);
        assert.deepEqual(await peer.bufferRequest("echo", new Uint8Array(0)), new Uint8Array(0));
        const big = new Uint8Array(300_000).map((_, i) => (i * 13) & 0xff);
        assert.deepEqual(await within(peer.bufferRequest("echo", big), 10_000, "big echo"), big);
        assert.equal(await peer.request("upper", "héllo wörld"), "HÉLLO WÖRLD");
        const { writable, readable } = peer.streamRequest("stream-echo");
        const writer = writable.getWriter();
        const sizes = [1, 10, 70_000, 3];
        const writing = (async () => {
          for (const n of sizes) await writer.write(new Uint8Array(n).fill(n & 0xff));
          await writer.close();
        })();
        const parts: number[] = [];
        for await (const part of readable as unknown as AsyncIterable<Uint8Array>) {
          parts.push(part.byteLength);
        }
        await writing;
        assert.equal(parts.reduce((a, b) => a + b, 0), 70_014);
        assert.equal(await peer.request("notify-back", { name: "pushed", value: [1, 2] }), true);
        await until(() => pushed.length === 1, 5000, "notification from Go");
        assert.deepEqual(pushed, [[1, 2]]);
        assert.equal(
          await within(peer.request("call-back", { op: "upper", value: "go" }), 10_000, "cb"),
          "GO",
        );
        await assert.rejects(peer.request("no-such-op"), RemoteError);
      } finally {
        await peer.close({ timeoutMs: 1000 });
      }
    } finally {
      await stop(child);
    }
  });

  test("go-peer check --url ws://… against our server passes every check", async (t) => {
    const bin = await within(goPeer(), 200_000, "go build");
    if (bin === null) return t.skip("Go is not available");
    const listener = await adapter.serveWebSocket({ hostname: "127.0.0.1", port: 0 });
    const server = new Server(listener, {
      handlers: contractHandlers(),
      heartbeatIntervalMs: 0,
      logger: null, // the checks provoke handler errors on purpose
    });
    try {
      // The contract's 13 base checks: this test's server serves exactly the base operations
      // (the full peer, with every op, runs in conformance/matrix.ts).
      const base = [
        "echo-empty",
        "echo-small",
        "echo-1mib",
        "echo-binary",
        "upper-unicode",
        "fail-error-result",
        "unknown-op",
        "out-of-order",
        "concurrent-1000",
        "stream-echo",
        "notify-back",
        "notify-to-server",
        "call-back",
      ];
      const r = await run(
        bin,
        ["check", "--url", listener.url, "--only", base.join(",")],
        root,
        120_000,
      );
      const lines = r.stdout.trim().split("\n").map((l) => JSON.parse(l));
      const failed = lines.filter((l) => !l.ok);
      assert.deepEqual(failed, [], r.stderr);
      assert.equal(r.code, 0, r.stderr);
      assert.ok(lines.length >= 13, `only ${lines.length} checks ran`);
    } finally {
      await server.close({ timeoutMs: 1000 });
    }
  });

  test("gotalk.js (the reference browser client) against our server", async (t) => {
    const source = await gotalkJsSource();
    if (source === null) return t.skip("gotalk.js is not in the Go module cache");
    if (runtime === "deno") return t.skip("gotalk.js does not run on Deno (it needs __proto__)");
    // gotalk.js (like a browser page on another origin here) sends no Origin: allow any.
    const listener = await adapter.serveWebSocket({
      hostname: "127.0.0.1",
      port: 0,
      allowOrigin: () => true,
    });
    const server = new Server(listener, {
      handlers: contractHandlers(),
      heartbeatIntervalMs: 0,
      logger: null, // the checks provoke handler errors on purpose
    });
    try {
      // On Node, `ws`'s WebSocket stands in for the browser's, as a parameter shadowing the
      // global name rather than a global.
      const Ctor = runtime === "node"
        ? (await wsPackage()).WebSocket
        : (globalThis as Any).WebSocket;
      const gotalk = new Function("WebSocket", source + "\nreturn gotalk;")(Ctor);
      gotalk.handle("upper", (s: string, result: Any) => result(s.toUpperCase()));
      const notes: unknown[] = [];
      gotalk.handleNotification("pushed", (v: unknown) => notes.push(v));
      const sock = await within(
        new Promise<Any>((resolve, reject) => {
          gotalk.open(listener.url, (err: Error | null, s: Any) => err ? reject(err) : resolve(s));
        }),
        5000,
        "gotalk.js open",
      );
      try {
        assert.equal(await within(sock.request("upper", "js"), 5000, "upper"), "JS");
        const bytes: Uint8Array = await within(
          sock.bufferRequest("echo", enc.encode("héllo")),
          5000,
          "echo",
        );
        assert.equal(text(bytes), "héllo");
        // An empty result is a header-only message, which gotalk.js reads as no payload.
        const empty: Uint8Array | undefined = await within(
          sock.bufferRequest("echo", ""),
          5000,
          "empty echo",
        );
        assert.equal(empty?.byteLength ?? 0, 0);
        assert.equal(await within(sock.request("echo", ""), 5000, "echo string"), "");
        assert.equal(
          await within(sock.request("notify-back", { name: "pushed", value: 7 }), 5000, "nb"),
          true,
        );
        await until(() => notes.length === 1, 5000, "notification to gotalk.js");
        assert.deepEqual(notes, [7]);
        assert.equal(
          await within(sock.request("call-back", { op: "upper", value: "x" }), 5000, "cb"),
          "X",
        );
        await assert.rejects(sock.request("fail", "boom"), /boom/);
      } finally {
        sock.end();
      }
    } finally {
      await server.close({ timeoutMs: 1000 });
    }
  });
});

/** gotalk.js from the Go module cache (never copied into this repository). */
async function gotalkJsSource(): Promise<string | null> {
  const r = await run("go", ["env", "GOMODCACHE"], root, 30_000);
  const cache = r.code === 0 ? r.stdout.trim() : "";
  const path = join(cache, "github.com", "rsms", "gotalk@v1.3.7", "js", "gotalk.js");
  return cache && existsSync(path) ? readFileSync(path, "utf8") : null;
}
