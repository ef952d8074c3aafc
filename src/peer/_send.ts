// This module is browser compatible.
// What a Peer sends: the checks before a request or notification goes out, the outgoing
// interceptors around it, and its telemetry. Without interceptors or an event listener a
// call goes straight to the outgoing table, as before.

import type { Interceptor, OutgoingCall, RequestKind } from "./middleware.ts";
import type { RequestOptions, Session, StreamRequest } from "./session.ts";
import type { OutgoingRequests } from "./_outgoing.ts";
import { refuseNotification, refuseRequest } from "./_refusals.ts";
import { runInterceptors } from "./_middleware.ts";
import type { PeerState } from "./_state.ts";
import { openStreamRequest, type StreamRequestHost } from "./_stream_request.ts";
import { type EventSink, Probe } from "./_telemetry.ts";
import type { FrameWriter } from "./_writer.ts";

const EMPTY = new Uint8Array(0);

/** What the sender needs of its peer. */
export interface SenderHost {
  readonly peer: Session;
  readonly state: PeerState;
  readonly writer: FrameWriter;
  readonly outgoing: OutgoingRequests;
  readonly streams: StreamRequestHost;
  readonly maxPayloadBytes: number;
  readonly events: EventSink | undefined;
  readonly interceptors: readonly Interceptor[] | undefined;
}

/** The sending side of a peer. */
export class Sender {
  readonly #host: SenderHost;
  readonly #events: EventSink | undefined;
  #interceptors: Interceptor[] | undefined;

  constructor(host: SenderHost) {
    this.#host = host;
    this.#events = host.events;
    if (host.interceptors !== undefined) this.#interceptors = [...host.interceptors];
  }

  /** Adds an interceptor (innermost of those so far). */
  intercept(interceptor: Interceptor): void {
    if (typeof interceptor !== "function") throw new TypeError("interceptor must be a function");
    (this.#interceptors ??= []).push(interceptor);
  }

  /** A JSON or buffer request. */
  request(
    op: string,
    payload: Uint8Array,
    options: RequestOptions | undefined,
    kind: RequestKind,
  ): Promise<Uint8Array> {
    const list = this.#interceptors;
    if (list === undefined) return this.#request(op, payload, options, kind);
    const call: OutgoingCall = { peer: this.#host.peer, op, kind, payload, options };
    return runInterceptors(list, call, (c) => this.#request(c.op, c.payload, c.options, c.kind))
      .then((r) => r ?? EMPTY);
  }

  /** A notification. */
  notify(name: string, payload: Uint8Array): Promise<void> {
    const list = this.#interceptors;
    if (list === undefined) return this.#notify(name, payload);
    const call: OutgoingCall = {
      peer: this.#host.peer,
      op: name,
      kind: "notification",
      payload,
      options: undefined,
    };
    return runInterceptors(list, call, (c) => this.#notify(c.op, c.payload).then(() => undefined))
      .then(() => {});
  }

  /**
   * A streaming request. With interceptors that all call `next()` synchronously, the request
   * is the real one; an interceptor that waits first gets the caller a bridge: writes queue
   * (up to the streams' default high-water marks) until the request opens.
   */
  stream(op: string, options: Omit<RequestOptions, "maxRetries"> | undefined): StreamRequest {
    const list = this.#interceptors;
    if (list === undefined) return this.#stream(op, options);
    let real: StreamRequest | undefined;
    const call: OutgoingCall = {
      peer: this.#host.peer,
      op,
      kind: "stream",
      payload: EMPTY,
      options,
    };
    const chain = runInterceptors(list, call, (c) => {
      real = this.#stream(c.op, c.options);
      return Promise.resolve(undefined);
    });
    if (real !== undefined) {
      chain.catch(() => {}); // the request itself reports its failures
      return real;
    }
    const up = new TransformStream<Uint8Array, Uint8Array>();
    const down = new TransformStream<Uint8Array, Uint8Array>();
    chain.then(() => {
      if (real === undefined) {
        throw new TypeError(`An interceptor of "${op}" answered a streaming request itself`);
      }
      up.readable.pipeTo(real.writable).catch(() => {});
      real.readable.pipeTo(down.writable).catch(() => {});
    }).catch((e) => {
      up.readable.cancel(e).catch(() => {});
      down.writable.abort(e).catch(() => {});
    });
    return { writable: up.writable, readable: down.readable };
  }

  #request(
    op: string,
    payload: Uint8Array,
    options: RequestOptions | undefined,
    kind: RequestKind,
  ): Promise<Uint8Array> {
    const { state, outgoing } = this.#host;
    const events = this.#events;
    const no = refuseRequest(state, op, payload, this.#host.maxPayloadBytes, options?.signal);
    if (no !== undefined) {
      if (events) this.#refused(events, op, kind, no.error);
      return Promise.reject(no.error);
    }
    if (events === undefined) return outgoing.send(op, payload, options);
    const sent = outgoing.send(op, payload, options);
    const probe = new Probe(events, this.#host.peer, "out", op, outgoing.lastId, kind, 0);
    probe.bytesOut = payload.length;
    return sent.then((result) => {
      probe.bytesIn = result.length;
      probe.end("ok");
      return result;
    }, (e) => {
      probe.fail(e);
      probe.end();
      throw e;
    });
  }

  async #notify(name: string, payload: Uint8Array): Promise<void> {
    const events = this.#events;
    if (events === undefined) return await this.#sendNotification(name, payload);
    const probe = new Probe(events, this.#host.peer, "out", name, undefined, "notification", 0);
    probe.bytesOut = payload.length;
    try {
      await this.#sendNotification(name, payload);
      probe.end("ok");
    } catch (e) {
      probe.fail(e);
      probe.end();
      throw e;
    }
  }

  async #sendNotification(name: string, payload: Uint8Array): Promise<void> {
    const { state, writer } = this.#host;
    const no = refuseNotification(state, name, payload, this.#host.maxPayloadBytes);
    if (no) throw no;
    while (!writer.writable) await writer.drained();
    if (state.closed) throw state.closedError();
    writer.send({ type: "n", name, payload });
  }

  #stream(op: string, options: Omit<RequestOptions, "maxRetries"> | undefined): StreamRequest {
    const events = this.#events;
    if (events === undefined) return openStreamRequest(this.#host.streams, op, options);
    const probe = new Probe(events, this.#host.peer, "out", op, undefined, "stream", 0);
    const request = openStreamRequest(this.#host.streams, op, options, probe);
    return { writable: request.writable, readable: probe.count(request.readable, "bytesIn") };
  }

  #refused(events: EventSink, op: string, kind: RequestKind, error: unknown): void {
    const probe = new Probe(events, this.#host.peer, "out", op, undefined, kind, 0);
    probe.fail(error);
    probe.end();
  }
}
