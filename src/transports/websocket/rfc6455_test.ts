// RFC 6455 on this runtime's WebSocket server (and, on Deno and Bun, the node:http one): a raw
// client breaks the protocol one way per case and must get a close frame with the right code
// (1002, 1007, 1009) and then the end of the TCP connection; a half-sent upgrade is dropped;
// a peer that never answers our close frame is dropped too.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { Server } from "../../server/server.ts";
import { runtimeName } from "../_test_factories.ts";
import { type WebSocketAdapter, wsAdapter } from "./_test_factories.ts";
import {
  ABUSE_CASES,
  ABUSE_MAX_MESSAGE_BYTES,
  closedWithin,
  encodeFrame,
  rawTcp,
  rawWebSocket,
} from "./_test_raw_ws.ts";

const runtime = runtimeName();
const engines: [string, WebSocketAdapter][] = [[runtime, await wsAdapter()]];
if (runtime === "bun") engines.push(["node:http", await import("./node.ts")]);

/** A hang guard, far above the limits under test (10 s for the request head, 5 s grace). */
const GUARD_MS = 20_000;

for (const [name, adapter] of engines) {
  describe(`RFC 6455 abuse (${runtime}, ${name} server)`, () => {
    let server: Server;
    let port: number;
    before(async () => {
      const listener = await adapter.serveWebSocket({
        hostname: "127.0.0.1",
        port: 0,
        maxMessageBytes: ABUSE_MAX_MESSAGE_BYTES,
      });
      server = new Server(listener, { logger: { error: () => {}, warn: () => {} } });
      port = listener.addr.port;
    });
    after(() => server.close());

    for (const c of ABUSE_CASES) {
      test(`${c.name}: close ${c.code}`, async () => {
        const ws = await rawWebSocket(port);
        try {
          for (const frame of c.frames) ws.write(encodeFrame(frame));
          const outcome = await ws.outcome(GUARD_MS, { answerClose: true });
          assert.equal(outcome.code, c.code, "the close frame's code");
          assert.ok(outcome.ended, "the TCP connection ended");
        } finally {
          ws.destroy();
        }
      });
    }

    test("a half-sent upgrade is dropped", { timeout: 30_000 }, async () => {
      const socket = await rawTcp(port, new TextEncoder().encode("GET /gotalk/ HTTP/1.1\r\n"));
      try {
        assert.notEqual(await closedWithin(socket, GUARD_MS), null, "the server closed it");
      } finally {
        socket.destroy();
      }
    });

    test("a silent peer is closed, and dropped when it does not answer", {
      timeout: 30_000,
    }, async () => {
      // Its own server: the handshake timeout closes the peer (close frame 1000), and then
      // the close grace (5 s on the node:http server, none on Bun's) ends the TCP connection.
      const listener = await adapter.serveWebSocket({ hostname: "127.0.0.1", port: 0 });
      const quick = new Server(listener, {
        handshakeTimeoutMs: 200,
        logger: { error: () => {}, warn: () => {} },
      });
      const ws = await rawWebSocket(listener.addr.port);
      try {
        const outcome = await ws.outcome(GUARD_MS);
        assert.equal(outcome.code, 1000);
        assert.ok(outcome.ended, "the server dropped the connection");
      } finally {
        ws.destroy();
        await quick.close();
      }
    });

    test("a peer that never answers our close frame is dropped", { timeout: 30_000 }, async () => {
      const ws = await rawWebSocket(port);
      try {
        // A violation makes the server close; the client then stays silent.
        ws.write(encodeFrame({ opcode: 2, payload: new Uint8Array(4), mask: false }));
        const outcome = await ws.outcome(GUARD_MS);
        assert.equal(outcome.code, 1002);
        assert.ok(outcome.ended, "the server dropped the connection");
      } finally {
        ws.destroy();
      }
    });
  });
}
