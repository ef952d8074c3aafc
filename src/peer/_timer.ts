// This module is browser compatible.

/** A timer handle on every runtime (a number on Deno and in browsers, an object on Node/Bun). */
export type TimerHandle = ReturnType<typeof setTimeout>;

/** setTimeout's longest delay. */
export const MAX_TIMER_MS = 0x7fffffff;

/** Deno before 2.9 has number timers, and `Deno.unrefTimer` for them. */
const denoUnref = (globalThis as { Deno?: { unrefTimer?: (id: number) => void } }).Deno
  ?.unrefTimer;

/** Keeps a timer from holding the process open (Node, Bun and Deno; browsers have no need). */
export function unrefTimer(t: unknown): void {
  if (typeof t === "object" && t !== null && "unref" in t && typeof t.unref === "function") {
    t.unref();
  } else if (typeof t === "number" && denoUnref !== undefined) {
    denoUnref(t);
  }
}
