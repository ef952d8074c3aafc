/**
 * Pausing a listener while the process is out of file descriptors, for the runtimes whose
 * native accept loop would otherwise spin: Bun's sockets and HTTP server keep polling a listening
 * socket whose `accept` fails with EMFILE (a CPU hot loop), and the `node:` servers on Deno and
 * Bun either spin the same way or stop accepting for good. Node's own libuv copes (it accepts
 * and drops connections with a reserved descriptor), so real Node does not use this. Internal:
 * not part of the public API.
 *
 * How: after every accepted connection, and every 100 ms while listening (for servers that do
 * not report each connection, and for descriptors taken by something else), the guard checks
 * that a descriptor is still free (it opens and closes the null device). If none is, it stops
 * the listener (closing the listening
 * socket), then waits 5 ms, doubling to 1 s as Go's accept loops do, and listens again on the
 * same address once two descriptors are free. Connections already accepted are served
 * throughout; connection attempts while paused are refused by the kernel, which clients retry.
 *
 * @module
 */

import { closeSync, openSync } from "node:fs";
import { devNull } from "node:os";

/** The first wait before listening again, in ms (as Go's accept backoff). */
export const MIN_PAUSE_MS = 5;
/** The longest wait between attempts to listen again, in ms (Go: 1 s). */
export const MAX_PAUSE_MS = 1000;
/** How often a listening guard checks for a free descriptor, in ms. */
export const WATCH_MS = 100;

/**
 * Whether `count` more file descriptors can be opened now. If the check itself is not allowed
 * (Deno without read permission), it answers true: the guard then never pauses.
 */
export function descriptorsFree(count = 1): boolean {
  const opened: number[] = [];
  try {
    for (let i = 0; i < count; i++) opened.push(openSync(devNull, "r"));
    return true;
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    return code !== "EMFILE" && code !== "ENFILE";
  } finally {
    for (const fd of opened) closeSync(fd);
  }
}

/** What a guarded listener does: start listening (throws if it cannot) and return how to stop. */
export type StartListening = () => () => void;

/**
 * Keeps a listener going across descriptor exhaustion (see the module docs). Call
 * {@linkcode FdGuard.accepted} after every accepted connection and {@linkcode FdGuard.close}
 * once the listener closes.
 */
export class FdGuard {
  #start: StartListening;
  #stop: (() => void) | null;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #delay = 0;
  #closed = false;
  #pauses = 0;
  #watch: ReturnType<typeof setInterval>;

  /**
   * @param start Listens again (on the address first bound), for after a pause.
   * @param stop Stops the listener that is listening now.
   */
  constructor(start: StartListening, stop: () => void) {
    this.#start = start;
    this.#stop = stop;
    this.#watch = setInterval(() => this.accepted(), WATCH_MS);
    // Never what keeps a process alive (Node and Bun timers have unref, Deno's are numbers).
    const timer = this.#watch as unknown as { unref?: () => void };
    if (typeof timer.unref === "function") timer.unref();
    else {
      (globalThis as { Deno?: { unrefTimer(id: number): void } }).Deno?.unrefTimer(
        this.#watch as unknown as number,
      );
    }
  }

  /** How many times the listener was paused so far. */
  get pauses(): number {
    return this.#pauses;
  }

  /** Whether the listener is paused now. */
  get paused(): boolean {
    return this.#stop === null && !this.#closed;
  }

  /** A connection was accepted: pauses the listener if that took the last free descriptor. */
  accepted(): void {
    if (this.#closed || this.#stop === null) return;
    if (descriptorsFree()) {
      // Listening with descriptors to spare: the next pause starts from the shortest wait.
      this.#delay = 0;
      return;
    }
    const stop = this.#stop;
    this.#stop = null;
    this.#pauses++;
    // Out of the runtime's accept callback first: its accept loop still holds the listener.
    queueMicrotask(() => {
      try {
        stop();
      } catch {
        // Already stopped.
      }
    });
    // Paused again right after listening again: wait longer (as Go does while accepts fail).
    this.#delay = this.#delay === 0 ? MIN_PAUSE_MS : Math.min(this.#delay * 2, MAX_PAUSE_MS);
    this.#schedule();
  }

  #schedule(): void {
    this.#timer = setTimeout(() => this.#retry(), this.#delay);
  }

  #retry(): void {
    this.#timer = undefined;
    if (this.#closed) return;
    // One descriptor for the listening socket, one for the next connection.
    if (descriptorsFree(2)) {
      try {
        this.#stop = this.#start();
        return;
      } catch {
        // Out of descriptors after all, or the address was taken meanwhile: try later.
      }
    }
    this.#delay = Math.min(this.#delay * 2, MAX_PAUSE_MS);
    this.#schedule();
  }

  /** Stops the listener for good (or the pending attempt to listen again). */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    clearTimeout(this.#timer);
    clearInterval(this.#watch);
    const stop = this.#stop;
    this.#stop = null;
    stop?.();
  }
}

/** The part of a `node:net` or `node:http` server the guard uses. */
export interface NodeServerLike {
  on(event: "connection" | "error", listener: () => void): unknown;
  listen(options: { host: string; port: number }): unknown;
  close(): unknown;
}

/** Whether this is Deno or Bun (whose `node:` servers need the guard), not Node itself. */
function nodeCompat(): boolean {
  const g = globalThis as { Deno?: unknown; Bun?: unknown };
  return g.Deno !== undefined || g.Bun !== undefined;
}

/**
 * Guards a listening `node:` server on Deno and Bun (see the module docs); on Node, whose libuv
 * copes by itself, it returns null. `create` makes an identical server, not yet listening, to
 * listen again with after a pause.
 *
 * @param server The server, listening on `host` and `port`.
 * @param create Makes a server with the same listeners.
 * @param host The address it listens on.
 * @param port The port it listens on (the one bound, not 0).
 * @returns The guard, or null on Node.
 */
export function guardNodeServer(
  server: NodeServerLike,
  create: () => NodeServerLike,
  host: string,
  port: number,
): FdGuard | null {
  if (!nodeCompat()) return null;
  const stopper = (s: NodeServerLike) => () => void s.close();
  const guard: FdGuard = new FdGuard(() => {
    const next = create();
    next.on("connection", () => guard.accepted());
    // A failed listen (the port taken meanwhile) leaves the guard watching a closed server.
    next.on("error", () => {});
    next.listen({ host, port });
    return stopper(next);
  }, stopper(server));
  server.on("connection", () => guard.accepted());
  return guard;
}
