// This module is browser compatible.
// Sending a streaming result: the handler's readable, part by part, as `S` frames.

import type { RequestId } from "../protocol/mod.ts";
import { PayloadTooLargeError } from "./errors.ts";
import type { Lifecycle, Wire } from "./_seams.ts";

const EMPTY = new Uint8Array(0);

/**
 * Sends `stream` as the streaming result of request `id`, waiting for the write backlog to
 * drain between parts. If the stream errors, or yields a part over `maxPayloadBytes` (the
 * remote would refuse it, closing the connection), `sendError` answers with an ErrorResult
 * (and the stream is ended after it when parts went out).
 */
export async function sendStream(
  wire: Wire,
  life: Lifecycle,
  id: RequestId,
  op: string,
  maxPayloadBytes: number,
  stream: ReadableStream<Uint8Array>,
  sendError: (error: unknown) => void,
): Promise<void> {
  const reader = stream.getReader();
  let sent = false;
  try {
    while (true) {
      if (!wire.writable) await wire.drained();
      if (life.closed) {
        await reader.cancel();
        return;
      }
      const { done, value } = await reader.read();
      if (done) break;
      if (value.length === 0) continue; // an empty part would end the result
      // Checked again: streams woken together must not all write past the mark.
      while (!wire.writable) await wire.drained();
      if (life.closed) {
        await reader.cancel();
        return;
      }
      if (value.length > maxPayloadBytes) {
        const kind = "handler result";
        const error = new PayloadTooLargeError(op, value.length, maxPayloadBytes, { kind });
        await reader.cancel(error);
        throw error;
      }
      wire.send({ type: "S", id, payload: value });
      sent = true;
    }
    if (!life.closed) wire.send({ type: "S", id, payload: EMPTY });
  } catch (e) {
    if (life.closed) return;
    // Go sends the ErrorResult and then ends the stream; ending it first is cleaner, but a
    // Go client only settles a streaming result on its end: send both, error first.
    sendError(e);
    if (sent) wire.send({ type: "S", id, payload: EMPTY });
  }
}
