// This module is browser compatible.

/**
 * The accept loop of a {@linkcode Server}, with Go's backoff after a failed accept. Internal:
 * not part of the public API.
 *
 * @module
 */

import type { Listener, Transport } from "../peer/transport.ts";

/** The first wait after a failed accept, in ms (Go's `net/http` and gotalk: 5 ms). */
export const MIN_ACCEPT_DELAY_MS = 5;
/** The longest wait between failed accepts, in ms (Go: 1 s). */
export const MAX_ACCEPT_DELAY_MS = 1000;

/** What the loop reports to, and how it waits. */
export interface AcceptLoopHooks {
  /** A connection was accepted. */
  accepted(transport: Transport): void;
  /** `accept()` failed (such as EMFILE); the loop waits, then tries again. */
  failed(error: unknown): void;
  /** Waits `ms`, or less once `signal` aborts. Default: a timer. */
  sleep?(ms: number, signal: AbortSignal): Promise<void>;
}

/** Resolves after `ms`, or at once when `signal` aborts. */
function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener("abort", done, { once: true });
  });
}

/**
 * Accepts from `listener` until it returns `null` or `signal` aborts. After a failed accept it
 * waits before the next one, as Go's servers do: 5 ms, doubling up to 1 s while accepts keep
 * failing, back to 5 ms after one succeeds. So a persistent error (out of file descriptors)
 * costs one accept a second instead of a busy loop. A connection accepted once `signal` aborted
 * is closed.
 *
 * @param listener Where connections come from.
 * @param signal Stops the loop (the owner closes the listener too).
 * @param hooks Where connections and errors go.
 * @returns Resolves when the loop ended.
 */
export async function acceptLoop(
  listener: Listener,
  signal: AbortSignal,
  hooks: AcceptLoopHooks,
): Promise<void> {
  const wait = hooks.sleep ?? sleep;
  let delay = 0;
  while (!signal.aborted) {
    let transport: Transport | null;
    try {
      transport = await listener.accept();
    } catch (error) {
      if (signal.aborted) return;
      hooks.failed(error);
      delay = delay === 0 ? MIN_ACCEPT_DELAY_MS : Math.min(delay * 2, MAX_ACCEPT_DELAY_MS);
      await wait(delay, signal);
      continue;
    }
    delay = 0;
    if (transport === null) return;
    if (signal.aborted) {
      transport.close();
      return;
    }
    hooks.accepted(transport);
  }
}
