// This module is browser compatible.
// What refuses an outgoing request or notification before anything is written: a closed
// peer, a payload too large for a frame or for the sender's own limit, an aborted signal.

import { oversize } from "./_payload.ts";
import type { PeerState } from "./_state.ts";

/** Why a buffer request for `op` cannot be sent (in `error`), or `undefined` if it can. */
export function refuseRequest(
  state: PeerState,
  op: string,
  payload: Uint8Array,
  limit: number,
  signal: AbortSignal | undefined,
): { error: unknown } | undefined {
  if (!state.open) return { error: state.closedError() };
  if (payload.length > 0xffffffff) {
    return { error: new RangeError(`A payload is at most 4294967295 bytes`) };
  }
  const tooLarge = oversize(op, payload, limit, "request");
  if (tooLarge) return { error: tooLarge };
  if (signal?.aborted) return { error: signal.reason };
  return undefined;
}

/** Why a notification `name` cannot be sent, or `undefined` if it can. */
export function refuseNotification(
  state: PeerState,
  name: string,
  payload: Uint8Array,
  limit: number,
): Error | undefined {
  if (state.closed) return state.closedError();
  return oversize(name, payload, limit, "notification");
}
