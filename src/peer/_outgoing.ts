// This module is browser compatible.
// The outgoing request table: ids, pending requests, timeouts and abort signals, retries after
// a RetryResult, dispatch of results (R S E e) to their requests, and failing all on close.

import type { PayloadMessage, RequestId, RetryMessage } from "../protocol/mod.ts";
import { PayloadTooLargeError, RetryLimitError, StreamOverflowError } from "./errors.ts";
import type { RequestOptions } from "./session.ts";
import { remoteError } from "./validation.ts";
import type { InboundFlow } from "./_flow.ts";
import { concatParts, decodeText } from "./_payload.ts";
import type { Lifecycle, Wire } from "./_seams.ts";
import { MAX_TIMER_MS, type TimerHandle } from "./_timer.ts";
import { emptyMap, isEmptyMap } from "./_empty.ts";

const EMPTY = new Uint8Array(0);
/** Printable id characters: ids stay valid text for gotalk.js, which reads them as a string. */
const ID_CHARS = new TextEncoder().encode(
  "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz-_",
);
const ID_SPACE = 64 ** 4;

/** An outgoing request waiting for its answer. */
export interface Outgoing {
  readonly op: string;
  /** `false`: settle a promise; `true`: feed a readable (a streaming request). */
  readonly stream: boolean;
  /** Buffer requests: the payload, kept for retries. */
  readonly payload: Uint8Array;
  attempts: number;
  readonly maxRetries: number;
  /** Buffer requests collecting a streaming result. */
  parts: Uint8Array[] | null;
  partsBytes: number;
  resolve: (payload: Uint8Array) => void;
  reject: (error: unknown) => void;
  /** Streaming requests: the result readable's controller. */
  controller: ReadableStreamDefaultController<Uint8Array> | null;
  timer: TimerHandle | undefined;
  retryTimer: TimerHandle | undefined;
  signal: AbortSignal | undefined;
  onAbort: (() => void) | undefined;
  /** Streaming requests: called when it settles (`remoteDone`: the remote ended it). */
  onSettle?: (remoteDone: boolean) => void;
}

/** What the outgoing table sees of its peer. */
export interface OutgoingHost {
  readonly wire: Wire;
  readonly life: Lifecycle;
  /** The inbound streams (streaming results). */
  readonly flow: InboundFlow;
}

/** The outgoing limits of a peer (see `PeerOptions`). */
export interface OutgoingOptions {
  readonly maxPayloadBytes: number;
  readonly maxRetries: number;
  readonly requestTimeoutMs: number;
}

/** The requests a peer sent and has no answer to yet. */
export class OutgoingRequests {
  readonly #host: OutgoingHost;
  readonly #options: OutgoingOptions;
  /** The shared empty map until the first request: an idle peer keeps no table of its own. */
  #pending: Map<RequestId, Outgoing> = emptyMap();
  #nextId = 0;
  /** Streaming requests whose request side is still open (they keep the peer busy). */
  uploads = 0;
  /** The id given by the last `add()` (for telemetry, read right after `send()`). */
  lastId: RequestId = 0;

  constructor(host: OutgoingHost, options: OutgoingOptions) {
    this.#host = host;
    this.#options = options;
  }

  /** The number of requests waiting for an answer. */
  get size(): number {
    return this.#pending.size;
  }

  /** Sends a buffer request; resolves with its result payload. */
  send(op: string, payload: Uint8Array, options: RequestOptions | undefined): Promise<Uint8Array> {
    return new Promise<Uint8Array>((resolve, reject) => {
      const out: Outgoing = {
        op,
        stream: false,
        payload,
        attempts: 1,
        maxRetries: options?.maxRetries ?? this.#options.maxRetries,
        parts: null,
        partsBytes: 0,
        resolve,
        reject,
        controller: null,
        timer: undefined,
        retryTimer: undefined,
        signal: options?.signal,
        onAbort: undefined,
      };
      this.#sendWhenWritable(this.add(out, options), out);
    });
  }

  /** Sends a buffer request once the backlog is below its bound (checked after every wait). */
  #sendWhenWritable(id: RequestId, out: Outgoing): void {
    if (this.#pending.get(id) !== out) return;
    const { wire, life } = this.#host;
    if (wire.writable || life.closed) {
      wire.send({ type: "r", id, name: out.op, payload: out.payload });
    } else {
      wire.drained().then(() => this.#sendWhenWritable(id, out));
    }
  }

  /** Gives `out` an id and arms its timeout and abort signal. */
  add(out: Outgoing, options: RequestOptions | undefined): RequestId {
    const id = this.lastId = this.#allocId(out);
    const timeoutMs = options?.timeoutMs ?? this.#options.requestTimeoutMs;
    if (timeoutMs > 0) {
      out.timer = setTimeout(() => {
        if (this.#pending.get(id) !== out) return;
        this.settle(id, out, false);
        out.reject(
          new DOMException(
            `The request "${out.op}" timed out after ${timeoutMs} ms`,
            "TimeoutError",
          ),
        );
      }, timeoutMs);
    }
    const signal = out.signal;
    if (signal) {
      const started = Date.now();
      out.onAbort = () => {
        if (this.#pending.get(id) !== out) return;
        this.settle(id, out, false);
        out.reject(abortReason(out.op, signal.reason, started));
      };
      signal.addEventListener("abort", out.onAbort, { once: true });
    }
    return id;
  }

  /** Whether `out` is still waiting under `id`. */
  has(id: RequestId, out: Outgoing): boolean {
    return this.#pending.get(id) === out;
  }

  /**
   * Forgets a request (the caller settles it). `remoteDone`: the remote answered, so a
   * streaming request must not be ended on the wire (Go drops a connection that sends a part
   * for an id it no longer knows).
   */
  settle(id: RequestId, out: Outgoing, remoteDone = true): void {
    this.#pending.delete(id);
    release(out);
    out.onSettle?.(remoteDone);
    this.#host.life.idleChanged();
  }

  /** Dispatches a result to its request; a late answer to an aborted request is dropped. */
  onResult(m: PayloadMessage | RetryMessage): void {
    const id = m.id;
    const out = this.#pending.get(id);
    if (out === undefined) return;
    switch (m.type) {
      case "R":
        this.settle(id, out);
        if (out.stream) {
          const c = out.controller!;
          if (m.payload.length > 0) c.enqueue(m.payload);
          c.close();
        } else {
          out.resolve(m.payload);
        }
        return;
      case "S":
        if (out.stream) this.#streamPart(id, out, m.payload);
        else this.#collectPart(id, out, m.payload);
        return;
      case "E":
        this.settle(id, out);
        out.reject(remoteError(out.op, m.payload));
        return;
      case "e":
        this.#retry(id, out, m);
        return;
    }
  }

  /** Rejects every pending request with `error`. */
  failAll(error: Error): void {
    const pending = [...this.#pending.values()];
    this.#pending.clear();
    for (const out of pending) {
      release(out);
      out.onSettle?.(true);
      out.reject(error);
    }
  }

  /** A part of a streaming result, for a streaming request: to its readable. */
  #streamPart(id: RequestId, out: Outgoing, payload: Uint8Array): void {
    const c = out.controller!;
    if (payload.length === 0) {
      this.settle(id, out);
      c.close();
      return;
    }
    const flow = this.#host.flow;
    flow.enqueue(c, payload, () => this.#pending.get(id) === out, () => {
      this.settle(id, out, false);
      out.reject(new StreamOverflowError(flow.bufferBytes));
    });
  }

  /** A part of a streaming result, for a buffer request: collected up to the payload limit. */
  #collectPart(id: RequestId, out: Outgoing, payload: Uint8Array): void {
    if (payload.length === 0) {
      this.settle(id, out);
      out.resolve(concatParts(out.parts ?? [EMPTY], out.partsBytes));
      return;
    }
    const size = out.partsBytes + payload.length;
    const limit = this.#options.maxPayloadBytes;
    if (size > limit) {
      this.settle(id, out);
      out.reject(new PayloadTooLargeError(out.op, size, limit));
      return;
    }
    (out.parts ??= []).push(payload);
    out.partsBytes = size;
  }

  /** A RetryResult: send the request again after the wait, within its retry budget. */
  #retry(id: RequestId, out: Outgoing, m: RetryMessage): void {
    if (out.stream || out.attempts > out.maxRetries) {
      this.settle(id, out);
      out.reject(
        new RetryLimitError(out.op, decodeText(m.payload), {
          wait: m.wait,
          attempts: out.attempts,
        }),
      );
      return;
    }
    out.attempts++;
    out.retryTimer = setTimeout(() => {
      out.retryTimer = undefined;
      if (this.#pending.get(id) !== out || this.#host.life.closed) return;
      this.#host.wire.send({ type: "r", id, name: out.op, payload: out.payload });
    }, Math.min(m.wait, MAX_TIMER_MS));
  }

  #allocId(out: Outgoing): RequestId {
    if (isEmptyMap(this.#pending)) this.#pending = new Map();
    for (let i = 0; i < ID_SPACE; i++) {
      const n = this.#nextId;
      this.#nextId = (n + 1) % ID_SPACE;
      const id = ((ID_CHARS[(n >>> 18) & 63] << 24) | (ID_CHARS[(n >>> 12) & 63] << 16) |
        (ID_CHARS[(n >>> 6) & 63] << 8) | ID_CHARS[n & 63]) >>> 0;
      if (!this.#pending.has(id)) {
        this.#pending.set(id, out);
        return id;
      }
    }
    throw new RangeError("Too many requests in flight");
  }
}

/**
 * Why a request whose signal aborted fails: the signal's reason, except that a timeout (such
 * as `AbortSignal.timeout`'s, whose message names nothing) gets one naming the op and the time.
 */
function abortReason(op: string, reason: unknown, started: number): unknown {
  if (!(reason instanceof DOMException) || reason.name !== "TimeoutError") return reason;
  const ms = Date.now() - started;
  return new DOMException(
    `The request "${op}" timed out after ${ms} ms (its signal's timeout)`,
    "TimeoutError",
  );
}

/** Clears a request's timers and abort listener. */
function release(out: Outgoing): void {
  if (out.timer !== undefined) clearTimeout(out.timer);
  if (out.retryTimer !== undefined) clearTimeout(out.retryTimer);
  if (out.onAbort) out.signal!.removeEventListener("abort", out.onAbort);
}
