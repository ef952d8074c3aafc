// Liveness against a fake owner: the handshake deadline, the read timeout and what resets it,
// heartbeats sent and received, and stop().
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { type ProtocolError, ProtocolErrorCode } from "../protocol/mod.ts";
import type { Heartbeat } from "./session.ts";
import { Liveness, type LivenessOptions } from "./_liveness.ts";
import { deferred } from "./_test_fakes.ts";

/**
 * Liveness unrefs its timers (they must not hold a process open), so a test waiting on them
 * keeps the event loop alive with a ref'd one: also the bound on every wait here.
 */
async function bounded<T>(p: Promise<T>): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([
      p,
      new Promise<never>((_, reject) =>
        timer = setTimeout(() => reject(new Error("timed out")), 5000)
      ),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

function owner() {
  const timeouts = deferred<ProtocolError>();
  const beats: Array<[number, number]> = [];
  return {
    timeouts,
    beats,
    owner: {
      timedOut: timeouts.resolve,
      sendHeartbeat: (l: number, t: number) => beats.push([l, t]),
    },
  };
}

const base: LivenessOptions = {
  handshakeTimeoutMs: 0,
  readTimeoutMs: 0,
  heartbeatIntervalMs: 0,
  heartbeatLoad: () => 0,
  onHeartbeat: undefined,
};

describe("Liveness", () => {
  test("no handshake in time is a timeout ProtocolError", async () => {
    const o = owner();
    const l = new Liveness({ ...o.owner, o: { ...base, handshakeTimeoutMs: 5 } });
    const e = await bounded(o.timeouts.promise);
    assert.equal(e.code, ProtocolErrorCode.Timeout);
    assert.match(e.message, /handshake/);
    l.stop();
  });

  test("reads keep the read timeout off; silence trips it", async () => {
    const o = owner();
    const l = new Liveness({
      ...o.owner,
      o: { ...base, handshakeTimeoutMs: 1, readTimeoutMs: 300 },
    });
    l.handshaken(); // the handshake deadline is off: only the read timeout can fire
    let tripped = false;
    o.timeouts.promise.then(() => tripped = true);
    for (let i = 0; i < 6; i++) {
      l.read();
      await new Promise((r) => setTimeout(r, 5));
    }
    assert.equal(tripped, false);
    const e = await bounded(o.timeouts.promise);
    assert.match(e.message, /Nothing was received for 300 ms/);
    l.stop();
  });

  test("heartbeats go out with the load clamped, and come in to onHeartbeat", async () => {
    const o = owner();
    const got: Heartbeat[] = [];
    const l = new Liveness({
      ...o.owner,
      o: {
        ...base,
        heartbeatIntervalMs: 1,
        heartbeatLoad: () => 1e9,
        onHeartbeat: (h) => got.push(h),
      },
    });
    await bounded((async () => {
      while (o.beats.length < 2) await new Promise((r) => setTimeout(r, 2));
    })());
    l.stop();
    const sent = o.beats.length;
    assert.ok(sent >= 2);
    assert.equal(o.beats[0][0], 0xffff);
    await new Promise((r) => setTimeout(r, 10));
    assert.equal(o.beats.length, sent, "stop() ends the heartbeats");
    l.heartbeat({ type: "h", load: 3, time: 42 });
    assert.equal(l.lastHeartbeat?.load, 3);
    assert.equal(got[0].time, 42);
  });
});
