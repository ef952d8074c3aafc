// This module is browser compatible.
// Deadlines at one timeout share one timer. All of them are the same length from when they were
// set, so they fall due in the order they were set: a Map in insertion order is the queue, and
// its one timer waits for the first. A timer per connection would cost each of 10,000
// connections arriving together a timer object of its own, made and dropped within its
// handshake; here the timer is made again only when it fires.

import { type TimerHandle, unrefTimer } from "./_timer.ts";

/** What waits for a deadline. */
export interface Expiring {
  /** The deadline passed (called once, after it left the queue). */
  expired(): void;
}

/** The queues by timeout (ms), each while it has deadlines or its timer is still set. */
const queues = new Map<number, Deadlines>();

/** The deadlines at one timeout, first due first. */
export class Deadlines {
  readonly #ms: number;
  /** Who waits, and when it falls due (`Date.now()` ms). */
  readonly #due = new Map<Expiring, number>();
  #timer: TimerHandle | undefined;

  private constructor(ms: number) {
    this.#ms = ms;
  }

  /** Sets a deadline `ms` (positive) from now for `who`. */
  static add(ms: number, who: Expiring): void {
    let q = queues.get(ms);
    if (q === undefined) queues.set(ms, q = new Deadlines(ms));
    q.#due.set(who, Date.now() + ms);
    if (q.#timer === undefined) q.#arm(ms);
  }

  /** Takes `who`'s deadline off (nothing when it has none). */
  static remove(ms: number, who: Expiring): void {
    // The timer stays: when it fires with nothing due it is not set again.
    const q = queues.get(ms);
    if (q !== undefined) q.#due.delete(who);
  }

  #arm(ms: number): void {
    this.#timer = setTimeout(Deadlines.#fire, ms, this);
    unrefTimer(this.#timer);
  }

  static #fire(q: Deadlines): void {
    q.#timer = undefined;
    const now = Date.now();
    const due: Expiring[] = [];
    for (const [who, at] of q.#due) {
      if (at > now) {
        q.#arm(at - now);
        break;
      }
      due.push(who);
    }
    for (const who of due) q.#due.delete(who);
    if (q.#timer === undefined && q.#due.size === 0) queues.delete(q.#ms);
    // Told after the queue is in order again: one that throws (reported as a timer's would be)
    // neither stops the others nor leaves later deadlines without a timer.
    for (const who of due) {
      try {
        who.expired();
      } catch (error) {
        queueMicrotask(() => {
          throw error;
        });
      }
    }
  }
}
