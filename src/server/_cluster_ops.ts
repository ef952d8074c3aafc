// This module is browser compatible.
// Ops served by the cluster: a server offers some of its ops on the backplane (a queue group,
// so one server answers each request), and forwards the ops it has no handler for.

import { RemoteError } from "../peer/errors.ts";
import type { Handlers } from "../peer/handlers.ts";
import type { BufferHandler, RequestContext } from "../peer/handler_types.ts";
import { Peer } from "../peer/peer.ts";
import type { Session } from "../peer/session.ts";
import { pipePair } from "../transports/pipe.ts";
import {
  type Backplane,
  BackplanePayloadTooLargeError,
  type BackplaneSubscription,
  NoRespondersError,
} from "./backplane.ts";
import { type Subjects, unwrapReply, wrapReply } from "./_hub_wire.ts";

const utf8 = new TextEncoder();

/** The ErrorResult text for an op nobody handles: the same as a Peer's (and Go's). */
export function unknownOperation(op: string): string {
  return `unknown operation ${JSON.stringify(op)}`;
}

/** The loopback peers that run cluster requests: their requests are never forwarded again. */
const loopbacks = new WeakSet<Session>();

/**
 * Serves `ops` of `handlers` to the cluster: each request that arrives over the backplane runs
 * on an in-memory Peer with these handlers (so JSON, buffer and streaming-result handlers all
 * work; `ctx.peer` there is that in-memory peer, which has no handlers of its own).
 */
export function serveOps(
  backplane: Backplane,
  names: Subjects,
  handlers: Handlers,
  ops: readonly string[],
): { subscriptions: BackplaneSubscription[]; close(): void } {
  const [a, b] = pipePair();
  const server = new Peer(a, { handlers, heartbeatIntervalMs: 0 });
  const client = new Peer(b, { heartbeatIntervalMs: 0 });
  loopbacks.add(server);
  const subscriptions = ops.map((op) =>
    backplane.serve(names.op(op), names.opQueue, async (data) => {
      try {
        const result = await client.bufferRequest(op, data);
        if (result.length + 1 <= backplane.maxPayloadBytes) return wrapReply(true, result);
        const e = new BackplanePayloadTooLargeError(result.length + 1, backplane.maxPayloadBytes);
        return wrapReply(false, utf8.encode(e.message));
      } catch (e) {
        const bytes = e instanceof RemoteError
          ? e.payload
          : utf8.encode(e instanceof Error ? e.message : String(e));
        return wrapReply(false, bytes);
      }
    })
  );
  return {
    subscriptions,
    close() {
      for (const s of subscriptions) s.unsubscribe();
      client.abort();
      server.abort();
    },
  };
}

/**
 * A fallback handler that forwards a request to the cluster; with no server serving the op,
 * the caller gets the ErrorResult `unknown operation "OP"`, as from a Peer without the op.
 */
export function forwarder(
  backplane: Backplane,
  names: Subjects,
  timeoutMs: number,
): BufferHandler {
  return async (payload: Uint8Array, ctx: RequestContext) => {
    const op = ctx.op;
    if (loopbacks.has(ctx.peer)) throw new RemoteError(op, unknownOperation(op));
    let reply: Uint8Array;
    try {
      reply = await backplane.request(names.op(op), payload, { timeoutMs });
    } catch (e) {
      if (e instanceof NoRespondersError) throw new RemoteError(op, unknownOperation(op));
      throw e;
    }
    const { ok, bytes } = unwrapReply(reply);
    if (ok) return bytes;
    throw new RemoteError(op, bytes);
  };
}
