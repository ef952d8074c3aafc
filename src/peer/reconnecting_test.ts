import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { pipePair } from "../transports/pipe.ts";
import { ConnectionClosedError } from "./errors.ts";
import { Handlers } from "./handlers.ts";
import { Peer } from "./peer.ts";
import { ReconnectingPeer } from "./reconnecting.ts";
import type { Transport } from "./transport.ts";

const handlers = new Handlers()
  .handle("ping", () => "pong")
  .handleStream("stream-echo", (parts) => parts)
  .handleBufferNotification("blob", (p) => void blobs.push(p))
  .handle("never", () => new Promise(() => {}));

const blobs: Uint8Array[] = [];

/** A fake network: each connect() gets a fresh pipe to a new server peer, unless "down". */
function network() {
  const servers: Peer[] = [];
  let down = false;
  let attempts = 0;
  return {
    servers,
    get attempts() {
      return attempts;
    },
    setDown(v: boolean) {
      down = v;
    },
    connect: (): Promise<Transport> => {
      attempts++;
      if (down) return Promise.reject(new Error("connection refused"));
      const [a, b] = pipePair();
      servers.push(new Peer(a, { handlers }));
      return Promise.resolve(b);
    },
    dropAll() {
      for (const s of servers) s.abort();
    },
  };
}

async function until(cond: () => boolean, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error("condition not reached");
    await new Promise((r) => setTimeout(r, 2));
  }
}

describe("ReconnectingPeer", () => {
  test("reconnects after a drop, with onOpen and onClose", async () => {
    const net = network();
    const events: string[] = [];
    const client = new ReconnectingPeer({
      connect: net.connect,
      minDelayMs: 1,
      maxDelayMs: 5,
      onOpen: () => events.push("open"),
      onClose: () => events.push("close"),
    });
    try {
      assert.equal(await client.request("ping"), "pong");
      net.dropAll();
      await until(() => events.length >= 3);
      assert.deepEqual(events.slice(0, 3), ["open", "close", "open"]);
      assert.equal(await client.request("ping"), "pong");
    } finally {
      await client.close();
      net.dropAll();
    }
  });

  test("calls made while disconnected wait in a bounded queue, then go out", async () => {
    const net = network();
    net.setDown(true);
    const client = new ReconnectingPeer({
      connect: net.connect,
      minDelayMs: 1,
      maxDelayMs: 5,
      maxQueued: 3,
    });
    try {
      const a = client.request("ping");
      const b = client.notify("x", 1);
      const ac = new AbortController();
      const c = assert.rejects(client.request("ping", null, { signal: ac.signal }), /no/);
      await assert.rejects(client.request("ping"), ConnectionClosedError, "the queue is full");
      await assert.rejects(
        client.request("ping", null, { signal: AbortSignal.abort(new Error("pre")) }),
        /pre/,
      );
      ac.abort(new Error("no"));
      await c;
      await until(() => net.attempts >= 3);
      net.setDown(false);
      assert.equal(await a, "pong");
      await b;
    } finally {
      await client.close();
      net.dropAll();
    }
  });

  test("requests in flight when the connection drops reject, and are not resent", async () => {
    const net = network();
    const client = new ReconnectingPeer({ connect: net.connect, minDelayMs: 1, maxDelayMs: 5 });
    try {
      await client.request("ping");
      const stuck = assert.rejects(client.request("never"), ConnectionClosedError);
      await until(() => client.peer?.pendingRequests === 1);
      net.dropAll();
      await stuck;
    } finally {
      await client.close();
      net.dropAll();
    }
  });

  test("backoff grows exponentially with jitter, bounded by maxDelayMs", async () => {
    const net = network();
    net.setDown(true);
    const times: number[] = [];
    const client = new ReconnectingPeer({
      connect: () => {
        times.push(Date.now());
        return net.connect();
      },
      minDelayMs: 10,
      maxDelayMs: 40,
    });
    try {
      await until(() => times.length >= 6, 10_000);
    } finally {
      await client.close();
    }
    const gaps = times.slice(1).map((t, i) => t - times[i]);
    // Equal jitter: each wait is at least half its ceiling (10, 20, 40, 40, ...).
    assert.ok(gaps[0] >= 4, `gaps ${gaps}`);
    assert.ok(gaps[2] >= 19, `gaps ${gaps}`);
    assert.ok(gaps.slice(3).every((g) => g >= 19), `gaps ${gaps}`);
  });

  test("the whole request surface waits for a connection: streams and buffer notifications", async () => {
    const net = network();
    net.setDown(true);
    const client = new ReconnectingPeer({ connect: net.connect, minDelayMs: 1, maxDelayMs: 5 });
    try {
      assert.equal(client.isOpen, false);
      const { writable, readable } = client.streamRequest("stream-echo");
      const notified = client.bufferNotify("blob", new Uint8Array([9]));
      const writer = writable.getWriter();
      const wrote = writer.write(new Uint8Array([1])).then(() => writer.close());
      await until(() => net.attempts >= 2);
      net.setDown(false);
      const parts: Uint8Array[] = [];
      const reader = readable.getReader();
      for (let r = await reader.read(); !r.done; r = await reader.read()) parts.push(r.value);
      await wrote;
      await notified;
      assert.deepEqual(parts, [new Uint8Array([1])]);
      await until(() => blobs.length > 0);
      assert.deepEqual(blobs.at(-1), new Uint8Array([9]));
      assert.equal(client.isOpen, true);
    } finally {
      await client.close();
      net.dropAll();
    }
  });

  test("abort closes at once and rejects what waits", async () => {
    const net = network();
    const client = new ReconnectingPeer({ connect: net.connect, minDelayMs: 1, maxDelayMs: 2 });
    assert.equal(await client.request("ping"), "pong");
    const pending = client.request("never");
    client.abort(new Error("bye"));
    await assert.rejects(pending, ConnectionClosedError);
    assert.equal(await client.closed, undefined);
    await assert.rejects(client.request("ping"), ConnectionClosedError);
    net.dropAll();
  });

  test("every attempt is reported: connecting, failed with its cause and number, open", async () => {
    const net = network();
    net.setDown(true);
    const events: string[] = [];
    const client = new ReconnectingPeer({
      connect: net.connect,
      minDelayMs: 1,
      maxDelayMs: 2,
      onConnecting: (n) => events.push(`connecting ${n}`),
      onConnectFailed: (e, n) => events.push(`failed ${n}: ${(e as Error).message}`),
      onOpen: () => events.push("open"),
    });
    try {
      await until(() => net.attempts >= 2);
      net.setDown(false);
      assert.equal(await client.request("ping"), "pong");
      const open = events.indexOf("open");
      const k = (open + 1) / 2; // the attempt that connected
      assert.ok(k >= 3, events.join(", "));
      const expected: string[] = [];
      for (let n = 1; n < k; n++) {
        expected.push(`connecting ${n}`, `failed ${n}: connection refused`);
      }
      expected.push(`connecting ${k}`, "open");
      assert.deepEqual(events.slice(0, open + 1), expected);
    } finally {
      await client.close();
      net.dropAll();
    }
  });

  test("a call made while disconnected gives up after queueTimeoutMs, naming the op", async () => {
    const net = network();
    net.setDown(true);
    const client = new ReconnectingPeer({
      connect: net.connect,
      minDelayMs: 1,
      maxDelayMs: 2,
      queueTimeoutMs: 30,
    });
    try {
      await assert.rejects(client.request("ping"), (e) => {
        assert.ok(e instanceof ConnectionClosedError);
        assert.match(e.message, /"ping" waited 30 ms for a connection/);
        assert.equal((e.cause as Error).message, "connection refused");
        return true;
      });
    } finally {
      await client.close();
    }
  });

  test("close rejects queued calls and stops reconnecting", async () => {
    const net = network();
    net.setDown(true);
    const client = new ReconnectingPeer({ connect: net.connect, minDelayMs: 1, maxDelayMs: 2 });
    const queued = assert.rejects(client.request("ping"), ConnectionClosedError);
    await client.close();
    await queued;
    const n = net.attempts;
    await new Promise((r) => setTimeout(r, 20));
    assert.equal(net.attempts, n);
    await assert.rejects(client.request("ping"), ConnectionClosedError);
  });
});
