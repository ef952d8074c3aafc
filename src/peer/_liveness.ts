// This module is browser compatible.
// Liveness: the handshake deadline, the read timeout, and heartbeats both ways. The only owner
// of the time of the last read.

import type { HeartbeatMessage } from "../protocol/mod.ts";
import { ProtocolError, ProtocolErrorCode } from "../protocol/mod.ts";
import type { Heartbeat } from "./session.ts";
import { type TimerHandle, unrefTimer } from "./_timer.ts";
import { type Beating, HeartbeatClock } from "./_heartbeats.ts";
import { Deadlines, type Expiring } from "./_deadlines.ts";

/** What liveness sees of its owner. */
export interface LivenessOwner {
  /** A deadline passed: send the ProtocolError and close. */
  timedOut(error: ProtocolError): void;
  /** Time for a heartbeat: send it. */
  sendHeartbeat(load: number, time: number): void;
  /** The liveness settings (read from the owner: a liveness keeps no field for them). */
  readonly o: LivenessOptions;
}

/** The liveness settings of a peer (see `PeerOptions`). */
export interface LivenessOptions {
  readonly handshakeTimeoutMs: number;
  readonly readTimeoutMs: number;
  readonly heartbeatIntervalMs: number;
  readonly heartbeatLoad: () => number;
  readonly onHeartbeat: ((heartbeat: Heartbeat) => void) | undefined;
}

/** Timers and heartbeats of one peer; {@linkcode stop} clears them all. */
export class Liveness implements Beating, Expiring {
  readonly #owner: LivenessOwner;
  /** When bytes last arrived (kept only with a read timeout). */
  #lastRead = 0;
  #lastHeartbeat: Heartbeat | undefined;
  #readTimer: TimerHandle | undefined;
  /** This peer's tick on the heartbeat clock of its interval (-1: none), for leaving it. */
  #heartbeatSlot = -1;

  /** Arms the handshake deadline, the read timeout and the heartbeat interval. */
  constructor(owner: LivenessOwner) {
    this.#owner = owner;
    const options = owner.o;
    // The timers call shared functions with this liveness as their argument: no closure each.
    if (options.handshakeTimeoutMs > 0) {
      Deadlines.add(options.handshakeTimeoutMs, this);
    }
    if (options.readTimeoutMs > 0) {
      this.#lastRead = Date.now();
      this.#armReadTimer(options.readTimeoutMs);
    }
    if (options.heartbeatIntervalMs > 0) {
      this.#heartbeatSlot = HeartbeatClock.join(options.heartbeatIntervalMs, this);
    }
  }

  /** The handshake deadline passed. */
  expired(): void {
    this.#owner.timedOut(
      new ProtocolError("The remote sent no handshake in time", {
        code: ProtocolErrorCode.Timeout,
      }),
    );
  }

  static #readTimerFired(l: Liveness): void {
    const timeout = l.#owner.o.readTimeoutMs;
    const idle = Date.now() - l.#lastRead;
    if (idle >= timeout) {
      l.#owner.timedOut(
        new ProtocolError(`Nothing was received for ${timeout} ms`, {
          code: ProtocolErrorCode.Timeout,
        }),
      );
    } else {
      l.#armReadTimer(timeout - idle);
    }
  }

  /** The most recent heartbeat from the remote. */
  get lastHeartbeat(): Heartbeat | undefined {
    return this.#lastHeartbeat;
  }

  /** The remote's handshake arrived: its deadline is off. */
  handshaken(): void {
    // (The deadlines at its timeout are shared: taking off one that is not there costs a lookup.)
    const ms = this.#owner.o.handshakeTimeoutMs;
    if (ms > 0) Deadlines.remove(ms, this);
  }

  /**
   * Bytes arrived, or the read loop paused on purpose (a slow consumer, a full write backlog):
   * either way the remote did not go quiet.
   */
  read(): void {
    if (this.#readTimer !== undefined) this.#lastRead = Date.now();
  }

  /** A heartbeat arrived. */
  heartbeat(m: HeartbeatMessage): void {
    this.#lastHeartbeat = { load: m.load, time: m.time, receivedAt: Date.now() };
    this.#owner.o.onHeartbeat?.(this.#lastHeartbeat);
  }

  /** Clears every timer. */
  stop(): void {
    this.handshaken();
    clearTimeout(this.#readTimer);
    if (this.#heartbeatSlot >= 0) {
      HeartbeatClock.leave(this.#owner.o.heartbeatIntervalMs, this.#heartbeatSlot, this);
      this.#heartbeatSlot = -1;
    }
    this.#readTimer = undefined;
  }

  #armReadTimer(ms: number): void {
    this.#readTimer = setTimeout(Liveness.#readTimerFired, ms, this);
    unrefTimer(this.#readTimer);
  }

  /** Sends a heartbeat now (the heartbeat clock calls it once per interval). */
  beat(): void {
    let load = Math.round(this.#owner.o.heartbeatLoad());
    load = Math.min(0xffff, Math.max(0, Number.isFinite(load) ? load : 0));
    this.#owner.sendHeartbeat(load, Math.floor(Date.now() / 1000) >>> 0);
  }
}
