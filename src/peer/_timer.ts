// This module is browser compatible.

/** A timer handle on every runtime (a number on Deno and in browsers, an object on Node/Bun). */
export type TimerHandle = ReturnType<typeof setTimeout>;

/** setTimeout's longest delay. */
export const MAX_TIMER_MS = 0x7fffffff;

/** Keeps a timer from holding the process open (Node, Bun, Deno 2.9; browsers have no need). */
export function unrefTimer(t: unknown): void {
  if (typeof t === "object" && t !== null && "unref" in t && typeof t.unref === "function") {
    t.unref();
  }
}
