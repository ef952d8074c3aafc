// This module is browser compatible.
// The read loop: reads the transport, decodes, and routes each message to the part that owns
// it. It pauses while an inbound stream's consumer is behind, and while replies to the remote
// back up unread (a remote that sends but never reads cannot grow memory without bound); it
// gives the event loop a turn after every batch of frames (one busy connection cannot starve the
// others); and a frame that has started must complete within the frame deadline.

import {
  type Message,
  type MessageDecoder,
  MessageType,
  type PayloadMessage,
  type ProtocolError,
  type RequestMessage,
  type RetryMessage,
} from "../protocol/mod.ts";
import type { ChunkReader } from "./_direct.ts";
import type { InboundFlow } from "./_flow.ts";
import type { IncomingRequests } from "./_incoming.ts";
import type { Liveness } from "./_liveness.ts";
import type { OutgoingRequests } from "./_outgoing.ts";
import type { FrameWriter } from "./_writer.ts";
import { FrameDeadline } from "./_frame_deadline.ts";

/**
 * After this many bytes, or frames, read with no pause, the loop waits for a macrotask: the other
 * connections' I/O and timers run between batches.
 */
const YIELD_BYTES = 1024 * 1024;
const YIELD_FRAMES = 1024;

// deno-lint-ignore no-explicit-any
const setImmediateFn: ((f: () => void) => unknown) | undefined = (globalThis as any).setImmediate;

/** Resolves after a macrotask turn (setImmediate where there is one: no 1 ms clamp). */
function macrotask(): Promise<void> {
  return new Promise((resolve) => {
    if (setImmediateFn !== undefined) setImmediateFn(resolve);
    else setTimeout(resolve, 0);
  });
}

/** The read loop's settings (see `PeerOptions`). */
export interface ReadOptions {
  /** Stop reading while this many reply bytes wait to be written. */
  readonly readPauseBytes: number;
  /** The frame deadline, in ms; 0: none. */
  readonly frameTimeoutMs: number;
}

/** What the read loop feeds, and how it reports the end of the input. */
export interface ReaderHost {
  readonly outgoing: OutgoingRequests;
  readonly incoming: IncomingRequests;
  readonly liveness: Liveness;
  readonly flow: InboundFlow;
  readonly writer: FrameWriter;
  readonly life: {
    /** Whether the peer is closed (the loop stops). */
    readonly closed: boolean;
    /** The remote's handshake arrived. */
    handshaken(): void;
  };
  readonly closing: {
    /** The remote sent a ProtocolError frame. */
    remoteFailed(code: number): void;
    /** The input ended (`error` undefined), or failed: a ProtocolError or a transport error. */
    inputEnded(error?: unknown): void;
    /** A frame missed its deadline: send the ProtocolError and close. */
    protocolFailure(error: ProtocolError): void;
  };
}

/** Reads `reader` until it ends, the peer closes, or the input is invalid. */
export function readLoop(
  reader: ChunkReader,
  decoder: MessageDecoder,
  host: ReaderHost,
  options: ReadOptions,
): void {
  new ReadPump(reader, decoder, host, options).next();
}

/**
 * The read loop as callbacks rather than an async function: between reads an idle connection
 * keeps this object and its read's reaction, not a suspended frame with every local.
 */
class ReadPump {
  readonly #reader: ChunkReader;
  readonly #decoder: MessageDecoder;
  readonly #host: ReaderHost;
  readonly #pauseBytes: number;
  readonly #deadline: FrameDeadline;
  /** Frames completed by the chunk being decoded. */
  #completed = 0;
  /** Bytes and frames read since the loop last let the event loop turn. */
  #batchBytes = 0;
  #batchFrames = 0;
  readonly #route = (m: Message): void => this.#dispatch(m);
  readonly #chunk = (r: ReadableStreamReadResult<Uint8Array>): void => this.#read(r);
  readonly #failed = (e: unknown): void => this.#fail(e);
  readonly #resumed = (): void => {
    this.#host.liveness.read(); // we paused, the remote did not go quiet
    this.#deadline.resumed();
    this.#batchBytes = this.#batchFrames = 0;
    this.next();
  };
  readonly #next = (): void => this.next();

  constructor(reader: ChunkReader, decoder: MessageDecoder, host: ReaderHost, o: ReadOptions) {
    this.#reader = reader;
    this.#decoder = decoder;
    this.#host = host;
    this.#pauseBytes = o.readPauseBytes;
    this.#deadline = new FrameDeadline(o.frameTimeoutMs, (e) => host.closing.protocolFailure(e));
  }

  /** Reads the next chunk, unless the peer closed. */
  next(): void {
    if (this.#host.life.closed) {
      this.#deadline.stop();
      return;
    }
    this.#reader.read().then(this.#chunk, this.#failed);
  }

  #read({ done, value }: ReadableStreamReadResult<Uint8Array>): void {
    const { incoming, liveness, flow, writer, closing } = this.#host;
    try {
      if (done) {
        this.#decoder.end();
        closing.inputEnded();
        this.#deadline.stop();
        return;
      }
      liveness.read();
      this.#completed = 0;
      this.#decoder.push(value, this.#route);
      this.#deadline.read(this.#decoder.partial, this.#completed > 0);
      // Replies back up unread: the remote sends requests but does not read their results.
      // Our own requests and notifications do not count (a client waiting to write them must
      // still read the results that make room), so two peers cannot wait for each other.
      const backedUp = writer.replyBacklog >= this.#pauseBytes ||
        (!writer.writable && incoming.waitingReplies > 0);
      if (flow.pressured || backedUp) {
        this.#deadline.paused();
        this.#pause(flow.pressured, backedUp).then(this.#resumed, this.#failed);
        return;
      }
      this.#batchBytes += value.length;
      this.#batchFrames += this.#completed;
      if (this.#batchBytes >= YIELD_BYTES || this.#batchFrames >= YIELD_FRAMES) {
        this.#batchBytes = this.#batchFrames = 0;
        macrotask().then(this.#next);
        return;
      }
    } catch (e) {
      this.#fail(e);
      return;
    }
    this.next();
  }

  async #pause(pressured: boolean, backedUp: boolean): Promise<void> {
    if (pressured) await this.#host.flow.relieve();
    if (backedUp) await this.#host.writer.drained();
  }

  /** The input failed (a read, a ProtocolError from the decoder, a pause). */
  #fail(e: unknown): void {
    if (!this.#host.life.closed) this.#host.closing.inputEnded(e);
    this.#deadline.stop();
  }

  #dispatch(m: Message): void {
    const { outgoing, incoming, liveness, life, closing } = this.#host;
    // Closed by an earlier frame of the same chunk (a ProtocolError from the remote, say): the
    // rest of the chunk is not for a closed peer (no handler runs, nothing is recorded).
    if (life.closed) return;
    this.#completed++;
    switch (m.type) {
      case MessageType.SingleResult:
      case MessageType.StreamResult:
      case MessageType.ErrorResult:
      case MessageType.RetryResult:
        outgoing.onResult(m as PayloadMessage | RetryMessage);
        return;
      case MessageType.SingleRequest:
      case MessageType.StreamRequest:
        incoming.onRequest(m as RequestMessage);
        return;
      case MessageType.StreamRequestPart:
        incoming.onPart(m.id, m.payload);
        return;
      case MessageType.Notification:
        incoming.onNotification(m.name, m.payload);
        return;
      case MessageType.Heartbeat:
        liveness.heartbeat(m);
        return;
      case MessageType.ProtocolError:
        closing.remoteFailed(m.code);
        return;
      case "handshake":
        liveness.handshaken();
        life.handshaken();
        return;
    }
  }
}
