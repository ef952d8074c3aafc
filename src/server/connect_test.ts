// A Server's onConnect hook over this runtime's TCP, TLS and WebSocket servers: what it sees,
// the data it gives the peer, and refusals (an HTTP status before the upgrade, a TCP close
// before the handshake).
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { connect as netConnect } from "node:net";
import { ConnectError } from "../peer/errors.ts";
import { Handlers } from "../peer/handlers.ts";
import { Peer } from "../peer/peer.ts";
import type { ConnectionInfo, Listener, Transport } from "../peer/transport.ts";
import { factories } from "../transports/_test_factories.ts";
import { type WebSocketAdapter, wsAdapter } from "../transports/websocket/_test_factories.ts";
import { pipePair } from "../transports/pipe.ts";
import { ConnectionRefused, refuse, Server } from "./server.ts";

const handlers = new Handlers()
  .handle("data", (_v, ctx) => ctx.data)
  .handle("peerData", (_v, ctx) => ctx.peer.data);

/** Sends a raw WebSocket upgrade request; resolves with the response's status line. */
function rawUpgrade(port: number, path: string, headers: Record<string, string>): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = netConnect({ host: "127.0.0.1", port }, () => {
      const lines = [
        `GET ${path} HTTP/1.1`,
        `Host: 127.0.0.1:${port}`,
        `Origin: http://127.0.0.1:${port}`,
        "Upgrade: websocket",
        "Connection: Upgrade",
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==",
        "Sec-WebSocket-Version: 13",
        ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`),
      ];
      socket.write(lines.join("\r\n") + "\r\n\r\n");
    });
    let text = "";
    socket.on("data", (chunk: Uint8Array) => {
      text += new TextDecoder().decode(chunk);
      const end = text.indexOf("\r\n");
      if (end >= 0) {
        socket.destroy();
        resolve(text.slice(0, end));
      }
    });
    socket.on("error", reject);
    socket.on("close", () => resolve(text));
  });
}

async function wsAdapters(): Promise<[string, WebSocketAdapter][]> {
  const own = await wsAdapter();
  const list: [string, WebSocketAdapter][] = [["ws", own]];
  if (
    typeof (globalThis as { Deno?: unknown; Bun?: unknown }).Deno !== "undefined" ||
    typeof (globalThis as { Bun?: unknown }).Bun !== "undefined"
  ) {
    list.push(["ws-node", await import("../transports/websocket/node.ts")]);
  }
  return list;
}

const websockets = await wsAdapters();
const sockets = (await factories()).filter((f) => f.listen !== undefined);

describe("Server onConnect over WebSocket", () => {
  for (const [name, adapter] of websockets) {
    test(`${name}: it sees the upgrade request; its data is peer.data and ctx.data`, async () => {
      const seen: ConnectionInfo[] = [];
      const server = new Server(await adapter.serveWebSocket({ hostname: "127.0.0.1", port: 0 }), {
        handlers,
        onConnect: (info) => {
          seen.push(info);
          const user = new URL(info.request!.url).searchParams.get("user");
          const cookie = info.request!.headers.get("cookie");
          return { user, cookie };
        },
      });
      const url = `ws://127.0.0.1:${server.addr.port}/gotalk/?user=ada`;
      const client = new Peer(
        await adapter.connectWebSocket(url, { headers: { cookie: "session=s1" } }),
      );
      const expected = { user: "ada", cookie: "session=s1" };
      assert.deepEqual(await client.request("data"), expected);
      assert.deepEqual(await client.request("peerData"), expected);
      assert.equal(seen.length, 1);
      assert.equal(seen[0].kind, "websocket");
      assert.match(seen[0].remoteAddr ?? "", /^127\.0\.0\.1:\d+$/);
      const [peer] = server.peers;
      assert.deepEqual(peer.data, expected);
      assert.equal((peer as unknown as { remoteAddr?: string }).remoteAddr, seen[0].remoteAddr);
      await client.close();
      await server.close();
    });

    test(`${name}: a refusal answers the upgrade with its status; nothing is accepted`, async () => {
      const errors: unknown[] = [];
      let peers = 0;
      const server = new Server(await adapter.serveWebSocket({ hostname: "127.0.0.1", port: 0 }), {
        handlers,
        onPeer: () => void peers++,
        onError: (e) => void errors.push(e),
        onConnect: async ({ request }) => {
          await Promise.resolve();
          const token = new URL(request!.url).searchParams.get("token");
          if (token === null) return refuse(401, "Sign in first");
          if (token === "thrown") throw refuse(403);
          if (token === "bug") throw new Error("onConnect bug");
          return { token };
        },
      });
      const port = server.addr.port;
      assert.equal(await rawUpgrade(port, "/gotalk/", {}), "HTTP/1.1 401 Unauthorized");
      assert.equal(await rawUpgrade(port, "/gotalk/?token=thrown", {}), "HTTP/1.1 403 Forbidden");
      assert.equal(
        await rawUpgrade(port, "/gotalk/?token=bug", {}),
        "HTTP/1.1 500 Internal Server Error",
      );
      await assert.rejects(
        adapter.connectWebSocket(`ws://127.0.0.1:${port}/gotalk/`),
        ConnectError,
      );
      assert.equal(peers, 0);
      assert.equal(errors.length, 1);
      assert.match(String(errors[0]), /onConnect bug/);
      // A token passes.
      const ok = new Peer(await adapter.connectWebSocket(`ws://127.0.0.1:${port}/gotalk/?token=t`));
      assert.deepEqual(await ok.request("data"), { token: "t" });
      assert.equal(peers, 1);
      await ok.close();
      await server.close();
    });
  }
});

describe("Server onConnect over TCP and TLS", () => {
  for (const factory of sockets) {
    test(`${factory.name}: the kind and address; a refusal closes before the handshake`, async () => {
      const seen: ConnectionInfo[] = [];
      let n = 0;
      const server = new Server(await factory.listen!(), {
        handlers,
        onConnect: (info) => {
          seen.push(info);
          return ++n === 1 ? refuse(403) : { n };
        },
      });
      const port = server.addr.port;
      // Refused: the connection ends without a single byte (no handshake).
      const refused = await factory.connect!(port, AbortSignal.timeout(10_000));
      const reader = refused.readable.getReader();
      const first = await reader.read();
      assert.equal(first.done, true);
      refused.close();
      const client = new Peer(await factory.connect!(port, AbortSignal.timeout(10_000)));
      assert.deepEqual(await client.request("data"), { n: 2 });
      assert.equal(seen.length, 2);
      const expectedKind = factory.name.startsWith("tls") ? "tls" : "tcp";
      for (const info of seen) {
        assert.equal(info.kind, expectedKind);
        assert.match(info.remoteAddr ?? "", /^127\.0\.0\.1:\d+$/);
        assert.equal(info.request, undefined);
      }
      await client.close();
      await server.close();
    });
  }
});

describe("Server onConnect with any listener", () => {
  /** A listener of one connection, with no gate of its own. */
  function oneShot(transport: Transport): Listener {
    let given = false;
    let wake: ((t: Transport | null) => void) | undefined;
    return {
      addr: { hostname: "", port: 0 },
      accept: () => {
        if (!given) {
          given = true;
          return Promise.resolve(transport);
        }
        return new Promise((resolve) => wake = resolve);
      },
      close: () => wake?.(null),
      async *[Symbol.asyncIterator]() {},
    };
  }

  test("it runs once the listener accepted; kind is unknown; the data option is replaced", async () => {
    const [a, b] = pipePair();
    const seen: ConnectionInfo[] = [];
    const server = new Server(oneShot(a), {
      handlers,
      data: "option",
      onConnect: (info) => (seen.push(info), "from onConnect"),
    });
    const client = new Peer(b);
    assert.equal(await client.request("data"), "from onConnect");
    assert.deepEqual(seen, [{ kind: "unknown", remoteAddr: "pipe", request: undefined }]);
    await client.close();
    await server.close();
  });

  test("without onConnect the data option is every peer's data", async () => {
    const [a, b] = pipePair();
    const server = new Server(oneShot(a), { handlers, data: { shared: true } });
    const client = new Peer(b);
    assert.deepEqual(await client.request("data"), { shared: true });
    await client.close();
    await server.close();
  });

  test("a connection whose onConnect finishes after close() is closed", async () => {
    const [a, b] = pipePair();
    let release!: () => void;
    const pending = new Promise<void>((resolve) => release = resolve);
    let asked!: () => void;
    const started = new Promise<void>((resolve) => asked = resolve);
    const server = new Server(oneShot(a), {
      onConnect: async () => {
        asked();
        await pending;
        return 1;
      },
    });
    await started;
    const closing = server.close();
    release();
    await closing;
    const reader = b.readable.getReader();
    assert.equal((await reader.read()).done, true);
    assert.equal(server.peers.size, 0);
  });

  test("refuse() checks its status; onConnect must be a function", () => {
    assert.throws(() => refuse(200), RangeError);
    assert.equal(refuse(401).message, "Unauthorized");
    assert.ok(refuse() instanceof ConnectionRefused);
    const [a] = pipePair();
    assert.throws(() => new Server(oneShot(a), { onConnect: 1 as never }), TypeError);
  });
});
