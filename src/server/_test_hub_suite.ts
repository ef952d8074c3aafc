/**
 * The behaviour suite of a cluster of {@linkcode Hub}s, run over each backplane (in-process,
 * NATS). Test-only.
 *
 * @module
 */

import { test } from "node:test";
import assert from "node:assert/strict";
import { RemoteError } from "../peer/errors.ts";
import { Handlers } from "../peer/handlers.ts";
import { Peer } from "../peer/peer.ts";
import { pipePair } from "../transports/pipe.ts";
import type { Hub } from "./hub.ts";

/** Three hubs on one backplane, and how to release it. */
export interface HubCluster {
  hubs: Hub[];
  close(): Promise<void>;
}

/** A client connected to a server-side peer over a pipe, recording what it is notified. */
export interface Member {
  /** The server side (what joins topics). */
  server: Peer;
  client: Peer;
  got: Array<[string, unknown]>;
}

/** A member on a pipe: the client records every notification as `[name, value]`. */
export function member(serverHandlers?: Handlers): Member {
  const [a, b] = pipePair();
  const got: Array<[string, unknown]> = [];
  const handlers = new Handlers().handleNotificationFallback((bytes, ctx) => {
    got.push([
      ctx.name,
      bytes.length === 0 ? undefined : JSON.parse(new TextDecoder().decode(bytes)),
    ]);
  });
  return {
    server: new Peer(a, { handlers: serverHandlers, logger: null }),
    client: new Peer(b, { handlers }),
    got,
  };
}

/** Resolves once `check()` holds; rejects after `ms` (a hang guard, not a timing assertion). */
export async function until(check: () => boolean, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error("Timed out waiting for a condition");
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** The ErrorResult text a plain Peer answers for an op it has no handler for. */
export async function plainUnknownOpText(op: string): Promise<string> {
  const [a, b] = pipePair();
  const server = new Peer(a);
  const client = new Peer(b);
  try {
    await client.request(op);
    throw new Error("unreachable");
  } catch (e) {
    assert.ok(e instanceof RemoteError);
    return e.message;
  } finally {
    client.abort();
    server.abort();
  }
}

/** Registers the suite's tests; `cluster()` makes a fresh cluster of three hubs per test. */
export function runHubSuite(cluster: () => Promise<HubCluster>): void {
  test("a topic spans the servers: each member on every server gets each notify once, in order", async () => {
    const c = await cluster();
    const [a, b, hc] = c.hubs;
    const members = [member(), member(), member(), member(), member()];
    const homes = [a, a, b, hc, hc];
    members.forEach((m, i) => homes[i].topic("room").join(m.server));
    await settle(c);
    for (let i = 0; i < 5; i++) {
      a.topic("room").notify("n", { from: "a", i });
      b.topic("room").notify("n", { from: "b", i });
    }
    a.topic("room").notify("end", "a");
    b.topic("room").notify("end", "b");
    await until(() => members.every((m) => m.got.filter(([n]) => n === "end").length === 2));
    for (const m of members) {
      const seen = (from: string) =>
        m.got.filter(([n, v]) => n === "n" && (v as { from: string }).from === from)
          .map(([, v]) => (v as { i: number }).i);
      assert.deepEqual(seen("a"), [0, 1, 2, 3, 4]);
      assert.deepEqual(seen("b"), [0, 1, 2, 3, 4]);
      assert.equal(m.got.length, 12);
    }
    await closeAll(c, members);
  });

  test("a server whose members all left gets nothing more; one that joins again does", async () => {
    const c = await cluster();
    const [a, b] = c.hubs;
    const mb = member();
    b.topic("t").join(mb.server);
    await settle(c);
    a.topic("t").notify("n", 1);
    await until(() => mb.got.length === 1);
    b.topic("t").leave(mb.server);
    await settle(c);
    a.topic("t").notify("n", 2);
    await settle(c); // 2 reached the bus (and went nowhere) before B subscribes again
    b.topic("t").join(mb.server);
    await settle(c);
    a.topic("t").notify("n", 3);
    await until(() => mb.got.length === 2);
    assert.deepEqual(mb.got.map(([, v]) => v), [1, 3]);
    await closeAll(c, [mb]);
  });

  test("a message to a peer by id reaches it on whichever server it is on", async () => {
    const c = await cluster();
    const [a, b, hc] = c.hubs;
    const ada = member();
    const bob = member();
    hc.register(ada.server, "ada");
    b.register(bob.server, "bob");
    await settle(c);
    assert.equal(await a.notifyPeer("ada", "dm", "to ada via a"), true);
    assert.equal(await hc.notifyPeer("ada", "dm", "to ada via c"), true);
    assert.equal(await a.notifyPeer("bob", "dm", "to bob"), true);
    assert.equal(await a.notifyPeer("nobody", "dm", "lost"), false);
    await until(() => ada.got.length === 2 && bob.got.length === 1);
    assert.deepEqual(ada.got, [["dm", "to ada via a"], ["dm", "to ada via c"]]);
    bob.client.abort();
    await bob.server.closed;
    await settle(c);
    assert.equal(await a.notifyPeer("bob", "dm", "gone"), false);
    await closeAll(c, [ada, bob]);
  });

  test("an op this server lacks is served by another; none: the same unknown-op ErrorResult", async () => {
    const c = await cluster();
    const [a, b, hc] = c.hubs;
    const calc = new Handlers()
      .handle("add", ([x, y]: number[]) => x + y)
      .handleBuffer("rev", (bytes) => bytes.slice().reverse());
    b.serve(calc, ["add", "rev"]);
    hc.serve(calc, ["add"]);
    await settle(c);
    const m = member(new Handlers().handle("local", () => "here").handleFallback(a.forward));
    for (let i = 0; i < 4; i++) assert.equal(await m.client.request("add", [i, 10]), i + 10);
    assert.deepEqual(
      await m.client.bufferRequest("rev", new Uint8Array([1, 2, 3])),
      new Uint8Array([3, 2, 1]),
    );
    assert.equal(await m.client.request("local"), "here");
    const expected = await plainUnknownOpText("nope");
    assert.equal(expected, 'unknown operation "nope"');
    await assert.rejects(m.client.request("nope"), (e) => {
      return e instanceof RemoteError && e.message === expected && e.op === "nope";
    });
    await closeAll(c, [m]);
  });
}

/** Lets every hub's subscriptions reach the backplane before the test publishes. */
async function settle(c: HubCluster): Promise<void> {
  for (const hub of c.hubs) await hub.flush();
}

async function closeAll(c: HubCluster, members: Member[]): Promise<void> {
  for (const m of members) m.client.abort();
  await Promise.all(members.map((m) => m.server.closed));
  await Promise.all(c.hubs.map((h) => h.close()));
  await c.close();
}
