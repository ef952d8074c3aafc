import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { Handlers } from "../peer/handlers.ts";
import { Peer } from "../peer/peer.ts";
import type { Transport } from "../peer/transport.ts";
import { pipePair } from "../transports/pipe.ts";
import { nativeAdapter } from "../transports/_test_factories.ts";
import { wsAdapter } from "../transports/websocket/_test_factories.ts";
import { Server } from "./server.ts";
import { SlowMemberError, Topic } from "./topic.ts";

/** A client that records the notifications `name` it receives (JSON values). */
function recorder(transport: Transport, name = "n"): { peer: Peer; got: unknown[] } {
  const got: unknown[] = [];
  const handlers = new Handlers().handleNotification(name, (v) => void got.push(v));
  return { peer: new Peer(transport, { handlers }), got };
}

/** Resolves once `check()` holds, polling every few ms; rejects after `ms` (a hang guard). */
async function until(check: () => boolean, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error("Timed out waiting for a condition");
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

const tick = () => new Promise((resolve) => setTimeout(resolve, 0));

describe("Topic", () => {
  test("one notify reaches every member once, in order, TCP and WebSocket members mixed", async () => {
    const topic = new Topic("room");
    const onPeer = (peer: Peer) => void topic.join(peer);
    const tcpAdapter = await nativeAdapter();
    const ws = await wsAdapter();
    const tcp = new Server(await tcpAdapter.listen({ hostname: "127.0.0.1", port: 0 }), { onPeer });
    const wsListener = await ws.serveWebSocket({ hostname: "127.0.0.1", port: 0 });
    const wss = new Server(wsListener, { onPeer });
    const clients = await Promise.all([
      ...[0, 1, 2].map(async () => recorder(await tcpAdapter.connect({ port: tcp.addr.port }))),
      ...[0, 1, 2].map(async () => recorder(await ws.connectWebSocket(wsListener.url))),
    ]);
    await Promise.all(clients.map((c) => c.peer.ready));
    await until(() => topic.size === 6);
    const big = "x".repeat(300 * 1024); // over the writer's zero-copy threshold
    const sent: unknown[] = [];
    for (let i = 0; i < 20; i++) {
      const value = i === 10 ? big : { i };
      sent.push(value);
      assert.equal(topic.notify("n", value), 6);
    }
    await until(() => clients.every((c) => c.got.length === 20));
    for (const c of clients) assert.deepEqual(c.got, sent);
    assert.deepEqual(topic.stats, { notifications: 20, delivered: 120, skipped: 0, closed: 0 });
    await Promise.all(clients.map((c) => c.peer.close()));
    await Promise.all([tcp.close(), wss.close()]);
    await until(() => topic.size === 0);
  });

  test("a member leaves when its connection closes, from either end", async () => {
    const topic = new Topic("t");
    const [a1, b1] = pipePair();
    const [a2, b2] = pipePair();
    const m1 = new Peer(a1);
    const m2 = new Peer(a2);
    const c1 = new Peer(b1);
    const c2 = new Peer(b2);
    assert.equal(topic.join(m1), true);
    assert.equal(topic.join(m2), true);
    assert.equal(topic.size, 2);
    c1.abort(); // the remote goes away
    await m1.closed;
    assert.deepEqual([...topic.members()], [m2]);
    m2.abort(); // the server closes it
    await m2.closed;
    assert.equal(topic.size, 0);
    assert.equal(topic.join(m2), false, "a closed peer does not join");
    await c2.closed;
  });

  test("join refuses what is not a Peer; leave and join again work", async () => {
    const topic = new Topic("t");
    assert.throws(() => topic.join({} as Peer), TypeError);
    const [a, b] = pipePair();
    const member = new Peer(a);
    const client = recorder(b);
    topic.join(member);
    topic.leave(member);
    assert.equal(topic.notify("n", 1), 0);
    topic.join(member);
    assert.equal(topic.notify("n", 2), 1);
    await until(() => client.got.length === 1);
    assert.deepEqual(client.got, [2]);
    client.peer.abort();
    await member.closed;
  });

  test('"skip": a member that does not read is skipped past its bound; the others get all', async () => {
    const maxBacklogBytes = 8 * 1024;
    const slowSeen: Peer[] = [];
    const topic = new Topic("t", { maxBacklogBytes, onSlowMember: (p) => void slowSeen.push(p) });
    const [fastServer, fastClient] = pipePair();
    const fast = recorder(fastClient);
    const fastMember = new Peer(fastServer);
    // The slow member's remote end never reads: its pipe holds 1 KiB, then writes wait.
    const [slowServer, slowClient] = pipePair({ highWaterMark: 1024 });
    const slowMember = new Peer(slowServer);
    topic.join(fastMember);
    topic.join(slowMember);
    const payload = "y".repeat(1000);
    const frameBytes = 1 + 4 + 1 + 8 + 1002; // type, name size, name, payload size, payload
    let toSlow = 0;
    const rounds = 200;
    for (let i = 0; i < rounds; i++) {
      const before = topic.stats.skipped;
      topic.notify("n", payload);
      if (topic.stats.skipped === before) toSlow++;
      await tick();
    }
    await until(() => fast.got.length === rounds);
    const stats = topic.stats;
    assert.equal(stats.delivered, rounds + toSlow);
    assert.equal(stats.skipped, rounds - toSlow);
    assert.ok(stats.skipped > 0);
    // What the slow member was given is bounded by its backlog bound plus its pipe's buffer.
    assert.ok(toSlow * frameBytes <= maxBacklogBytes + 1024 + 2 * frameBytes, `${toSlow}`);
    assert.ok(slowSeen.length === stats.skipped && slowSeen.every((p) => p === slowMember));
    assert.equal(topic.has(slowMember), true, '"skip" keeps the member');
    fast.peer.abort();
    slowMember.abort();
    slowClient.close();
    await fastMember.closed;
  });

  test('"close": a member past its bound is closed with a SlowMemberError', async () => {
    const topic = new Topic("t", { maxBacklogBytes: 4096, slowMembers: "close" });
    const [slowServer, slowClient] = pipePair({ highWaterMark: 1024 });
    const slowMember = new Peer(slowServer);
    topic.join(slowMember);
    const payload = new Uint8Array(1000);
    for (let i = 0; i < 100 && topic.has(slowMember); i++) {
      topic.bufferNotify("n", payload);
      await tick();
    }
    assert.equal(topic.has(slowMember), false);
    const reason = await slowMember.closed;
    assert.ok(reason instanceof SlowMemberError, String(reason));
    assert.equal(reason.topic, "t");
    assert.equal(reason.limit, 4096);
    assert.ok(reason.backlog > 4096);
    assert.equal(topic.stats.closed, 1);
    slowClient.close();
  });

  test("options are checked", () => {
    assert.throws(() => new Topic("t", { maxBacklogBytes: -1 }), RangeError);
    assert.throws(
      () => new Topic("t", { slowMembers: "drop" as unknown as "skip" }),
      TypeError,
    );
  });
});
