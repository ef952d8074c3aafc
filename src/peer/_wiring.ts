// This module is browser compatible.
// The wiring of a Peer's parts: who sees what of whom. One object per peer holds the parts and
// implements every callback they make as a method (no closure or host object per connection);
// each part sees it through its own narrow interface. Callbacks run later, through the fields,
// so the order of creation does not matter for them.

import type { ProtocolError } from "../protocol/mod.ts";
import { encodeHandshake, MessageDecoder } from "../protocol/mod.ts";
import type { NotificationContext } from "./handler_types.ts";
import type { Handlers } from "./handlers.ts";
import type { Interceptor } from "./middleware.ts";
import { handlerFailed, type Logger, type ResolvedOptions } from "./options.ts";
import type { Session } from "./session.ts";
import type { Transport } from "./transport.ts";
import { Closing, type ClosingParts } from "./_closing.ts";
import { type ChunkReader, directOf } from "./_direct.ts";
import type { PeerSeam, ReleaseListener } from "./_peer_seam.ts";
import { type FlowHost, InboundFlow } from "./_flow.ts";
import type { FrameDeadline } from "./_frame_deadline.ts";
import { type IncomingHost, IncomingRequests } from "./_incoming.ts";
import { Liveness, type LivenessOwner } from "./_liveness.ts";
import { type OutgoingHost, OutgoingRequests } from "./_outgoing.ts";
import { pumpSoon, type ReaderHost, readLoop } from "./_reader.ts";
import { RequestSignals, type SettlingContext } from "./_request_context.ts";
import { type PeerStats, statsOf, type StatsParts } from "./_stats.ts";
import { Sender, type SenderHost } from "./_send.ts";
import { PeerState, type Work } from "./_state.ts";
import type { StreamRequestHost } from "./_stream_request.ts";
import { type EventSink, eventSink } from "./_telemetry.ts";
import { FrameWriter, type WriterOwner } from "./_writer.ts";

/** The parts the Peer's public methods use. */
export interface PeerParts {
  readonly o: ResolvedOptions;
  readonly transport: Transport;
  readonly state: PeerState;
  readonly liveness: Liveness;
  readonly outgoing: OutgoingRequests;
  readonly closing: Closing;
  readonly send: Sender;
}

/** Creates the parts of `peer` on `transport`, sends the handshake and starts reading. */
export function assemble(
  peer: Session,
  transport: Transport,
  o: ResolvedOptions,
): PeerParts & PeerSeam {
  const w = new Wiring(peer, transport, o);
  w.writer.sendRaw(encodeHandshake());
  readLoop(w);
  return w;
}

/** One peer's parts, and the callbacks between them. */
/** The request-event sink of each options object with an `onRequestEvent`. */
const sinks = new WeakMap<ResolvedOptions, EventSink>();

/**
 * The parts of a peer an idle one may never need, in one object made with the first of them:
 * an idle peer keeps one field for all of them.
 */
class LazyParts {
  /** Each handler's own `context.signal`. */
  signals: RequestSignals | undefined = undefined;
  outgoing: OutgoingRequests | undefined = undefined;
  incoming: IncomingRequests | undefined = undefined;
  closing: Closing | undefined = undefined;
  /** Made with the first inbound stream. */
  flow: InboundFlow | undefined = undefined;
  /** Made with the first request or notification this peer sends. */
  send: Sender | undefined = undefined;
}

class Wiring
  implements
    PeerParts,
    Work,
    WriterOwner,
    LivenessOwner,
    FlowHost,
    OutgoingHost,
    IncomingHost,
    StreamRequestHost,
    SenderHost,
    ClosingParts,
    ReaderHost,
    StatsParts,
    PeerSeam {
  readonly peer: Session;
  readonly o: ResolvedOptions;
  readonly transport: Transport;
  /** Our own transports hand over a reader and a writer of their own: no Web streams between. */
  readonly reader: ChunkReader;
  /** Dropped between frames while the reader is parked (see `readerParked`). */
  #decoder: MessageDecoder | undefined;
  /**
   * The stream offset where the dropped decoder left off. Unset until the first drop: past 2 GiB
   * the offset is no small integer, and a field that only ever held numbers would then make every
   * peer keep a boxed number for it.
   */
  #decoded: number | undefined;
  readonly state: PeerState;
  readonly writer: FrameWriter;
  readonly liveness: Liveness;
  /** Told once the transport is released (a server's bookkeeping). */
  #releaseListener: ReleaseListener | undefined;
  /** The parts an idle peer may never need, each made on first use (see the getters). */
  #lazy: LazyParts | undefined;
  // The read loop's (see ReaderHost).
  deadline: FrameDeadline | undefined = undefined;
  batchBytes = 0;
  batchFrames = 0;

  constructor(peer: Session, transport: Transport, o: ResolvedOptions) {
    this.peer = peer;
    this.o = o;
    this.transport = transport;
    const direct = directOf(transport);
    this.reader = direct?.reader ?? transport.readable.getReader();
    this.#decoder = new MessageDecoder({ handshake: true, maxPayloadBytes: o.maxPayloadBytes });
    this.state = new PeerState(this);
    this.writer = new FrameWriter(direct?.writer ?? transport.writable.getWriter(), this);
    this.liveness = new Liveness(this);
  }

  /** Where request events go (one sink for the peers of one options object). */
  get events(): EventSink | undefined {
    const o = this.o;
    if (o.onRequestEvent === undefined) return undefined;
    let sink = sinks.get(o);
    if (sink === undefined) sinks.set(o, sink = eventSink(o.onRequestEvent, o.onError)!);
    return sink;
  }

  /** The read loop's decoder (made again, where the last left off, after a drop). */
  get decoder(): MessageDecoder {
    return this.#decoder ??= new MessageDecoder({
      maxPayloadBytes: this.o.maxPayloadBytes,
      offset: this.#decoded ?? 0,
    });
  }

  get decoders(): number {
    return this.#decoder === undefined ? 0 : 1;
  }

  /** Each handler's own `context.signal`, aborted when the connection closes. */
  get abort(): RequestSignals {
    return (this.#lazy ??= new LazyParts()).signals ??= new RequestSignals();
  }
  /** The requests this peer sent (made with the first, or with a result from the remote). */
  get outgoing(): OutgoingRequests {
    return (this.#lazy ??= new LazyParts()).outgoing ??= new OutgoingRequests(this, this.o);
  }
  /** The requests and notifications the remote sent (made with the first). */
  get incoming(): IncomingRequests {
    return (this.#lazy ??= new LazyParts()).incoming ??= new IncomingRequests(this, this.o);
  }
  get closing(): Closing {
    return (this.#lazy ??= new LazyParts()).closing ??= new Closing(this);
  }
  get waitingReplies(): number {
    const incoming = this.#lazy?.incoming;
    return incoming === undefined ? 0 : incoming.waitingReplies;
  }

  // The parts under the names their interfaces give them.
  get life(): PeerState {
    return this.state;
  }
  get wire(): FrameWriter {
    return this.writer;
  }
  get streams(): StreamRequestHost {
    return this;
  }
  get flow(): InboundFlow {
    return (this.#lazy ??= new LazyParts()).flow ??= new InboundFlow(this, this.o);
  }
  get pressuredFlow(): InboundFlow | undefined {
    const flow = this.#lazy?.flow;
    return flow !== undefined && flow.pressured ? flow : undefined;
  }
  get send(): Sender {
    return (this.#lazy ??= new LazyParts()).send ??= new Sender(this);
  }

  // The options the parts read.
  get handlers(): Handlers {
    return this.o.handlers;
  }
  get maxPayloadBytes(): number {
    return this.o.maxPayloadBytes;
  }
  get interceptors(): readonly Interceptor[] | undefined {
    return this.o.interceptors;
  }
  get logger(): Logger | undefined {
    return this.o.logger;
  }

  // The callbacks.
  stats(): PeerStats {
    return statsOf(this);
  }
  onRelease(listener: ReleaseListener): void {
    this.#releaseListener = listener;
    if (this.state.isReleased) queueMicrotask(() => this.released());
  }
  released(): void {
    this.#decoder = undefined;
    const listener = this.#releaseListener;
    this.#releaseListener = undefined;
    listener?.peerReleased(this.peer);
  }
  isIdle(): boolean {
    const lazy = this.#lazy;
    if (lazy === undefined) return true;
    const outgoing = lazy.outgoing;
    const incoming = lazy.incoming;
    return (outgoing === undefined || outgoing.size === 0 && outgoing.uploads === 0) &&
      (incoming === undefined || incoming.handling === 0);
  }
  writeFailed(error: unknown): void {
    this.closing.writeFailed(error);
  }
  writeStalled(): void {
    this.closing.writeStalled(this.o);
  }
  timedOut(error: ProtocolError): void {
    this.closing.protocolFailure(error);
  }
  sendHeartbeat(load: number, time: number): void {
    if (!this.state.closed) this.writer.send({ type: "h", load, time });
  }
  readPaused(): void {
    this.liveness.read();
  }
  chunkArrived(): void {
    pumpSoon(this);
  }
  endInput(): void {
    // (Throws if the input ended inside a frame: the read loop reports it.)
    this.#decoder?.end();
  }
  readerParked(): void {
    // Between frames, after the handshake (its two bytes are the first), a decoder holds
    // nothing but its offset: an idle peer keeps the offset, not the decoder.
    const decoder = this.#decoder;
    if (decoder !== undefined && !decoder.partial && decoder.offset >= 2) {
      this.#decoded = decoder.offset;
      this.#decoder = undefined;
    }
  }

  // What handlers see of the peer, and where their failures go.
  requestContext(op: string): SettlingContext {
    const o = this.o;
    return this.abort.context(this.peer, op, o.codec, o.data);
  }
  notificationContext(name: string): NotificationContext {
    const o = this.o;
    return { peer: this.peer, name, codec: o.codec, data: o.data };
  }
  reportError(error: unknown): void {
    this.o.onError?.(error);
  }
  handlerFailed(error: unknown, op: string): void {
    handlerFailed(this.o, error, { op, peer: this.peer });
  }
}
