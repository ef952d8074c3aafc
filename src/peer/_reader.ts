// This module is browser compatible.
// The read loop: reads the transport, decodes, and routes each message to the part that owns
// it. It pauses while an inbound stream's consumer is behind, and while the write backlog is
// over its bound (a remote that sends but never reads cannot grow memory without bound).

import {
  type Message,
  type MessageDecoder,
  MessageType,
  type PayloadMessage,
  type RequestMessage,
  type RetryMessage,
} from "../protocol/mod.ts";
import type { InboundFlow } from "./_flow.ts";
import type { IncomingRequests } from "./_incoming.ts";
import type { Liveness } from "./_liveness.ts";
import type { OutgoingRequests } from "./_outgoing.ts";
import type { FrameWriter } from "./_writer.ts";

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
  };
}

/** Reads `reader` until it ends, the peer closes, or the input is invalid. */
export async function readLoop(
  reader: ReadableStreamDefaultReader<Uint8Array>,
  decoder: MessageDecoder,
  host: ReaderHost,
  readPauseBytes: number,
): Promise<void> {
  const { outgoing, incoming, liveness, flow, writer, life, closing } = host;
  const route = (m: Message): void => {
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
  };
  try {
    while (!life.closed) {
      const { done, value } = await reader.read();
      if (done) {
        decoder.end();
        closing.inputEnded();
        return;
      }
      liveness.read();
      decoder.push(value, route);
      if (flow.pressured) await flow.relieve();
      if (writer.backlog > readPauseBytes) {
        await writer.drained();
        liveness.read(); // we paused, the remote did not go quiet
      }
    }
  } catch (e) {
    if (!life.closed) closing.inputEnded(e);
  }
}
