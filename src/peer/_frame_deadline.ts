// This module is browser compatible.
// The frame deadline: a frame that has started must be complete within `frameTimeoutMs`, however
// its bytes trickle in (a byte now and then does not reset it). Idle time between frames does
// not count, nor time the read loop spends paused on purpose (the remote could not send then).

import { ProtocolError, ProtocolErrorCode } from "../protocol/mod.ts";
import { type TimerHandle, unrefTimer } from "./_timer.ts";

/** Who is told when a frame misses its deadline. */
export interface DeadlineOwner {
  /** Called once when a frame took longer: send the ProtocolError and close. */
  protocolFailure(error: ProtocolError): void;
}

/** Watches the frame being read; one timer, armed only while a frame is unfinished. */
export class FrameDeadline {
  readonly #ms: number;
  readonly #owner: DeadlineOwner;
  /** When the unfinished frame started; 0 while no frame is unfinished. */
  #startedAt = 0;
  #timer: TimerHandle | undefined;
  #stopped = false;
  /** The read loop is paused on purpose: the deadline waits. */
  #paused = false;

  /**
   * @param ms The deadline, in ms; 0 turns it off.
   * @param owner Told once when a frame took longer.
   */
  constructor(ms: number, owner: DeadlineOwner) {
    this.#ms = ms;
    this.#owner = owner;
  }

  /**
   * A chunk was decoded: `partial` whether a frame is unfinished after it, `completed` whether
   * it finished a frame (so the unfinished one, if any, started in it).
   */
  read(partial: boolean, completed: boolean): void {
    if (this.#ms === 0) return;
    if (!partial) {
      this.#startedAt = 0;
      return;
    }
    if (completed || this.#startedAt === 0) this.#startedAt = Date.now();
    if (this.#timer === undefined && !this.#stopped) this.#check(this.#ms);
  }

  /** The read loop pauses on purpose (a consumer behind, replies unread): the deadline waits. */
  paused(): void {
    this.#paused = true;
  }

  /** The read loop reads again: the unfinished frame's time starts again. */
  resumed(): void {
    this.#paused = false;
    if (this.#startedAt !== 0) this.#startedAt = Date.now();
  }

  /** Clears the timer for good. */
  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #check(ms: number): void {
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      if (this.#startedAt === 0 || this.#stopped) return;
      if (this.#paused) {
        this.#check(this.#ms);
        return;
      }
      const took = Date.now() - this.#startedAt;
      if (took < this.#ms) {
        this.#check(this.#ms - took);
        return;
      }
      this.stop();
      this.#owner.protocolFailure(
        new ProtocolError(`A frame took longer than ${this.#ms} ms to arrive`, {
          code: ProtocolErrorCode.Timeout,
        }),
      );
    }, ms);
    unrefTimer(this.#timer);
  }
}
