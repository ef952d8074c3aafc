// This module is browser compatible.
/**
 * The direct reader and writer of a {@linkcode SocketDuplex}: what a Peer reads and writes when
 * no Web stream sits between it and the socket (see `src/peer/_direct.ts`). They keep the
 * streams' semantics that the duplex relies on: the reader queues what arrives while nobody
 * reads, asks for more while it holds less than its high-water mark, and ends cleanly (what was
 * queued stays readable) or with an error (what was queued is dropped); the writer hands chunks
 * to the socket one at a time, in order, and fails every later write once one failed.
 * Internal: not part of the public API.
 *
 * @module
 */

import type { ChunkReader, ChunkWriter, ReadListener } from "../peer/_direct.ts";

/** The end of the input, as a read result. */
const DONE: ReadableStreamReadResult<Uint8Array> = { done: true, value: undefined };

/** What a duplex's read side is fed through: a stream's controller has this shape too. */
export interface ReadSide {
  enqueue(chunk: Uint8Array): void;
  close(): void;
  error(error: unknown): void;
  /**
   * The high-water mark less what waits unread (bytes, or chunks for a pull source); for a
   * direct reader, not counting what was handed over to it while it was parked.
   */
  readonly desiredSize: number | null;
}

/** The keys of a {@linkcode ReadSource}'s and a {@linkcode WriteSink}'s methods (symbols: the
 * duplex has them without showing them on the transport it is). */
export const PULL: unique symbol = Symbol("pull");
export const CANCEL: unique symbol = Symbol("cancel");
export const WRITE: unique symbol = Symbol("write");
export const END: unique symbol = Symbol("end");
export const ABORT: unique symbol = Symbol("abort");

/** How a {@linkcode DirectReader} asks its source for more, and tells it it was cancelled. */
export interface ReadSource {
  /**
   * Wants more: a push source resumes (`false`: done at once), a pull source starts a read and
   * returns `true`, and calls the reader's `pulled()` once the read settled (after it enqueued).
   */
  [PULL](): boolean;
  /** The reader was cancelled. */
  [CANCEL](): void;
}

/** How many bytes a push source may queue unread before it is paused. */
export const READ_HIGH_WATER_MARK = 64 * 1024;

/** A `read` of the direct reader that waits for a chunk. */
interface PendingRead {
  resolve(result: ReadableStreamReadResult<Uint8Array>): void;
  reject(error: unknown): void;
}

/** The direct reader's state, in the low bits of its `#bits`. */
const STATE = 3;
const OPEN = 0;
/** Ended cleanly or cancelled. */
const ENDED = 1;
const FAILED = 2;
/** The mark counts bytes (a push source), else chunks (a pull source). */
const COUNT_BYTES = 4;
/** A chunk came for a parked reader that has not taken one since (see `#handed`). */
const WAKING = 8;
/** A pull source is reading. */
const PULLING = 16;

/**
 * The direct reader: a queue, at most one waiting `read` or parked listener (what a Peer uses:
 * it takes what is queued and parks when nothing is), and pulls while below its mark.
 */
export class DirectReader implements ReadSide, ChunkReader {
  readonly #source: ReadSource;
  /** The state (see {@linkcode STATE}) and the flags, in one field: an idle reader is small. */
  #bits: number;
  #queue: Uint8Array[] | undefined;
  #head = 0;
  #queued = 0;
  /**
   * Of #queued, what came for a parked reader, from the chunk that woke it until it takes the
   * first: handed over as to a pending read, so not counted against the mark (a message of the
   * mark's size would otherwise pause the source each time, only for the reader to take it in
   * the next microtask). At most what the source pushes in one task.
   */
  #handed = 0;
  #error: unknown;
  /** A `read` waiting for a chunk. */
  #pending: PendingRead | undefined;
  /** Parked: told once there is something to take (instead of a pending read). */
  #listener: ReadListener | undefined;

  /**
   * `pull`: the source reads when asked (its mark is one chunk), else it pushes (its mark is
   * {@linkcode READ_HIGH_WATER_MARK} bytes).
   */
  constructor(source: ReadSource, pull: boolean) {
    this.#source = source;
    this.#bits = pull ? 0 : COUNT_BYTES;
  }

  /** Chunks (a pull source) or bytes (a push source) queued before `pull` is no longer called. */
  get #highWater(): number {
    return this.#bits & COUNT_BYTES ? READ_HIGH_WATER_MARK : 1;
  }

  /** Starts asking the source for bytes. */
  start(): void {
    this.#pullIfWanted();
  }

  /** (The source.) The read that `[PULL]` started has settled: pull again if still wanted. */
  pulled(): void {
    this.#bits &= ~PULLING;
    this.#pullIfWanted();
  }

  get desiredSize(): number | null {
    return (this.#bits & STATE) === OPEN ? this.#highWater - this.#queued + this.#handed : 0;
  }

  enqueue(chunk: Uint8Array): void {
    if ((this.#bits & STATE) !== OPEN) return;
    const pending = this.#pending;
    if (pending !== undefined) {
      this.#pending = undefined;
      pending.resolve({ done: false, value: chunk });
      return;
    }
    (this.#queue ??= []).push(chunk);
    const n = this.#bits & COUNT_BYTES ? chunk.byteLength : 1;
    this.#queued += n;
    if (this.#listener !== undefined || this.#bits & WAKING) {
      this.#handed += n;
      this.#bits |= WAKING;
    }
    this.#notify();
  }

  close(): void {
    if ((this.#bits & STATE) !== OPEN) return;
    this.#bits |= ENDED;
    const pending = this.#pending;
    this.#pending = undefined;
    pending?.resolve(DONE);
    this.#notify();
  }

  error(error: unknown): void {
    if ((this.#bits & STATE) !== OPEN) return;
    this.#bits |= FAILED;
    this.#error = error;
    this.#drop();
    const pending = this.#pending;
    this.#pending = undefined;
    pending?.reject(error);
    this.#notify();
  }

  take(): Uint8Array | null | undefined {
    const queue = this.#queue;
    if (queue !== undefined && this.#head < queue.length) return this.#dequeue(queue);
    if ((this.#bits & STATE) === ENDED) return null;
    if ((this.#bits & STATE) === FAILED) throw this.#error;
    return undefined;
  }

  park(listener: ReadListener): void {
    if (this.#pending !== undefined || this.#listener !== undefined) {
      throw new TypeError("The direct reader has a read pending already");
    }
    if (
      (this.#bits & STATE) !== OPEN ||
      (this.#queue !== undefined && this.#head < this.#queue.length)
    ) {
      listener.chunkArrived();
      return;
    }
    this.#listener = listener;
    // Nothing is queued: a parked (idle) reader keeps no empty queue either.
    this.#queue = undefined;
    this.#pullIfWanted();
  }

  #notify(): void {
    const listener = this.#listener;
    if (listener === undefined) return;
    this.#listener = undefined;
    listener.chunkArrived();
  }

  #dequeue(queue: Uint8Array[]): Uint8Array {
    const value = queue[this.#head];
    if (++this.#head === queue.length) {
      queue.length = 0;
      this.#head = 0;
    } else {
      queue[this.#head - 1] = EMPTY;
    }
    const n = this.#bits & COUNT_BYTES ? value.byteLength : 1;
    this.#queued -= n;
    this.#handed = Math.max(0, this.#handed - n);
    this.#bits &= ~WAKING;
    this.#pullIfWanted();
    return value;
  }

  read(): Promise<ReadableStreamReadResult<Uint8Array>> {
    const queue = this.#queue;
    if (queue !== undefined && this.#head < queue.length) {
      return Promise.resolve({ done: false, value: this.#dequeue(queue) });
    }
    if ((this.#bits & STATE) === ENDED) return Promise.resolve(DONE);
    if ((this.#bits & STATE) === FAILED) return Promise.reject(this.#error);
    if (this.#pending !== undefined || this.#listener !== undefined) {
      return Promise.reject(new TypeError("The direct reader has a read pending already"));
    }
    const read = new Promise<ReadableStreamReadResult<Uint8Array>>((resolve, reject) => {
      this.#pending = { resolve, reject };
    });
    this.#pullIfWanted();
    return read;
  }

  cancel(): Promise<void> {
    if ((this.#bits & STATE) === OPEN) {
      this.#bits |= ENDED;
      this.#drop();
      const pending = this.#pending;
      this.#pending = undefined;
      pending?.resolve(DONE);
      this.#notify();
      this.#source[CANCEL]();
    }
    return Promise.resolve();
  }

  #drop(): void {
    this.#queue = undefined;
    this.#head = this.#queued = this.#handed = 0;
    this.#bits &= ~WAKING;
  }

  #pullIfWanted(): void {
    if (
      this.#bits & (PULLING | STATE) || this.#queued - this.#handed >= this.#highWater
    ) {
      return;
    }
    this.#bits |= PULLING;
    if (!this.#source[PULL]()) this.#bits &= ~PULLING;
  }
}

const EMPTY = new Uint8Array(0);

/** A direct writer's error while it has none. */
const WRITING: unique symbol = Symbol("writing");

/** What a {@linkcode DirectWriter} writes to: the duplex's write side. */
export interface WriteSink {
  /** Writes one chunk (throws or rejects if it cannot); `undefined`: taken at once. */
  [WRITE](chunk: Uint8Array): void | Promise<void>;
  /** Ends the output after what was written. */
  [END](): Promise<void>;
  /** The writer was aborted: tear down. */
  [ABORT](): void;
}

/** The direct writer: one chunk at the socket at a time, the others chained behind it. */
export class DirectWriter implements ChunkWriter {
  readonly zeroCopyBytes: number | undefined;
  readonly #sink: WriteSink;
  /** The last write still in flight, and how many are. */
  #tail: Promise<void> | undefined;
  #inFlight = 0;
  /**
   * Set once a write failed, the writer closed or was aborted, or the transport tore down
   * ({@linkcode WRITING} until then).
   */
  #error: unknown = WRITING;
  /** `zeroCopyBytes`: the transport's hint (see `ChunkWriter.zeroCopyBytes`). */
  constructor(sink: WriteSink, zeroCopyBytes?: number) {
    this.#sink = sink;
    this.zeroCopyBytes = zeroCopyBytes;
  }

  /** Fails the writer: later writes, and those waiting, reject with `error`. */
  error(error: unknown): void {
    if (this.#error !== WRITING) return;
    this.#error = error;
  }

  write(chunk: Uint8Array): Promise<void> | void {
    if (this.#error !== WRITING) return Promise.reject(this.#error);
    if (this.#tail !== undefined) {
      return this.#track(this.#tail.then(() => this.#send(chunk)));
    }
    let written: void | Promise<void>;
    try {
      written = this.#send(chunk);
    } catch (error) {
      return Promise.reject(error);
    }
    return written === undefined ? undefined : this.#track(written);
  }

  async close(): Promise<void> {
    if (this.#error !== WRITING) throw this.#error;
    if (this.#tail !== undefined) await this.#tail;
    this.error(new TypeError("The writer was closed"));
    await this.#sink[END]();
  }

  abort(reason?: unknown): Promise<void> {
    this.error(reason ?? new TypeError("The writer was aborted"));
    this.#sink[ABORT]();
    return Promise.resolve();
  }

  #send(chunk: Uint8Array): void | Promise<void> {
    if (this.#error !== WRITING) throw this.#error;
    try {
      return this.#sink[WRITE](chunk);
    } catch (error) {
      this.error(error);
      throw error;
    }
  }

  #track(write: Promise<void>): Promise<void> {
    this.#inFlight++;
    const tracked = write.then(() => {
      if (--this.#inFlight === 0) this.#tail = undefined;
    }, (error) => {
      if (--this.#inFlight === 0) this.#tail = undefined;
      this.error(error);
      throw error;
    });
    this.#tail = tracked;
    return tracked;
  }
}

/** A readable that is locked already: a peer reads the transport directly. */
export function lockedReadable(): ReadableStream<Uint8Array> {
  const stream = new ReadableStream<Uint8Array>();
  stream.getReader();
  return stream;
}

/** A writable that is locked already: a peer writes the transport directly. */
export function lockedWritable(): WritableStream<Uint8Array> {
  const stream = new WritableStream<Uint8Array>();
  stream.getWriter();
  return stream;
}
