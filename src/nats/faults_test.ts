import { describe, test } from "node:test";
import assert from "node:assert/strict";
import {
  childNode,
  type Client,
  client,
  type LocalNode,
  localNode,
  tick,
  until,
} from "./_test_cluster.ts";
import { NatsServer } from "./_test_nats_server.ts";

/** The `i` of each `{ tag, i }` value a client got with `tag`, in arrival order. */
function seq(c: Client, tag: string): number[] {
  return c.got.filter((v) => (v as { tag: string }).tag === tag).map((v) => (v as { i: number }).i);
}

/**
 * Publishes `warm` notifications from `hub` until every client got one: a child server's
 * subscription reaches nats-server a little after its first member joined.
 */
async function warmUp(hub: LocalNode["hub"], clients: Client[]): Promise<void> {
  const warm = () => clients.every((c) => seq(c, "warm").length > 0);
  for (let i = 0; i < 500 && !warm(); i++) {
    hub.topic("room").notify("n", { tag: "warm", i });
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  await until(warm);
}

const range = (n: number) => Array.from({ length: n }, (_, i) => i);

/** Closes the clients, the in-process nodes and the nats-server. */
async function teardown(clients: Client[], nodes: LocalNode[], nats: NatsServer): Promise<void> {
  for (const c of clients) c.peer.abort();
  await Promise.all(nodes.map((n) => n.close()));
  await nats.stop();
}

describe("a cluster on NATS, under faults", () => {
  test("a server killed mid-broadcast: its clients see the close, the others get everything", async () => {
    const nats = await NatsServer.start();
    const [a, b] = [await localNode(nats), await localNode(nats)];
    const c = await childNode(nats);
    const onA = [await client(a.port), await client(a.port)];
    const onB = [await client(b.port), await client(b.port)];
    const onC = [await client(c.port), await client(c.port)];
    await until(() => a.hub.topic("room").size === 2 && b.hub.topic("room").size === 2);
    await Promise.all([a.hub.flush(), b.hub.flush()]);
    // The child's members get a first message, so its subscription is known to be live.
    await warmUp(a.hub, [...onA, ...onB, ...onC]);
    const total = 200;
    let killed: Promise<void> | undefined;
    for (let i = 0; i < total; i++) {
      (i % 2 === 0 ? a : b).hub.topic("room").notify("n", { tag: i % 2 === 0 ? "a" : "b", i });
      if (i === 60) killed = c.kill();
      await tick();
    }
    await killed;
    await Promise.all(onC.map((m) => m.peer.closed));
    for (const m of onC) assert.equal(m.peer.isOpen, false);
    const evens = range(total).filter((i) => i % 2 === 0);
    const odds = range(total).filter((i) => i % 2 === 1);
    await until(() =>
      [...onA, ...onB].every((m) => seq(m, "a").length + seq(m, "b").length === total)
    );
    for (const m of [...onA, ...onB]) {
      assert.deepEqual(seq(m, "a"), evens);
      assert.deepEqual(seq(m, "b"), odds);
    }
    // What the killed server's clients got before it died is a prefix, in order, never twice.
    for (const m of onC) {
      const got = seq(m, "a");
      assert.deepEqual(got, evens.slice(0, got.length));
    }
    await teardown([...onA, ...onB], [a, b], nats);
  });

  test("nats-server restarted: servers reconnect and topics resume; meanwhile, at most once", async () => {
    const nats = await NatsServer.start();
    const [a, b] = [await localNode(nats), await localNode(nats)];
    const onA = await client(a.port);
    const onB = await client(b.port);
    await until(() => a.hub.topic("room").size === 1 && b.hub.topic("room").size === 1);
    await Promise.all([a.hub.flush(), b.hub.flush()]);
    for (let i = 0; i < 10; i++) a.hub.topic("room").notify("n", { tag: "before", i });
    await until(() => onB.got.length === 10);
    const reconnected = Promise.all([a, b].map(async (n) => {
      for await (const s of n.nc.status()) if (s.type === "reconnect") return;
    }));
    await nats.restart();
    // Published while the servers may still be disconnected: may be lost, never duplicated.
    for (let i = 0; i < 10; i++) a.hub.topic("room").notify("n", { tag: "down", i });
    await reconnected;
    await Promise.all([a.hub.flush(), b.hub.flush()]);
    for (let i = 0; i < 10; i++) a.hub.topic("room").notify("n", { tag: "after", i });
    await until(() => seq(onB, "after").length === 10);
    assert.deepEqual(seq(onB, "before"), range(10));
    assert.deepEqual(seq(onB, "after"), range(10));
    const down = seq(onB, "down");
    assert.deepEqual(down, [...new Set(down)].sort((x, y) => x - y), "in order, each once at most");
    // The local member gets everything: the backplane being down never stops local delivery.
    await until(() => onA.got.length === 30);
    assert.deepEqual(seq(onA, "down"), range(10));
    await teardown([onA, onB], [a, b], nats);
  });

  test("a stopped (slow) server does not hold up the others", async () => {
    const nats = await NatsServer.start();
    const [a, b] = [await localNode(nats), await localNode(nats)];
    const c = await childNode(nats);
    const onA = await client(a.port);
    const onB = await client(b.port);
    const onC = await client(c.port);
    await until(() => a.hub.topic("room").size === 1 && b.hub.topic("room").size === 1);
    await Promise.all([a.hub.flush(), b.hub.flush()]);
    await warmUp(a.hub, [onA, onB, onC]);
    c.signal("SIGSTOP");
    try {
      const total = 300;
      for (let i = 0; i < total; i++) {
        a.hub.topic("room").notify("n", { tag: "a", i, pad: "p".repeat(200) });
        if (i % 10 === 0) await tick();
      }
      // A and B's members get all of it while C cannot run at all.
      await until(() => seq(onB, "a").length === total && seq(onA, "a").length === total);
      assert.deepEqual(seq(onB, "a"), range(total));
      assert.equal(seq(onC, "a").length, 0, "the stopped server delivered nothing meanwhile");
      c.signal("SIGCONT");
      // Once it runs again it catches up (or, had NATS cut it off as a slow consumer, would
      // have lost some): in order, never twice.
      await until(() => seq(onC, "a").length === total || !onC.peer.isOpen);
      const got = seq(onC, "a");
      assert.deepEqual(got, [...new Set(got)].sort((x, y) => x - y));
    } finally {
      c.signal("SIGCONT");
      await c.kill();
    }
    await teardown([onA, onB, onC], [a, b], nats);
  });
});
