// This module is browser compatible.
// The streaming request: a writable for the request's parts and a readable for the result's,
// on top of the outgoing table.

import { PayloadTooLargeError } from "./errors.ts";
import type { RequestOptions, StreamRequest } from "./session.ts";
import type { InboundFlow } from "./_flow.ts";
import type { Outgoing, OutgoingRequests } from "./_outgoing.ts";
import type { Lifecycle, Wire } from "./_seams.ts";
import { idText, type Probe } from "./_telemetry.ts";

const EMPTY = new Uint8Array(0);

/** What a streaming request needs of its peer. */
export interface StreamRequestHost {
  readonly wire: Wire;
  readonly life: Lifecycle;
  readonly outgoing: OutgoingRequests;
  readonly flow: InboundFlow;
  /** The largest part the remote accepts without closing the connection (ours). */
  readonly maxPayloadBytes: number;
}

/**
 * Starts a streaming request for `op`. The request's first part goes out as the `s` frame,
 * the next ones as `p`, and closing the writable sends the empty `p` that ends it. Once the
 * remote has answered, writes reject with the reason the request ended (its
 * `RemoteError`, a timeout, …) or an `InvalidStateError` after a result. A part larger than
 * `maxPayloadBytes` fails the request (both streams) with a `PayloadTooLargeError`.
 */
export function openStreamRequest(
  host: StreamRequestHost,
  op: string,
  options: Omit<RequestOptions, "maxRetries"> | undefined,
  probe?: Probe,
): StreamRequest {
  const { wire, life, outgoing } = host;
  let out: Outgoing | undefined;
  let id = 0;
  let started = false;
  let ended = false;
  /** Why the request ended before the caller finished writing, if it failed. */
  let failure: unknown;
  const signal = options?.signal;
  /** Ends the request side; `send`: tell the remote (not when it already answered). */
  const endUpload = (send: boolean) => {
    if (ended || !out) return;
    ended = true;
    outgoing.uploads--;
    if (send && !life.closed) {
      if (!started) wire.send({ type: "s", id, name: op, payload: EMPTY });
      wire.send({ type: "p", id, payload: EMPTY });
    }
    life.idleChanged();
  };
  const readable = host.flow.readable((controller) => {
    if (!life.open || signal?.aborted) {
      failure = life.open ? signal!.reason : life.closedError();
      probe?.fail(failure);
      probe?.end();
      controller.error(failure);
      return;
    }
    out = {
      op,
      stream: true,
      payload: EMPTY,
      attempts: 1,
      maxRetries: 0,
      parts: null,
      partsBytes: 0,
      resolve: () => {},
      reject: (e) => {
        failure = e;
        probe?.fail(e);
        try {
          controller.error(e);
        } catch { /* already closed */ }
        // The request side ends too: `writer.closed` settles (a closed connection holds no
        // writer waiting on it).
        uploadController?.error(e); // a no-op once it closed
      },
      onSettle: (remoteDone) => {
        endUpload(!remoteDone && started);
        // After the settle the request is resolved or rejected at once: end with that.
        if (probe) queueMicrotask(() => probe.end("ok"));
      },
      controller,
      timer: undefined,
      retryTimer: undefined,
      signal,
      onAbort: undefined,
    };
    id = outgoing.add(out, options);
    if (probe) probe.id = idText(id);
    outgoing.uploads++;
  }, () => {
    probe?.fail(new DOMException("The streaming result was cancelled", "AbortError"));
    if (out && outgoing.has(id, out)) outgoing.settle(id, out, false);
  });
  let uploadController: WritableStreamDefaultController | undefined;
  const writable = new WritableStream<Uint8Array>({
    start: (c) => void (uploadController = c),
    write: async (chunk) => {
      if (!out) throw failure;
      if (ended || !outgoing.has(id, out)) {
        throw failure ?? new DOMException(
          `The streaming request "${op}" has ended: the remote answered it`,
          "InvalidStateError",
        );
      }
      if (chunk.length === 0) return; // an empty part would end the request
      if (chunk.length > host.maxPayloadBytes) {
        // Refused before it is written: the request alone fails (ended if it started).
        const e = new PayloadTooLargeError(op, chunk.length, host.maxPayloadBytes, {
          kind: "request part",
        });
        outgoing.settle(id, out, false);
        out.reject(e);
        throw e;
      }
      while (!wire.writable) await wire.drained();
      if (life.closed) throw life.closedError();
      if (probe) probe.bytesOut += chunk.length;
      if (!started) {
        started = true;
        wire.send({ type: "s", id, name: op, payload: chunk });
      } else {
        wire.send({ type: "p", id, payload: chunk });
      }
    },
    close: () => {
      endUpload(out !== undefined && outgoing.has(id, out));
    },
    abort: () => {
      if (out && outgoing.has(id, out)) {
        outgoing.settle(id, out, false);
        out.reject(new DOMException("The streaming request was aborted", "AbortError"));
      }
    },
  });
  return { writable, readable };
}
