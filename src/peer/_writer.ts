// This module is browser compatible.
// The peer's outgoing side: coalesces the frames produced in one microtask into one write,
// writes large payloads without copying them, and accounts every byte handed to the transport
// so that producers can wait for the backlog to drain (no unbounded queue). It also counts the
// bytes of replies (results of the remote's requests) apart, so that the read loop can stop
// taking requests from a remote that does not read their results, and it notices a transport
// that takes nothing for `stallMs` (a write stall).

import type { ChunkWriter } from "./_direct.ts";
import { StallWatch } from "./_stall_watch.ts";
import {
  encodedMessageLength,
  encodeHeaderInto,
  encodeMessageInto,
  type Message,
} from "../protocol/mod.ts";

/**
 * Payloads at least this large are written as their own chunk, never copied (their header goes
 * out with the frames before them). Smaller ones are copied into the batch, because one write
 * costs more than copying that much. A writer may say otherwise (`ChunkWriter.zeroCopyBytes`).
 */
const ZERO_COPY_BYTES = 256 * 1024;
/** The largest batch buffer: a flush of more than this is written in several chunks. */
const BATCH_BYTES = 1024 * 1024;

const EMPTY = new Uint8Array(0);

/** A queued frame: a message to encode, or a frame encoded already (a topic's notification). */
type Queued = Message | Uint8Array;

/**
 * The payload of `msg` (encoded in `n` bytes) if it is written without copying (it has `min`
 * bytes or more), or else empty.
 */
function zeroCopyPayload(msg: Queued, n: number, min: number): Uint8Array {
  if (msg instanceof Uint8Array) return n >= min ? msg : EMPTY;
  if (n < min || !("payload" in msg)) return EMPTY;
  return msg.payload.length >= min ? msg.payload : EMPTY;
}

/** Whether a frame answers one of the remote's requests (a result of ours). */
function isReply(type: Message["type"]): boolean {
  return type === "R" || type === "S" || type === "E" || type === "e";
}

/** Who the writer tells when writing fails, or the transport takes nothing for a while. */
export interface WriterOwner {
  /** A write failed (the writer drops everything from now on). */
  writeFailed(error: unknown): void;
  /** Writes made no progress for the stall timeout while bytes waited. */
  writeStalled(): void;
  /** The writer's settings (read from the owner: a writer keeps no field for them). */
  readonly o: WriterSettings;
}

/** How much a writer holds, and how long its writes may stall (see `PeerOptions`). */
export interface WriterSettings {
  /** The high-water mark of the backlog, in bytes. */
  readonly writeBufferBytes: number;
  /** How long writes may make no progress, in ms; 0: forever. */
  readonly writeStallTimeoutMs: number;
}

/**
 * The writers with frames queued since the last flush, in the order they queued their first:
 * one microtask flushes them all (a writer keeps no function of its own to schedule).
 */
let scheduled: FrameWriter[] | undefined;
/** The list of the last flush, emptied, for the next one (no array per microtask). */
let spareList: FrameWriter[] | undefined;

function flushScheduled(): void {
  const list = scheduled!;
  scheduled = undefined;
  try {
    FrameWriter.flushAll(list);
  } finally {
    list.length = 0;
    spareList = list;
  }
}

/** A flush of the writer is scheduled (in this microtask's list). */
const SCHEDULED = 1;
/** A write failed, or the writer closed or was aborted: sends are dropped. */
const FAILED = 2;

/** Writes Gotalk frames to a transport (its writable's writer, or its direct writer). */
export class FrameWriter {
  readonly #writer: ChunkWriter;
  /**
   * Messages waiting for the microtask flush, each followed by its encoded length (one array,
   * made with the first message after a flush).
   */
  #queue: Array<Queued | number> | undefined;
  /** The array of the previous flush, reused for the next one. */
  #spare: Array<Queued | number> | undefined;
  /** Encoded bytes of #queue. */
  #queuedBytes = 0;
  /** The part of #queuedBytes the flush copies (all but zero-copy payloads). */
  #copyBytes = 0;
  /** Bytes handed to the writer and not yet written. */
  #inFlight = 0;
  /** The reply bytes of #queuedBytes and of #inFlight. */
  #replyQueued = 0;
  #replyInFlight = 0;
  /**
   * When a write last completed (or the first one went out after none were waiting); unset while
   * none is in flight (a time is no small integer: an idle writer keeps no number box for it).
   */
  #progressAt: number | undefined;
  /** {@linkcode SCHEDULED} and {@linkcode FAILED}, in one field. */
  #bits = 0;
  /** Made when someone waits. */
  #drainWaiters: Array<() => void> | undefined;
  #error: unknown = undefined;
  readonly #owner: WriterOwner;

  /** @param owner Told of failures and stalls; its `o` holds the mark and the stall timeout. */
  constructor(writer: ChunkWriter, owner: WriterOwner) {
    this.#writer = writer;
    this.#owner = owner;
  }

  get #highWater(): number {
    return this.#owner.o.writeBufferBytes;
  }

  /** How long writes may make no progress, in ms; 0: forever. */
  get #stallMs(): number {
    const ms = this.#owner.o.writeStallTimeoutMs;
    return ms > 0 ? ms : 0;
  }

  /** Payloads of this many bytes or more are written without copying. */
  get #zeroCopy(): number {
    return this.#writer.zeroCopyBytes ?? ZERO_COPY_BYTES;
  }

  /** Whether a write failed, or the writer closed or was aborted. */
  get #failed(): boolean {
    return (this.#bits & FAILED) !== 0;
  }

  /** Bytes of replies (results, errors, retries) queued or handed over and not yet written. */
  get replyBacklog(): number {
    return this.#replyQueued + this.#replyInFlight;
  }

  /** Bytes queued or handed to the transport and not yet written. */
  get backlog(): number {
    return this.#queuedBytes + this.#inFlight;
  }

  /**
   * Whether the backlog is below the high-water mark (or the writer failed or closed: sends are
   * dropped then, so nobody must wait). Producers check it again after every wait, right before
   * they send: of those woken together only the first goes past the mark.
   */
  get writable(): boolean {
    return this.#failed || this.#queuedBytes + this.#inFlight < this.#highWater;
  }

  /** Queues `msg`; it is written with the others queued in the same microtask. */
  send(msg: Message): void {
    this.#enqueue(msg, encodedMessageLength(msg));
  }

  /**
   * Queues a frame encoded already (the same bytes may go to many writers: they are copied into
   * the batch, or written as they are when large, and never modified).
   */
  sendFrame(frame: Uint8Array): void {
    this.#enqueue(frame, frame.length);
  }

  #enqueue(msg: Queued, n: number): void {
    if (this.#failed) return;
    let queue = this.#queue;
    if (queue === undefined) {
      queue = this.#queue = this.#spare ?? [];
      this.#spare = undefined;
    }
    queue.push(msg, n);
    this.#queuedBytes += n;
    if (!(msg instanceof Uint8Array) && isReply(msg.type)) this.#replyQueued += n;
    const min = this.#zeroCopy;
    this.#copyBytes += n >= min ? n - zeroCopyPayload(msg, n, min).length : n;
    if (!(this.#bits & SCHEDULED)) {
      this.#bits |= SCHEDULED;
      if (scheduled === undefined) {
        scheduled = spareList ?? [];
        spareList = undefined;
        queueMicrotask(flushScheduled);
      }
      scheduled.push(this);
    }
  }

  /** Queues raw bytes (the handshake). */
  sendRaw(bytes: Uint8Array): void {
    if (this.#failed) return;
    this.#flush();
    this.#write(bytes);
  }

  /** Resolves once the backlog is below the high-water mark (at once if it is). */
  drained(): Promise<void> {
    if (this.writable || this.#failed) return Promise.resolve();
    return new Promise((resolve) => (this.#drainWaiters ??= []).push(resolve));
  }

  /**
   * Writes everything queued now: the frames are encoded back to back into one buffer (of at
   * most {@linkcode BATCH_BYTES}) and handed over as one chunk; only payloads of
   * {@linkcode ZERO_COPY_BYTES} (or the writer's `zeroCopyBytes`) or more are handed over as
   * chunks of their own.
   */
  #flush(): void {
    this.#bits &= ~SCHEDULED;
    const queue = this.#queue;
    if (queue === undefined || this.#failed) return;
    const count = queue.length;
    /** Bytes still to copy, to size the next buffer. */
    let left = this.#copyBytes;
    this.#queue = undefined;
    this.#queuedBytes = 0;
    this.#copyBytes = 0;
    this.#replyQueued = 0;
    const min = this.#zeroCopy;
    let buf = new Uint8Array(Math.min(left, BATCH_BYTES));
    let pos = 0;
    /** The reply bytes of buf[0, pos). */
    let replies = 0;
    for (let i = 0; i < count; i += 2) {
      const msg = queue[i] as Queued;
      const n = queue[i + 1] as number;
      const payload = zeroCopyPayload(msg, n, min);
      const copied = n - payload.length;
      const reply = !(msg instanceof Uint8Array) && isReply(msg.type);
      if (pos + copied > buf.length) {
        if (pos > 0) this.#write(buf.subarray(0, pos), replies);
        buf = new Uint8Array(Math.max(copied, Math.min(left, BATCH_BYTES)));
        pos = replies = 0;
      }
      left -= copied;
      if (reply) replies += copied;
      if (payload.length === 0) {
        if (msg instanceof Uint8Array) {
          buf.set(msg, pos);
          pos += n;
        } else pos += encodeMessageInto(msg, buf, pos);
        continue;
      }
      // A large payload: its header ends the batch so far, the payload follows as it is.
      if (!(msg instanceof Uint8Array)) pos += encodeHeaderInto(msg, buf, pos);
      if (pos > 0) this.#write(buf.subarray(0, pos), replies);
      this.#write(payload, reply ? payload.length : 0);
      buf = buf.subarray(pos);
      pos = replies = 0;
    }
    if (pos > 0) this.#write(buf.subarray(0, pos), replies);
    queue.length = 0;
    this.#spare = queue;
  }

  /**
   * Flushes the writers of `list`, scheduled in one microtask (see `flushScheduled`). One that
   * throws does not keep the others from flushing: its error is thrown after them, as from a
   * microtask of its own.
   */
  static flushAll(list: FrameWriter[]): void {
    let failure: { error: unknown } | undefined;
    for (const w of list) {
      try {
        w.#flush();
      } catch (error) {
        failure ??= { error };
      }
    }
    if (failure !== undefined) throw failure.error;
  }

  #write(chunk: Uint8Array, replies = 0): void {
    const written = this.#writer.write(chunk);
    if (written === undefined) {
      // Taken at once: nothing in flight, no stall to watch.
      if (this.#drainWaiters !== undefined && this.writable) this.#wake();
      return;
    }
    const n = chunk.length;
    if (this.#inFlight === 0 && this.#stallMs > 0) {
      this.#progressAt = Date.now();
      StallWatch.add(this.#stallMs, this);
    }
    this.#inFlight += n;
    this.#replyInFlight += replies;
    written.then(() => this.#written(n, replies), (error) => this.#fail(error));
  }

  /** A chunk of `n` bytes, `replies` of them replies, was written. */
  #written(n: number, replies: number): void {
    if (this.#failed) return; // dropped or closing: the counts were zeroed then
    this.#inFlight -= n;
    this.#replyInFlight -= replies;
    if (this.#stallMs > 0) {
      if (this.#inFlight === 0) {
        StallWatch.remove(this.#stallMs, this);
        this.#progressAt = undefined;
      } else this.#progressAt = Date.now();
    }
    if (this.#drainWaiters !== undefined && this.writable) this.#wake();
  }

  /** Wakes those waiting for the backlog to go below the high-water mark. */
  #wake(): void {
    const waiters = this.#drainWaiters!;
    this.#drainWaiters = undefined;
    for (const w of waiters) w();
  }

  /** (The stall watch.) A stall if bytes wait and nothing was written for the timeout. */
  checkStall(now: number): void {
    const ms = this.#stallMs;
    if (ms === 0 || this.#failed || this.#inFlight === 0) return;
    if (now - (this.#progressAt ?? now) >= ms) {
      StallWatch.remove(ms, this);
      this.#owner.writeStalled();
    }
  }

  /** Forgets everything queued and stops watching for stalls. */
  #drop(): void {
    this.#queue = this.#spare = undefined;
    this.#queuedBytes = 0;
    this.#copyBytes = 0;
    this.#replyQueued = 0;
    this.#forget();
  }

  /** Stops counting what the transport still holds (it is the transport's from now on). */
  #forget(): void {
    this.#inFlight = 0;
    this.#replyInFlight = 0;
    if (this.#stallMs > 0) StallWatch.remove(this.#stallMs, this);
  }

  #fail(error: unknown): void {
    if (this.#failed) return;
    this.#bits |= FAILED;
    this.#error = error;
    this.#drop();
    if (this.#drainWaiters !== undefined) this.#wake();
    this.#owner.writeFailed(error);
  }

  /** The write error, if a write failed. */
  get error(): unknown {
    return this.#error;
  }

  /** Flushes what is queued, then closes the writable. */
  async close(): Promise<void> {
    this.#flush();
    if (this.#failed) return;
    this.#bits |= FAILED;
    this.#forget();
    try {
      await this.#writer.close();
    } catch {
      // The transport is gone: nothing left to flush to.
    }
  }

  /**
   * Flushes and closes, but aborts with `reason` if that takes longer than `graceMs` (a
   * remote that does not read must not hold the close up forever).
   */
  async closeWithin(graceMs: number, reason: unknown): Promise<void> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const flushed = await Promise.race([
      this.close().then(() => true),
      new Promise<boolean>((resolve) => timer = setTimeout(() => resolve(false), graceMs)),
    ]);
    clearTimeout(timer);
    if (!flushed) this.abort(reason);
  }

  /** Drops what is queued and aborts the writable. */
  abort(reason?: unknown): void {
    this.#bits |= FAILED;
    this.#drop();
    this.#writer.abort(reason).catch(() => {});
    if (this.#drainWaiters !== undefined) this.#wake();
  }
}
