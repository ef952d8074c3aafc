// Deadlines sharing one timer: they expire first set first, a removed one never does, and the
// queue works again after it ran empty.
import { test } from "node:test";
import assert from "node:assert/strict";
import { Deadlines, type Expiring } from "./_deadlines.ts";
import { within } from "./_test_within.ts";

// (`within` keeps the event loop alive while the unref'd shared timer runs, and bounds the wait.)

function waiter(name: string, log: string[]): Expiring & { done: Promise<void> } {
  let resolve!: () => void;
  const done = new Promise<void>((r) => resolve = r);
  return {
    done,
    expired() {
      log.push(name);
      resolve();
    },
  };
}

test("deadlines at one timeout expire in the order they were set; a removed one does not", async () => {
  const log: string[] = [];
  const a = waiter("a", log), b = waiter("b", log), c = waiter("c", log);
  Deadlines.add(7, a);
  Deadlines.add(7, b);
  await new Promise((r) => setTimeout(r, 2));
  Deadlines.add(7, c);
  Deadlines.remove(7, b);
  await within(Promise.all([a.done, c.done]));
  assert.deepEqual(log, ["a", "c"]);
  // Once the queue ran empty, a new deadline arms the timer again.
  const d = waiter("d", log);
  Deadlines.add(7, d);
  await within(d.done);
  assert.deepEqual(log, ["a", "c", "d"]);
  Deadlines.remove(7, b); // taking off what is gone is a no-op
});

test("a deadline set from an expiry at the same timeout still expires", async () => {
  const log: string[] = [];
  const later = waiter("later", log);
  const first: Expiring = {
    expired() {
      log.push("first");
      Deadlines.add(5, later);
    },
  };
  Deadlines.add(5, first);
  await within(later.done);
  assert.deepEqual(log, ["first", "later"]);
});
