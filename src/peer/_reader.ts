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
import type { ChunkReader, ReadListener } from "./_direct.ts";
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

/**
 * What the read loop reads and feeds, and how it reports the end of the input. As the listener
 * of a parked reader, its `chunkArrived` calls {@linkcode pumpSoon}.
 */
export interface ReaderHost extends ReadListener {
  readonly reader: ChunkReader;
  readonly o: ReadOptions;
  readonly decoder: MessageDecoder;
  readonly outgoing: OutgoingRequests;
  readonly incoming: IncomingRequests;
  /** The incoming table's results waiting for the write backlog (its `waitingReplies`). */
  readonly waitingReplies: number;
  readonly liveness: Liveness;
  /** The inbound flow if a consumer is behind (the loop must relieve it), else `undefined`. */
  readonly pressuredFlow: InboundFlow | undefined;
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
  /** The input ended: a frame left unfinished is a ProtocolError (thrown). */
  endInput(): void;
  /** The loop parks the reader: nothing is queued (the decoder may go until the next chunk). */
  readerParked(): void;
  // The loop's own state, kept here rather than in its frame (an idle peer's suspended loop
  // keeps every register of its frame: the fewer, the smaller).
  /** Made with the first frame left unfinished by a chunk (most chunks end with a frame). */
  deadline: FrameDeadline | undefined;
  /** Bytes and frames read since the loop last let the event loop turn. */
  batchBytes: number;
  batchFrames: number;
}

// One routing function for every peer (no closure each): `decoder.push` calls it synchronously,
// so the host it routes to and the frames it counted are set around each push (and restored
// after it, should a push ever run inside another).
let routing: ReaderHost | undefined;
/** Frames completed by the chunk being decoded. */
let completed = 0;

function route(m: Message): void {
  const host = routing!;
  // Closed by an earlier frame of the same chunk (a ProtocolError from the remote, say): the
  // rest of the chunk is not for a closed peer (no handler runs, nothing is recorded).
  if (host.life.closed) return;
  completed++;
  switch (m.type) {
    case MessageType.SingleResult:
    case MessageType.StreamResult:
    case MessageType.ErrorResult:
    case MessageType.RetryResult:
      host.outgoing.onResult(m as PayloadMessage | RetryMessage);
      return;
    case MessageType.SingleRequest:
    case MessageType.StreamRequest:
      host.incoming.onRequest(m as RequestMessage);
      return;
    case MessageType.StreamRequestPart:
      host.incoming.onPart(m.id, m.payload);
      return;
    case MessageType.Notification:
      host.incoming.onNotification(m.name, m.payload);
      return;
    case MessageType.Heartbeat:
      host.liveness.heartbeat(m);
      return;
    case MessageType.ProtocolError:
      host.closing.remoteFailed(m.code);
      return;
    case "handshake":
      host.liveness.handshaken();
      host.life.handshaken();
      return;
  }
}

/** Decodes `chunk` for `host`, routing each message; returns the frames it completed. */
function decode(host: ReaderHost, chunk: Uint8Array): number {
  const outerHost = routing;
  const outerCount = completed;
  routing = host;
  completed = 0;
  try {
    host.decoder.push(chunk, route);
    return completed;
  } finally {
    routing = outerHost;
    completed = outerCount;
  }
}

/** Reads `host.reader` until it ends, the peer closes, or the input is invalid. */
export function readLoop(host: ReaderHost): void {
  if (host.reader.take !== undefined) pump(host);
  else void streamLoop(host);
}

/** The loop over a Web stream's reader: an async function, suspended between reads. */
async function streamLoop(host: ReaderHost): Promise<void> {
  try {
    while (!host.life.closed) {
      // The chunk is handed on in the read result and dropped before the next await, so that
      // an idle loop's suspended frame does not keep the last chunk it read.
      let read: ReadableStreamReadResult<Uint8Array> | undefined = await host.reader.read();
      if (read.done) {
        host.endInput();
        host.closing.inputEnded();
        return;
      }
      const wait = consume(host, read.value);
      read = undefined;
      if (wait !== undefined) await wait;
    }
  } catch (e) {
    if (!host.life.closed) host.closing.inputEnded(e);
  } finally {
    host.deadline?.stop();
  }
}

/**
 * The loop over a direct reader: takes what is queued, and parks the reader once nothing is, so
 * that an idle peer keeps neither a pending read nor a suspended frame. The reader's listener
 * (the host) calls {@linkcode pumpSoon}, and the loop goes on from a microtask: the transport's
 * callback returns first (and asks for more) as it does when a pending read resolves.
 */
function pump(host: ReaderHost): void {
  const reader = host.reader;
  try {
    while (!host.life.closed) {
      const chunk = reader.take!();
      if (chunk === undefined) {
        host.readerParked();
        return reader.park!(host);
      }
      if (chunk === null) {
        host.endInput();
        host.closing.inputEnded();
        break;
      }
      const wait = consume(host, chunk);
      if (wait !== undefined) {
        wait.then(() => pump(host), (e) => failed(host, e));
        return;
      }
    }
  } catch (e) {
    if (!host.life.closed) host.closing.inputEnded(e);
  }
  host.deadline?.stop();
}

/** A pause of the loop failed. */
function failed(host: ReaderHost, e: unknown): void {
  if (!host.life.closed) host.closing.inputEnded(e);
  host.deadline?.stop();
}

// The hosts whose parked reader has something, pumped in one microtask shared by all (no
// closure per wake); the lists are swapped so that a wake during the pumping waits for the next.
let woken: ReaderHost[] = [];
let spareWoken: ReaderHost[] = [];
let pumpScheduled = false;

/** Pumps `host`'s loop in a microtask (a parked reader's listener calls this). */
export function pumpSoon(host: ReaderHost): void {
  woken.push(host);
  if (pumpScheduled) return;
  pumpScheduled = true;
  queueMicrotask(pumpWoken);
}

function pumpWoken(): void {
  const hosts = woken;
  woken = spareWoken;
  pumpScheduled = false;
  for (let i = 0; i < hosts.length; i++) pump(hosts[i]);
  hosts.length = 0;
  spareWoken = hosts;
}

/** Decodes and routes a chunk; returns what to wait for before reading on, if anything. */
function consume(host: ReaderHost, chunk: Uint8Array): Promise<void> | undefined {
  const options = host.o;
  host.liveness.read();
  const frames = decode(host, chunk);
  const partial = host.decoder.partial;
  if (partial && host.deadline === undefined && options.frameTimeoutMs > 0) {
    host.deadline = new FrameDeadline(options.frameTimeoutMs, host.closing);
  }
  host.deadline?.read(partial, frames > 0);
  // Replies back up unread: the remote sends requests but does not read their results.
  // Our own requests and notifications do not count (a client waiting to write them must
  // still read the results that make room), so two peers cannot wait for each other.
  const writer = host.writer;
  const backedUp = writer.replyBacklog >= options.readPauseBytes ||
    (!writer.writable && host.waitingReplies > 0);
  const flow = host.pressuredFlow;
  if (flow !== undefined || backedUp) {
    host.batchBytes = host.batchFrames = 0;
    return pause(host, flow, backedUp);
  }
  host.batchBytes += chunk.length;
  host.batchFrames += frames;
  if (host.batchBytes < YIELD_BYTES && host.batchFrames < YIELD_FRAMES) return undefined;
  host.batchBytes = host.batchFrames = 0;
  return macrotask();
}

/** Waits for the consumers behind and the replies backed up (the frame deadline waits too). */
async function pause(
  host: ReaderHost,
  flow: InboundFlow | undefined,
  backedUp: boolean,
): Promise<void> {
  host.deadline?.paused();
  if (flow !== undefined) await flow.relieve();
  if (backedUp) await host.writer.drained();
  host.liveness.read(); // we paused, the remote did not go quiet
  host.deadline?.resumed();
}
