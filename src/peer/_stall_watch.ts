// This module is browser compatible.
// The write-stall watch: the writers with bytes in flight at one stall timeout share one timer
// (a timer per connection costs more than the rest of its writer), which looks at each of them
// a few times per timeout. A writer joins when bytes go out after none were waiting and leaves
// once they are all written, so an idle connection is watched by nothing. The timer stops at the
// first tick that finds no writer, not when the last one leaves: connections that each write a
// little in turn (10,000 handshakes arriving) would otherwise make and drop a timer per write.

import { type TimerHandle, unrefTimer } from "./_timer.ts";

/** What is watched. */
export interface Watched {
  /** Looks at the time of the last progress: a stall if it is `ms` or more before `now`. */
  checkStall(now: number): void;
}

/** Ticks per timeout: a stall is seen between 1 and 1.25 timeouts after the last progress. */
const TICKS = 4;

/** The watches by timeout (ms), each while some writer has bytes in flight. */
const watches = new Map<number, StallWatch>();

/** The writers watched at one timeout. */
export class StallWatch {
  readonly #ms: number;
  readonly #writers = new Set<Watched>();
  #timer: TimerHandle | undefined;

  private constructor(ms: number) {
    this.#ms = ms;
    this.#timer = setInterval(StallWatch.#tick, Math.max(1, ms / TICKS), this);
    unrefTimer(this.#timer);
  }

  /** Watches `who` at timeout `ms` (positive). */
  static add(ms: number, who: Watched): void {
    let watch = watches.get(ms);
    if (watch === undefined) watches.set(ms, watch = new StallWatch(ms));
    watch.#writers.add(who);
  }

  /** Stops watching `who`; the watch's timer stops at its next tick with no writer. */
  static remove(ms: number, who: Watched): void {
    const watch = watches.get(ms);
    if (watch !== undefined) watch.#writers.delete(who);
  }

  static #tick(watch: StallWatch): void {
    if (watch.#writers.size === 0) {
      clearInterval(watch.#timer);
      watch.#timer = undefined;
      watches.delete(watch.#ms);
      return;
    }
    const now = Date.now();
    // (A writer that stalls leaves the set while this runs: deleting during for-of is safe.)
    for (const who of watch.#writers) who.checkStall(now);
  }
}
