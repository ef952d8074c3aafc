// This module is browser compatible.
// The wiring of a Peer's parts: who sees what of whom. Each part gets narrow closures, so the
// order of creation does not matter for callbacks that run later.

import { encodeHandshake, MessageDecoder } from "../protocol/mod.ts";
import type { ResolvedOptions } from "./options.ts";
import type { Session } from "./session.ts";
import type { Transport } from "./transport.ts";
import { Closing } from "./_closing.ts";
import { directOf } from "./_direct.ts";
import { handlerHooks } from "./_contexts.ts";
import { InboundFlow } from "./_flow.ts";
import { type IncomingHost, IncomingRequests } from "./_incoming.ts";
import { Liveness } from "./_liveness.ts";
import { OutgoingRequests } from "./_outgoing.ts";
import { readLoop } from "./_reader.ts";
import { RequestSignals } from "./_request_context.ts";
import { registerStats } from "./_stats.ts";
import { Sender } from "./_send.ts";
import { PeerState } from "./_state.ts";
import type { StreamRequestHost } from "./_stream_request.ts";
import { eventSink } from "./_telemetry.ts";
import { FrameWriter, registerFrameSink } from "./_writer.ts";

/** The parts the Peer's public methods use. */
export interface PeerParts {
  readonly state: PeerState;
  readonly liveness: Liveness;
  readonly outgoing: OutgoingRequests;
  readonly closing: Closing;
  readonly send: Sender;
}

/** Creates the parts of `peer` on `transport`, sends the handshake and starts reading. */
export function assemble(peer: Session, transport: Transport, o: ResolvedOptions): PeerParts {
  // Each handler's own `context.signal`, aborted when the connection closes.
  const abort = new RequestSignals();
  const decoder = new MessageDecoder({ handshake: true, maxPayloadBytes: o.maxPayloadBytes });
  const state: PeerState = new PeerState((): boolean =>
    outgoing.size === 0 && incoming.handling === 0 && outgoing.uploads === 0
  );
  // Our own transports hand over a reader and a writer of their own: no Web streams in between.
  const direct = directOf(transport);
  const wire = new FrameWriter(
    direct?.writer ?? transport.writable.getWriter(),
    o.writeBufferBytes,
    (error) => closing.writeFailed(error),
    { ms: o.writeStallTimeoutMs, stalled: () => closing.writeStalled(o) },
  );
  const liveness = new Liveness({
    timedOut: (error) => closing.protocolFailure(error),
    sendHeartbeat: (load, time) => {
      if (!state.closed) wire.send({ type: "h", load, time });
    },
  }, o);
  const flow = new InboundFlow(state, () => liveness.read(), o);
  const outgoing: OutgoingRequests = new OutgoingRequests(wire, state, flow, o);
  const events = eventSink(o.onRequestEvent, o.onError);
  const parts: IncomingHost & StreamRequestHost = {
    wire,
    life: state,
    flow,
    outgoing,
    maxPayloadBytes: o.maxPayloadBytes,
    handlers: o.handlers,
    ...handlerHooks(peer, o, abort),
    events,
  };
  const incoming = new IncomingRequests(parts, o);
  const send = new Sender({
    peer,
    state,
    writer: wire,
    outgoing,
    streams: parts,
    maxPayloadBytes: o.maxPayloadBytes,
    events,
    interceptors: o.interceptors,
  });
  const reader = direct?.reader ?? transport.readable.getReader();
  const closed = { state, liveness, abort, outgoing, incoming, writer: wire };
  const closing: Closing = new Closing({ ...closed, reader, transport, logger: o.logger });
  registerStats(peer, closed);
  wire.sendRaw(encodeHandshake());
  registerFrameSink(peer, wire);
  const host = { outgoing, incoming, liveness, flow, writer: wire, closing };
  readLoop(reader, decoder, { ...host, life: state }, o);
  return { state, liveness, outgoing, closing, send };
}
