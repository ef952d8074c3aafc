// This module is browser compatible.

/**
 * The one socket state machine behind every socket transport (TCP and TLS on Deno, Bun and Node,
 * and the WebSocket connection): a {@linkcode Transport} that drives a small per-runtime
 * {@linkcode SocketDriver}. Internal: not part of the public API.
 *
 * Two ways in. Its Web streams (`readable`, `writable`) are made when first used; a Peer instead
 * takes its direct reader and writer (`src/peer/_direct.ts`, `./_duplex_direct.ts`), which keep
 * the streams' semantics at a fraction of their memory, and the streams are locked from then on.
 * Nothing is read before either asks: a push source's chunks that come earlier (one that cannot
 * pause) are kept for whichever comes.
 *
 * Reading. A pull source (Deno: `driver.read`) is read when the reader wants bytes. The first
 * read is 64 B (a handshake's size), and so is every read after one of a few bytes (a heartbeat:
 * what an idle connection gets), so that an idle connection's pending read holds little; a read
 * that fills it goes on at 4 KiB, doubling up to 256 KiB while reads fill their buffer. A large
 * read is handed over as a view and the next read fills the rest of that buffer, a short one is
 * copied out so that small chunks do not pin a large buffer. A push source (Node, Bun, WebSockets) hands its chunks
 * to {@linkcode SocketDuplex.push}; it starts paused, is resumed when the reader wants bytes
 * and paused again once 64 KiB wait unread. A source that cannot pause may be bounded instead
 * (`maxQueuedBytes`).
 *
 * Writing. Each chunk goes to `driver.write`, whose promise (if any) is the backpressure that
 * `writer.ready` reflects. Closing the `writable` calls `driver.end` (FIN, TLS close_notify, or a
 * WebSocket close once the buffer drained); the other direction stays open until it ends too.
 *
 * Teardown. However it starts (`close()`, aborting the `writable`, the remote closing, an error)
 * it runs once, in this order:
 *
 * 1. the transport is marked closed, so nothing more is written, and the error (if any) kept;
 * 2. the `readable` ends: closed, or errored with the error (what was queued stays readable only
 *    on a clean end);
 * 3. the `writable` errors with the error, or a {@linkcode ConnectionClosedError}, unless it
 *    already finished (closed or aborted);
 * 4. `driver.destroy()` releases the socket and settles a write or `end` still waiting on it:
 *    it rejects with the transport's error (a `ConnectionClosedError` when there is none).
 *
 * Both directions ending on their own (the `readable` at its end or cancelled, the `writable`
 * closed or aborted) tear down the same way, without an error.
 *
 * @module
 */

import { ConnectionClosedError } from "../peer/errors.ts";
import { type DirectIO, type DirectTransport, openDirect } from "../peer/_direct.ts";
import type { Transport } from "../peer/transport.ts";
import {
  ABORT,
  CANCEL,
  DirectReader,
  DirectWriter,
  END,
  lockedReadable,
  lockedWritable,
  PULL,
  READ_HIGH_WATER_MARK,
  type ReadSide,
  type ReadSource,
  WRITE,
  type WriteSink,
} from "./_duplex_direct.ts";
import type { DuplexOptions, SocketDriver } from "./_socket_driver.ts";

export { type DuplexOptions, type Pending, pending, type SocketDriver } from "./_socket_driver.ts";

/** Bytes a push source's readable queues before the source is paused. */
export { READ_HIGH_WATER_MARK };

/** A pull source's smallest full read size (after a read that filled the idle one). */
const MIN_READ = 4 * 1024;
/** The first read's size, and the next one's after a tiny read (an idle connection's, most likely). */
const IDLE_READ = 64;
/** Reads shorter than this are tiny: the next one is {@linkcode IDLE_READ}. */
const TINY_READ = 64;
/** The largest read size, reached by doubling while reads fill their buffer. */
const MAX_READ = 256 * 1024;
/** Reads shorter than this are copied out of the read buffer, which is then reused. */
const COPY_BELOW = 4 * 1024;
/** The options of a duplex made without any (one object for all of them). */
const NO_OPTIONS: DuplexOptions = Object.freeze({});

/** The {@linkcode Transport} over one {@linkcode SocketDriver}; see the module docs. */
export class SocketDuplex implements Transport, DirectTransport, ReadSource, WriteSink {
  /** What it was made with (the addresses given, the bound on what is queued). */
  readonly #options: DuplexOptions;
  #request: Request | (() => Request) | undefined;
  #driver: SocketDriver;
  // Made when first wanted: the streams, or the direct reader and writer (not both).
  #readable: ReadableStream<Uint8Array> | undefined;
  #writable: WritableStream<Uint8Array> | undefined;
  #readSide: ReadSide | undefined;
  #writeSide: { error(error: unknown): void } | undefined;
  /** A push source's chunks that came before there was a read side. */
  #early: Uint8Array[] | undefined;
  #earlyBytes = 0;
  /** The duplex's booleans, as bits (see the constants below the class): one field, not eight. */
  #flags = IDLE;
  #error: Error | undefined;
  /** How the read side ended before it existed: cleanly, or with this error. */
  #readEnd: { error: Error | undefined } | undefined;
  /** The error the write side failed with before it existed. */
  #writeEnd: Error | undefined;
  // Pull sources: where the next read goes (a fresh buffer, or the unused tail of the last one).
  #buffer: Uint8Array | undefined;
  #readSize = MIN_READ;

  constructor(driver: SocketDriver, options: DuplexOptions = NO_OPTIONS) {
    this.#driver = driver;
    this.#options = options;
    this.#request = options.request;
    if (options.readAfterCancel) this.#set(READ_AFTER_CANCEL);
    if (driver.read === undefined && driver.pause !== undefined && driver.resume !== undefined) {
      this.#set(PAUSABLE);
    }
    if (this.#is(PAUSABLE) && !options.readEarly) {
      // Nothing flows until the reader asks for it.
      this.#set(PAUSED);
      driver.pause!();
    }
  }

  /** The remote end (`HOST:PORT`), if known. */
  get remoteAddr(): string | undefined {
    return this.#options.remoteAddr ?? this.#driver.address?.(false);
  }

  /** The local end (`HOST:PORT`), if known. */
  get localAddr(): string | undefined {
    return this.#options.localAddr ?? this.#driver.address?.(true);
  }

  /** The upgrade request of a WebSocket (made when first asked for), else `undefined`. */
  get request(): Request | undefined {
    const request = this.#request;
    return typeof request === "function" ? (this.#request = request()) : request;
  }

  /** Bytes from the remote side (made when first used; locked if a peer reads directly). */
  get readable(): ReadableStream<Uint8Array> {
    if (this.#readable === undefined) {
      this.#readable = this.#is(DIRECT) ? lockedReadable() : this.#makeReadable();
    }
    return this.#readable;
  }

  /** Bytes to the remote side (made when first used; locked if a peer writes directly). */
  get writable(): WritableStream<Uint8Array> {
    if (this.#writable === undefined) {
      this.#writable = this.#is(DIRECT) ? lockedWritable() : this.#makeWritable();
    }
    return this.#writable;
  }

  /** The direct reader and writer for the peer, unless a stream was made already. */
  [openDirect](): DirectIO | undefined {
    if (this.#is(DIRECT) || this.#readable !== undefined) return undefined;
    if (this.#writable !== undefined) return undefined;
    const pull = this.#driver.read !== undefined;
    // The reader's source and the writer's sink are this duplex (its symbol-keyed methods).
    const reader = new DirectReader(this, pull);
    const writer = new DirectWriter(this, this.#driver.zeroCopyBytes);
    this.#set(DIRECT);
    this.#attachRead(reader);
    this.#attachWrite(writer);
    reader.start();
    return { reader, writer };
  }

  /** (The direct reader's source.) It wants bytes. */
  [PULL](): boolean {
    if (this.#driver.read === undefined) {
      this.#resume();
      return false;
    }
    // The read tells the reader when it settled: no promise handed back, no callback kept.
    // (Only the direct reader calls this, and it is the read side then.)
    this.#read(this.#readSide as DirectReader);
    return true;
  }

  /** (The direct reader's source.) It was cancelled. */
  [CANCEL](): void {
    this.#cancelRead();
  }

  /** (The direct writer's sink.) One chunk. */
  [WRITE](chunk: Uint8Array): void | Promise<void> {
    return this.#write(chunk);
  }

  /** (The direct writer's sink.) The end of the output. */
  [END](): Promise<void> {
    return this.#end();
  }

  /** (The direct writer's sink.) It was aborted. */
  [ABORT](): void {
    this.#set(WRITE_DONE);
    this.close();
  }

  /** Whether the transport was torn down. */
  get closed(): boolean {
    return this.#is(CLOSED);
  }

  /** The error it was torn down with, if any. */
  get error(): Error | undefined {
    return this.#error;
  }

  /** A push source's chunk arrived; it must be a fresh buffer the source never reuses. */
  push(chunk: Uint8Array): void {
    if (this.#is(READ_DONE)) return;
    const side = this.#readSide;
    const max = this.#options.maxQueuedBytes;
    if (side === undefined) {
      // Nobody reads yet (a source that cannot pause): keep it for the read side.
      (this.#early ??= []).push(chunk);
      this.#earlyBytes += chunk.byteLength;
      if (max !== undefined && this.#earlyBytes > max) {
        this.#options.onOverflow?.();
      } else if (
        this.#earlyBytes >= READ_HIGH_WATER_MARK && this.#is(PAUSABLE) && !this.#is(PAUSED)
      ) {
        this.#set(PAUSED);
        this.#driver.pause!();
      }
      return;
    }
    side.enqueue(chunk);
    const desired = side.desiredSize ?? 0;
    if (max !== undefined && READ_HIGH_WATER_MARK - desired > max) {
      this.#options.onOverflow?.();
    } else if (desired <= 0 && this.#is(PAUSABLE) && !this.#is(PAUSED)) {
      this.#set(PAUSED);
      this.#driver.pause!();
    }
  }

  /** A push source reached the end of its stream (the remote half-closed). */
  pushEnd(): void {
    if (this.#is(READ_DONE)) return;
    this.#set(READ_DONE);
    if (this.#readSide !== undefined) this.#readSide.close();
    else this.#readEnd = { error: undefined };
    this.#releaseIfDone();
  }

  /**
   * The socket closed or failed: tears down with `error` (none: a clean end) and destroys the
   * driver. The writable errors with `writeError` if given, else `error`, else a
   * `ConnectionClosedError`.
   */
  finish(error?: Error, writeError?: Error): void {
    if (this.#is(CLOSED)) return;
    this.#teardown(error, writeError);
    this.#driver.destroy();
  }

  /** Tears the connection down at once, in both directions: see the module docs. */
  close(): void {
    this.finish();
  }

  #makeReadable(): ReadableStream<Uint8Array> {
    const pull = this.#driver.read !== undefined;
    return new ReadableStream<Uint8Array>(
      {
        start: (controller) => this.#attachRead(controller),
        pull: pull ? () => this.#read() : () => this.#resume(),
        cancel: () => this.#cancelRead(),
      },
      pull ? undefined : new ByteLengthQueuingStrategy({ highWaterMark: READ_HIGH_WATER_MARK }),
    );
  }

  #makeWritable(): WritableStream<Uint8Array> {
    return new WritableStream<Uint8Array>({
      start: (controller) => {
        this.#attachWrite(controller);
        // An abort waits for the write in flight; tearing down ends that write. (Erroring the
        // controller here would make `abort()` reject.)
        controller.signal.addEventListener("abort", () => {
          this.#set(WRITE_DONE);
          this.close();
        });
      },
      write: (chunk) => this.#write(chunk),
      close: () => this.#end(),
      abort: () => this.close(),
    });
  }

  /** The read side exists: what came before it (chunks, the end) is handed over. */
  #attachRead(side: ReadSide): void {
    this.#readSide = side;
    const early = this.#early;
    if (early !== undefined) {
      this.#early = undefined;
      this.#earlyBytes = 0;
      for (const chunk of early) side.enqueue(chunk);
    }
    const end = this.#readEnd;
    if (end !== undefined) {
      if (end.error !== undefined) side.error(end.error);
      else side.close();
    }
  }

  /** The write side exists: a teardown before it fails it at once. */
  #attachWrite(side: { error(error: unknown): void }): void {
    this.#writeSide = side;
    if (this.#writeEnd !== undefined) side.error(this.#writeEnd);
  }

  #write(chunk: Uint8Array): void | Promise<void> {
    if (this.#is(CLOSED)) throw this.#closedError();
    try {
      // Handed back as it is: no promise of our own per write. The driver settles it.
      return this.#driver.write(chunk);
    } catch (error) {
      throw this.#writeFailed(error);
    }
  }

  async #end(): Promise<void> {
    if (this.#is(CLOSED)) throw this.#closedError();
    try {
      await this.#driver.end();
    } catch (error) {
      throw this.#writeFailed(error);
    }
    this.#set(WRITE_DONE);
    this.#releaseIfDone();
  }

  #cancelRead(): void {
    this.#set(READ_DONE);
    if (this.#is(READ_AFTER_CANCEL)) {
      this.#resume();
    } else if (this.#is(PAUSABLE) && !this.#is(PAUSED)) {
      this.#set(PAUSED);
      this.#driver.pause!();
    }
    this.#releaseIfDone();
  }

  #teardown(error: Error | undefined, writeError: Error | undefined): void {
    this.#set(CLOSED);
    this.#error = error;
    // In the order the module docs give.
    if (!this.#is(READ_DONE)) {
      this.#set(READ_DONE);
      const side = this.#readSide;
      if (side === undefined) this.#readEnd = { error };
      else if (error) side.error(error);
      else side.close();
    }
    if (!this.#is(WRITE_DONE)) {
      this.#set(WRITE_DONE);
      const failure = writeError ?? this.#closedError();
      if (this.#writeSide === undefined) this.#writeEnd = failure;
      else this.#writeSide.error(failure);
    }
  }

  #closedError(): Error {
    return this.#error ?? new ConnectionClosedError("The connection was closed");
  }

  /** The error a write or end that threw rejects with; the writable is done from then on. */
  #writeFailed(error: unknown): unknown {
    if (this.#is(CLOSED)) return this.#closedError();
    this.#set(WRITE_DONE);
    this.#releaseIfDone();
    return error;
  }

  #releaseIfDone(): void {
    if (this.#is(READ_DONE) && this.#is(WRITE_DONE)) this.close();
  }

  #resume(): void {
    if (!this.#is(PAUSED) || (this.#is(READ_DONE) && !this.#is(READ_AFTER_CANCEL))) return;
    this.#clear(PAUSED);
    this.#driver.resume!();
  }

  #is(bit: number): boolean {
    return (this.#flags & bit) !== 0;
  }

  #set(bit: number): void {
    this.#flags |= bit;
  }

  #clear(bit: number): void {
    this.#flags &= ~bit;
  }

  /**
   * One read of a pull source into the readable. `reader`: the direct reader that asked, told
   * when the read settled (a failure that is not the socket's then tears the duplex down; the
   * stream's `pull` gets it as a rejection instead).
   */
  async #read(reader?: DirectReader): Promise<void> {
    try {
      let buffer = this.#buffer;
      if (this.#is(IDLE)) {
        if (buffer === undefined || buffer.length > IDLE_READ) buffer = new Uint8Array(IDLE_READ);
      } else if (buffer === undefined || buffer.length < this.#readSize >> 1) {
        buffer = new Uint8Array(this.#readSize);
      }
      this.#buffer = undefined;
      let n: number | null;
      try {
        n = await this.#driver.read!(buffer);
      } catch (error) {
        // After a teardown the read fails because the socket is gone: nothing to report.
        if (!this.#is(READ_DONE)) {
          this.finish(error instanceof Error ? error : new Error(String(error)));
        }
        return;
      }
      if (this.#is(READ_DONE)) return;
      if (n === null) {
        this.pushEnd();
        return;
      }
      // Read more at once while reads fill their buffer; less once they stay small.
      const idleRead = this.#is(IDLE);
      if (n < TINY_READ) this.#set(IDLE);
      else this.#clear(IDLE);
      if (!idleRead) {
        // (A read into the small buffer says nothing of the full size.)
        if (n === buffer.length) this.#readSize = Math.min(this.#readSize * 2, MAX_READ);
        else if (n < this.#readSize >> 3) this.#readSize = Math.max(this.#readSize >> 1, MIN_READ);
      }
      if (n < COPY_BELOW) {
        // A small chunk must not pin a large buffer: copy it out and read into the buffer again.
        this.#readSide!.enqueue(buffer.slice(0, n));
        this.#buffer = buffer;
      } else {
        // Handed over as a view; the next read fills the rest of the buffer, which is never
        // written twice, so chunks already handed over stay intact.
        this.#readSide!.enqueue(buffer.subarray(0, n));
        if (buffer.length - n >= MIN_READ) this.#buffer = buffer.subarray(n);
      }
    } catch (error) {
      if (reader === undefined) throw error;
      this.finish(error instanceof Error ? error : new Error(String(error)));
    } finally {
      reader?.pulled();
    }
  }
}

// SocketDuplex's flags.
/** The read side ended (cleanly, by cancel or with an error). */
const READ_DONE = 1;
/** The write side ended. */
const WRITE_DONE = 2;
/** The transport was torn down. */
const CLOSED = 4;
/** A push source that can pause and resume. */
const PAUSABLE = 8;
/** The push source is paused. */
const PAUSED = 16;
/** The source goes on reading after the readable was cancelled. */
const READ_AFTER_CANCEL = 32;
/** The last read was tiny, or there was none yet: the next one is {@linkcode IDLE_READ}. */
const IDLE = 64;
/** A peer reads and writes directly: the streams are locked. */
const DIRECT = 128;
