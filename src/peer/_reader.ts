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

/** What the read loop reads and feeds, and how it reports the end of the input. */
export interface ReaderHost {
  readonly reader: ChunkReader;
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
export async function readLoop(host: ReaderHost, options: ReadOptions): Promise<void> {
  try {
    while (!host.life.closed) {
      // The chunk is handed on in the read result and dropped before the next await, so that
      // an idle loop's suspended frame does not keep the last chunk it read.
      let read: ReadableStreamReadResult<Uint8Array> | undefined = await host.reader.read();
      if (read.done) {
        host.decoder.end();
        host.closing.inputEnded();
        return;
      }
      const wait = consume(host, read, options);
      read = undefined;
      if (wait !== undefined) await wait;
    }
  } catch (e) {
    if (!host.life.closed) host.closing.inputEnded(e);
  } finally {
    host.deadline?.stop();
  }
}

/** Decodes and routes a chunk; returns what to wait for before reading on, if anything. */
function consume(
  host: ReaderHost,
  read: ReadableStreamReadResult<Uint8Array>,
  options: ReadOptions,
): Promise<void> | undefined {
  const chunk = read.value!;
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
