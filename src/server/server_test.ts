import { describe, test } from "node:test";
import assert from "node:assert/strict";
import type { ListenAddr, Listener, Transport } from "../peer/transport.ts";
import { pipePair } from "../transports/pipe.ts";
import { acceptLoop, MAX_ACCEPT_DELAY_MS, MIN_ACCEPT_DELAY_MS } from "./_accept_loop.ts";
import { Server } from "./server.ts";

/** A listener that plays a script: an Error fails that accept, a transport or null is returned. */
class ScriptedListener implements Listener {
  readonly addr: ListenAddr = { hostname: "test", port: 1 };
  readonly calls: number[] = [];
  closed = false;
  #script: (Error | Transport | null)[];

  constructor(script: (Error | Transport | null)[]) {
    this.#script = script;
  }

  accept(): Promise<Transport | null> {
    this.calls.push(this.calls.length);
    if (this.closed) return Promise.resolve(null);
    const next = this.#script.shift() ?? null;
    return next instanceof Error ? Promise.reject(next) : Promise.resolve(next);
  }

  close(): void {
    this.closed = true;
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<Transport> {
    for (let t = await this.accept(); t !== null; t = await this.accept()) yield t;
  }
}

const emfile = () => Object.assign(new Error("accept: too many open files"), { code: "EMFILE" });

describe("the accept loop", () => {
  test("backs off after failed accepts as Go does: 5 ms doubling to 1 s, reset by a success", async () => {
    const [transport, other] = pipePair();
    const listener = new ScriptedListener([
      ...Array.from({ length: 12 }, emfile),
      transport,
      emfile(),
      emfile(),
      null,
    ]);
    const waited: number[] = [];
    const errors: unknown[] = [];
    const accepted: Transport[] = [];
    await acceptLoop(listener, new AbortController().signal, {
      accepted: (t) => accepted.push(t),
      failed: (error) => errors.push(error),
      sleep: (ms) => {
        waited.push(ms);
        return Promise.resolve();
      },
    });
    assert.equal(MIN_ACCEPT_DELAY_MS, 5);
    assert.equal(MAX_ACCEPT_DELAY_MS, 1000);
    assert.deepEqual(waited, [5, 10, 20, 40, 80, 160, 320, 640, 1000, 1000, 1000, 1000, 5, 10]);
    assert.equal(errors.length, 14);
    assert.ok(errors.every((e) => (e as { code?: string }).code === "EMFILE"));
    assert.deepEqual(accepted, [transport]);
    transport.close();
    other.close();
  });

  test("stopping it cuts a wait short, and it accepts nothing more", async () => {
    const listener = new ScriptedListener([emfile(), emfile(), emfile()]);
    const controller = new AbortController();
    const waited: number[] = [];
    const loop = acceptLoop(listener, controller.signal, {
      accepted: () => assert.fail("nothing to accept"),
      failed: () => {},
      // Waits until stopped, however long it was asked to wait.
      sleep: (ms, signal) => {
        waited.push(ms);
        if (waited.length === 1) queueMicrotask(() => controller.abort());
        return new Promise((resolve) => signal.addEventListener("abort", () => resolve()));
      },
    });
    await loop;
    assert.deepEqual(waited, [5]);
    assert.equal(listener.calls.length, 1);
  });

  test("a connection accepted after stopping is closed, not handed out", async () => {
    const [transport, other] = pipePair();
    const controller = new AbortController();
    const listener = new ScriptedListener([transport]);
    const accept = listener.accept.bind(listener);
    listener.accept = () => {
      controller.abort();
      return accept();
    };
    await acceptLoop(listener, controller.signal, {
      accepted: () => assert.fail("stopped"),
      failed: () => {},
    });
    // The other end sees the close.
    const reader = other.readable.getReader();
    assert.equal((await reader.read()).done, true);
    other.close();
  });
});

describe("Server", () => {
  test("reports failed accepts to onError and keeps serving; close() ends it", async () => {
    const [client, transport] = pipePair();
    const listener = new ScriptedListener([emfile(), emfile(), transport]);
    const errors: unknown[] = [];
    let peers = 0;
    let served!: () => void;
    const peerCreated = new Promise<void>((resolve) => served = resolve);
    const server = new Server(listener, {
      onError: (error) => errors.push(error),
      onPeer: () => {
        peers++;
        served();
      },
      heartbeatIntervalMs: 0,
    });
    await peerCreated;
    assert.equal(errors.length, 2);
    assert.equal(peers, 1);
    assert.equal(server.addr.port, 1);
    await server.close({ timeoutMs: 1000 });
    assert.equal(listener.closed, true);
    assert.equal(server.peers.size, 0);
    client.close();
  });

  test("a peer leaves server.peers once its connection closed", async () => {
    const [client, transport] = pipePair();
    const listener = new ScriptedListener([transport]);
    let served!: (peer: unknown) => void;
    const peerCreated = new Promise((resolve) => served = resolve);
    const server = new Server(listener, { onPeer: (p) => served(p), heartbeatIntervalMs: 0 });
    const peer = await peerCreated as { closed: Promise<unknown> };
    assert.equal(server.peers.size, 1);
    // The remote goes away: the peer closes, and the server forgets it.
    client.close();
    await peer.closed;
    assert.equal(server.peers.size, 0);
    await server.close({ timeoutMs: 1000 });
  });
});
