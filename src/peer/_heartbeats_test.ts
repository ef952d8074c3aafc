// The shared heartbeat clock: every peer at one interval beats on it, each once per tick round;
// leaving stops a peer's beats and not the others'; a clock whose last peer left starts again.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { HeartbeatClock } from "./_heartbeats.ts";
import { within } from "./_test_within.ts";

/** A beater that counts its beats. */
function beater() {
  return {
    beats: 0,
    beat(): void {
      this.beats++;
    },
  };
}

/** Waits (polling, bounded; the clock's timer is unref'd, this keeps the loop alive) until `ok`. */
function until(ok: () => boolean, what: string): Promise<void> {
  return within(
    (async () => {
      while (!ok()) await new Promise((r) => setTimeout(r, 2));
    })(),
    10_000,
    what,
  );
}

describe("HeartbeatClock", () => {
  test("peers at one interval all beat; one that leaves stops, the others go on", async () => {
    const ms = 16;
    const a = beater(), b = beater(), c = beater();
    const slots = [a, b, c].map((x) => HeartbeatClock.join(ms, x));
    await until(() => a.beats >= 3 && b.beats >= 3 && c.beats >= 3, "three beats each");
    HeartbeatClock.leave(ms, slots[1], b);
    const left = b.beats;
    const [fromA, fromC] = [a.beats, c.beats];
    // Two more beats of the others: two more intervals passed, in which b would have beaten.
    await until(() => a.beats >= fromA + 2 && c.beats >= fromC + 2, "two more beats");
    assert.equal(b.beats, left, "no beat after leave");
    HeartbeatClock.leave(ms, slots[0], a);
    HeartbeatClock.leave(ms, slots[2], c);
    HeartbeatClock.leave(ms, slots[2], c); // leaving twice is harmless
  });

  test("a clock whose last peer left starts again for the next one", async () => {
    const first = beater();
    const slot = HeartbeatClock.join(10, first);
    await until(() => first.beats >= 1, "a first beat");
    HeartbeatClock.leave(10, slot, first);
    const next = beater();
    const again = HeartbeatClock.join(10, next);
    await until(() => next.beats >= 2, "beats on the new clock");
    HeartbeatClock.leave(10, again, next);
  });

  test("an interval that is not a whole number of ms beats too", async () => {
    const x = beater();
    const slot = HeartbeatClock.join(2.5, x);
    await until(() => x.beats >= 2, "two beats");
    HeartbeatClock.leave(2.5, slot, x);
  });
});
