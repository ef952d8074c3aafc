// This module is browser compatible.
// The heartbeat clock: the peers that send heartbeats at one interval share one timer (a timer
// costs a connection more than the rest of its liveness). It ticks a few times per interval,
// and each peer beats on its own tick, once per interval: the beats of many connections are
// spread over the interval, not sent in one burst. A peer's first beat comes at most one
// interval after it joined (never later, so a remote's read timeout sees what it did before),
// and every next one an interval after the last.

import { type TimerHandle, unrefTimer } from "./_timer.ts";

/** What beats. */
export interface Beating {
  /** Sends one heartbeat. */
  beat(): void;
}

/** The most ticks per interval. */
const MAX_SLOTS = 16;

/** The clocks by interval (ms), each while some peer beats on it. */
const clocks = new Map<number, HeartbeatClock>();

/** The beats of every peer at one interval. */
export class HeartbeatClock {
  /** The peers of each tick. */
  readonly #slots: Set<Beating>[];
  /** The tick that runs next. */
  #next = 0;
  #count = 0;
  #timer: TimerHandle | undefined;

  private constructor(intervalMs: number) {
    // As many ticks as divide the interval exactly (at most MAX_SLOTS): the period is exact.
    let slots = Number.isInteger(intervalMs) ? Math.min(MAX_SLOTS, intervalMs) : 1;
    while (slots > 1 && intervalMs % slots !== 0) slots--;
    this.#slots = Array.from({ length: slots }, () => new Set<Beating>());
    this.#timer = setInterval(HeartbeatClock.#tick, intervalMs / slots, this);
    unrefTimer(this.#timer);
  }

  /**
   * Starts `who`'s beats every `intervalMs` (positive), the first within one interval.
   *
   * @returns Its tick, for {@linkcode leave}.
   */
  static join(intervalMs: number, who: Beating): number {
    let clock = clocks.get(intervalMs);
    if (clock === undefined) clocks.set(intervalMs, clock = new HeartbeatClock(intervalMs));
    // The tick that ran last (or, on a new clock, the one a whole interval away): it comes round
    // again less than one interval from now.
    const n = clock.#slots.length;
    const slot = (clock.#next + n - 1) % n;
    clock.#slots[slot].add(who);
    clock.#count++;
    return slot;
  }

  /** Stops `who`'s beats (at `intervalMs`, on tick `slot`); the clock stops with its last peer. */
  static leave(intervalMs: number, slot: number, who: Beating): void {
    const clock = clocks.get(intervalMs);
    if (clock === undefined || !clock.#slots[slot].delete(who)) return;
    if (--clock.#count > 0) return;
    clearInterval(clock.#timer);
    clock.#timer = undefined;
    clocks.delete(intervalMs);
  }

  static #tick(clock: HeartbeatClock): void {
    const slot = clock.#slots[clock.#next];
    // Peers that join while this tick runs sit on the tick before: they do not beat at once.
    let failure: { error: unknown } | undefined;
    for (const who of slot) {
      try {
        who.beat();
      } catch (error) {
        failure ??= { error };
      }
    }
    clock.#next = (clock.#next + 1) % clock.#slots.length;
    // A beat that threw (a `heartbeatLoad` of the user's) is thrown from the timer, as a timer of
    // its own would; the other peers beat first.
    if (failure !== undefined) throw failure.error;
  }
}
