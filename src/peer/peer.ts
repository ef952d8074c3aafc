// This module is browser compatible.

import {
  DEFAULT_MAX_PAYLOAD_BYTES,
  encodeHandshake,
  type Message,
  MessageDecoder,
  type PayloadMessage,
  ProtocolError,
  ProtocolErrorCode,
  type RequestId,
  type RequestMessage,
  type RetryMessage,
} from "../protocol/mod.ts";
import {
  ConnectionClosedError,
  RemoteError,
  RetryLimitError,
  StreamOverflowError,
} from "./errors.ts";
import {
  decodeJson,
  encodeJson,
  type HandlerResult,
  Handlers,
  type NotificationContext,
  type RequestContext,
  type RequestHandlerEntry,
} from "./handlers.ts";
import type { Transport } from "./transport.ts";
import { FrameWriter } from "./_writer.ts";

/**
 * Options for a {@linkcode Peer}. Every limit and timeout has a finite, documented default.
 *
 * @example Usage
 * ```ts
 * import type { PeerOptions } from "@gotalk/gotalk";
 * import assert from "node:assert/strict";
 *
 * const options: PeerOptions = { maxBufferRequests: 64, readTimeoutMs: 60_000 };
 * assert.equal(options.maxBufferRequests, 64);
 * ```
 */
export interface PeerOptions {
  /**
   * The request and notification handlers this peer serves.
   *
   * @default {new Handlers()}
   */
  handlers?: Handlers;
  /**
   * The largest payload accepted from the remote, in bytes; also the most a buffer request
   * collects from a streaming result, and a buffer handler from a streaming request. A larger
   * incoming header is a protocol error (code 2) and closes the connection.
   *
   * @default {16777216}
   */
  maxPayloadBytes?: number;
  /**
   * The most buffer requests from the remote handled at once; more get a RetryResult
   * (`request rate limit`) with a wait between `retryWaitMinMs` and `retryWaitMaxMs`; 0 refuses
   * them all. Unlimited by default, as in Go.
   *
   * @default {Infinity}
   */
  maxBufferRequests?: number;
  /**
   * The most streaming requests from the remote handled at once; more get a RetryResult; 0
   * refuses them all. Unlimited by default (Go disables streaming requests by default).
   *
   * @default {Infinity}
   */
  maxStreamRequests?: number;
  /**
   * The shortest wait a RetryResult asks for, in milliseconds.
   *
   * @default {500}
   */
  retryWaitMinMs?: number;
  /**
   * The longest wait a RetryResult asks for, in milliseconds (the wait is random between the
   * two, so that rejected clients do not come back all at once).
   *
   * @default {5000}
   */
  retryWaitMaxMs?: number;
  /**
   * How many times a request answered with a RetryResult is sent again before it fails with a
   * {@linkcode RetryLimitError}. Go retries forever; a bounded budget keeps a request from
   * hanging on an overloaded server.
   *
   * @default {3}
   */
  maxRetries?: number;
  /**
   * How long to wait for the remote's handshake, in milliseconds; then the connection closes
   * with a timeout ProtocolError (code 3). 0 disables it.
   *
   * @default {10000}
   */
  handshakeTimeoutMs?: number;
  /**
   * Close the connection (sending `f00000003`) when nothing arrives for this long, in
   * milliseconds. 0 disables it. Off by default because Go's server sends no heartbeats on the
   * connections it accepts: any default would drop idle connections to a Go server.
   *
   * @default {0}
   */
  readTimeoutMs?: number;
  /**
   * How often to send a heartbeat, in milliseconds; 0 disables them. The default is well below
   * the 30 s read timeout of Go peers, so idle connections to Go stay open.
   *
   * @default {15000}
   */
  heartbeatIntervalMs?: number;
  /**
   * The load sent in heartbeats, 0 to 0xffff.
   *
   * @default {() => 0}
   */
  heartbeatLoad?: () => number;
  /**
   * A default timeout for outgoing requests, in milliseconds; 0 means none. A request's own
   * `timeoutMs` or `signal` takes precedence.
   *
   * @default {0}
   */
  requestTimeoutMs?: number;
  /**
   * How many bytes of an incoming stream (a streaming result, or a streaming request's parts)
   * may wait for its consumer without affecting anything else. Gotalk has no per-stream flow
   * control, so past this the peer stops reading from the connection (TCP backpressure slows
   * the sender) for as long as the consumer keeps reading; see `streamStallTimeoutMs`.
   *
   * @default {4194304}
   */
  streamBufferBytes?: number;
  /**
   * How long a consumer whose stream is over `streamBufferBytes` may read nothing before that
   * one stream fails with a {@linkcode StreamOverflowError} and the connection reads on. A
   * consumer that never reads thus stalls the connection for at most this long, and only once
   * it has fallen `streamBufferBytes` behind; a slow but steady one only slows its sender.
   *
   * @default {5000}
   */
  streamStallTimeoutMs?: number;
  /**
   * How many bytes may wait to be written before `request`, `notify` and stream writes wait
   * for the transport to drain.
   *
   * @default {1048576}
   */
  writeBufferBytes?: number;
  /**
   * Called with each heartbeat received.
   *
   * @default {undefined}
   */
  onHeartbeat?: (heartbeat: Heartbeat) => void;
  /**
   * Called with errors that have no caller to reject: a notification handler that threw, an
   * invalid JSON notification, a handler result that could not be sent.
   *
   * @default {undefined}
   */
  onError?: (error: unknown) => void;
}

/**
 * A heartbeat received from the remote.
 *
 * @example Usage
 * ```ts
 * import type { Heartbeat } from "@gotalk/gotalk";
 * import assert from "node:assert/strict";
 *
 * const hb: Heartbeat = { load: 0, time: 1700000000, receivedAt: Date.now() };
 * assert.equal(hb.load, 0);
 * ```
 */
export interface Heartbeat {
  /** The remote's load, 0 to 0xffff. */
  load: number;
  /** The remote's clock, in UTC seconds since the epoch. */
  time: number;
  /** When it arrived, in milliseconds since the epoch (local clock). */
  receivedAt: number;
}

/**
 * Options for one request.
 *
 * @example Usage
 * ```ts
 * import type { RequestOptions } from "@gotalk/gotalk";
 * import assert from "node:assert/strict";
 *
 * const options: RequestOptions = { timeoutMs: 1000, signal: AbortSignal.timeout(5000) };
 * assert.equal(options.timeoutMs, 1000);
 * ```
 */
export interface RequestOptions {
  /**
   * Aborts the request: it rejects with the signal's reason and a late answer is dropped.
   *
   * @default {undefined}
   */
  signal?: AbortSignal;
  /**
   * Rejects with a `TimeoutError` `DOMException` after this many milliseconds (0: none).
   *
   * @default {PeerOptions.requestTimeoutMs}
   */
  timeoutMs?: number;
  /**
   * How many times to resend after a RetryResult (buffer requests only).
   *
   * @default {PeerOptions.maxRetries}
   */
  maxRetries?: number;
}

/**
 * A streaming request in flight: write the request parts to `writable` (closing it ends the
 * request), read the result parts from `readable` (a single result arrives as one part; an
 * ErrorResult errors it with a {@linkcode RemoteError}).
 *
 * @example Usage
 * ```ts ignore
 * const { writable, readable } = peer.streamRequest("stream-echo");
 * const writer = writable.getWriter();
 * await writer.write(new TextEncoder().encode("part"));
 * await writer.close();
 * for await (const part of readable) console.log(part);
 * ```
 */
export interface StreamRequest {
  /** Request parts; `close()` ends the request, `abort()` cancels it. */
  readonly writable: WritableStream<Uint8Array>;
  /** Result parts. Cancelling it cancels the request. */
  readonly readable: ReadableStream<Uint8Array>;
}

/**
 * Options for {@linkcode Peer.close}.
 *
 * @example Usage
 * ```ts
 * import type { CloseOptions } from "@gotalk/gotalk";
 * import assert from "node:assert/strict";
 *
 * const options: CloseOptions = { timeoutMs: 2000 };
 * assert.equal(options.timeoutMs, 2000);
 * ```
 */
export interface CloseOptions {
  /**
   * How long in-flight work (requests both ways, streams) may take to finish before the
   * connection is closed anyway, in milliseconds.
   *
   * @default {5000}
   */
  timeoutMs?: number;
}

const EMPTY = new Uint8Array(0);
/** Printable id characters: ids stay valid text for gotalk.js, which reads them as a string. */
const ID_CHARS = new TextEncoder().encode(
  "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz-_",
);
const ID_SPACE = 64 ** 4;
const textDecoder = new TextDecoder();
/** Stream queues count bytes, so `desiredSize` tells how far a consumer is behind. */
const byteSize = (c: Uint8Array) => c.byteLength;
/** setTimeout's longest delay. */
const MAX_TIMER_MS = 0x7fffffff;

type TimerHandle = ReturnType<typeof setTimeout>;

function unrefTimer(t: unknown): void {
  // Node and Bun timers have unref(); Deno's are numbers (nothing to do).
  if (typeof t === "object" && t !== null && "unref" in t && typeof t.unref === "function") {
    t.unref();
  }
}

function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

function concatParts(parts: Uint8Array[], total: number): Uint8Array {
  if (parts.length === 1) return parts[0];
  const out = new Uint8Array(total);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** An outgoing request waiting for its answer. */
interface Outgoing {
  readonly op: string;
  /** `buffer`: settle a promise; `stream`: feed a readable. */
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
  /** Stream requests: the result readable's controller. */
  controller: ReadableStreamDefaultController<Uint8Array> | null;
  timer: TimerHandle | undefined;
  retryTimer: TimerHandle | undefined;
  signal: AbortSignal | undefined;
  onAbort: (() => void) | undefined;
  /** Stream requests: called when it settles (`remoteDone`: the remote ended it). */
  onSettle?: (remoteDone: boolean) => void;
}

/** An inbound stream whose consumer is behind (see `#relievePressure`). */
interface Pressured {
  controller: ReadableStreamDefaultController<Uint8Array>;
  /** Whether the stream can still receive parts. */
  active: () => boolean;
  /** Fails the stream with a StreamOverflowError. */
  fail: () => void;
}

/** A streaming request from the remote whose parts are still arriving. */
interface IncomingStream {
  controller: ReadableStreamDefaultController<Uint8Array> | null;
  /** Buffer handlers: the parts collected so far. */
  parts: Uint8Array[] | null;
  partsBytes: number;
  /** Set when it failed: later parts are dropped until the end. */
  failed: boolean;
  /** Called with the collected payload when the request ends (buffer handlers). */
  onEnd: ((payload: Uint8Array) => void) | null;
  /** Releases the request's handler slot when it fails before its handler ran. */
  release: (() => void) | null;
}

/**
 * One end of a Gotalk connection: it sends and serves requests, streams and notifications
 * over a {@linkcode Transport}, both ways at once.
 *
 * It writes the handshake as soon as it is created and does not wait for the remote's before
 * sending requests (as Go does). Every pending request settles exactly once: with its answer,
 * a typed error ({@linkcode RemoteError}, {@linkcode RetryLimitError},
 * {@linkcode ConnectionClosedError}), or its signal's reason.
 *
 * @example A request between two peers over an in-memory pipe
 * ```ts
 * import { Handlers, Peer, pipePair } from "@gotalk/gotalk";
 * import assert from "node:assert/strict";
 *
 * const [a, b] = pipePair();
 * const server = new Peer(a, {
 *   handlers: new Handlers().handle("upper", (s: string) => s.toUpperCase()),
 * });
 * const client = new Peer(b);
 * assert.equal(await client.request("upper", "hello"), "HELLO");
 * await client.close();
 * await server.closed;
 * ```
 */
export class Peer {
  readonly #transport: Transport;
  readonly #handlers: Handlers;
  readonly #writer: FrameWriter;
  readonly #reader: ReadableStreamDefaultReader<Uint8Array>;
  readonly #decoder: MessageDecoder;
  readonly #maxPayload: number;
  readonly #maxBufferRequests: number;
  readonly #maxStreamRequests: number;
  readonly #retryMin: number;
  readonly #retryMax: number;
  readonly #maxRetries: number;
  readonly #requestTimeout: number;
  readonly #streamBuffer: number;
  readonly #streamStall: number;
  /** Streams whose consumer is `streamBufferBytes` behind: the read loop waits for them. */
  #pressured: Pressured[] = [];
  /** Woken by any inbound stream's `pull` (its consumer caught up below the limit). */
  #pullWaiter: (() => void) | undefined;
  readonly #onPull = (): void => {
    const w = this.#pullWaiter;
    this.#pullWaiter = undefined;
    w?.();
  };
  /** The read loop pauses while more than this much waits to be written. */
  readonly #readPauseBytes: number;
  readonly #readTimeout: number;
  readonly #heartbeatLoad: () => number;
  readonly #onHeartbeat: ((hb: Heartbeat) => void) | undefined;
  readonly #onError: ((error: unknown) => void) | undefined;

  readonly #pending = new Map<RequestId, Outgoing>();
  readonly #incoming = new Map<RequestId, IncomingStream>();
  #nextId = 0;
  #activeBuffer = 0;
  #activeStream = 0;
  /** Incoming requests being handled (buffer and stream). */
  #handling = 0;
  /** Outgoing stream requests whose request side is still open. */
  #openUploads = 0;
  #state: "open" | "closing" | "closed" = "open";
  #closeError: Error | undefined;
  #idleWaiters: Array<() => void> = [];
  readonly #abort = new AbortController();
  readonly #closed: Promise<Error | undefined>;
  #resolveClosed!: (error: Error | undefined) => void;
  readonly #ready: Promise<void>;
  #resolveReady!: () => void;
  #rejectReady!: (error: unknown) => void;
  #handshaken = false;
  #lastHeartbeat: Heartbeat | undefined;
  #lastRead = Date.now();
  #handshakeTimer: TimerHandle | undefined;
  #readTimer: TimerHandle | undefined;
  #heartbeatTimer: ReturnType<typeof setInterval> | undefined;

  /**
   * Starts a peer on `transport`: sends the handshake and starts reading.
   *
   * @param transport The byte streams to talk over; the peer owns them from now on.
   * @param options Handlers, limits and timeouts.
   * @throws {RangeError} If an option is out of range.
   */
  constructor(transport: Transport, options: PeerOptions = {}) {
    this.#transport = transport;
    this.#handlers = options.handlers ?? new Handlers();
    this.#maxPayload = nonNegative(
      options.maxPayloadBytes ?? DEFAULT_MAX_PAYLOAD_BYTES,
      "maxPayloadBytes",
    );
    this.#maxBufferRequests = limit(options.maxBufferRequests ?? Infinity, "maxBufferRequests");
    this.#maxStreamRequests = limit(options.maxStreamRequests ?? Infinity, "maxStreamRequests");
    this.#retryMin = nonNegative(options.retryWaitMinMs ?? 500, "retryWaitMinMs");
    this.#retryMax = nonNegative(options.retryWaitMaxMs ?? 5000, "retryWaitMaxMs");
    if (this.#retryMax < this.#retryMin) {
      throw new RangeError("retryWaitMaxMs must not be less than retryWaitMinMs");
    }
    this.#maxRetries = nonNegative(options.maxRetries ?? 3, "maxRetries");
    this.#requestTimeout = nonNegative(options.requestTimeoutMs ?? 0, "requestTimeoutMs");
    this.#streamStall = nonNegative(options.streamStallTimeoutMs ?? 5000, "streamStallTimeoutMs");
    this.#streamBuffer = nonNegative(
      options.streamBufferBytes ?? 4 * 1024 * 1024,
      "streamBufferBytes",
    );
    this.#readTimeout = nonNegative(options.readTimeoutMs ?? 0, "readTimeoutMs");
    const handshakeTimeout = nonNegative(
      options.handshakeTimeoutMs ?? 10_000,
      "handshakeTimeoutMs",
    );
    const heartbeatInterval = nonNegative(
      options.heartbeatIntervalMs ?? 15_000,
      "heartbeatIntervalMs",
    );
    this.#heartbeatLoad = options.heartbeatLoad ?? (() => 0);
    this.#onHeartbeat = options.onHeartbeat;
    this.#onError = options.onError;
    this.#decoder = new MessageDecoder({ handshake: true, maxPayloadBytes: this.#maxPayload });
    this.#closed = new Promise((resolve) => this.#resolveClosed = resolve);
    this.#ready = new Promise((resolve, reject) => {
      this.#resolveReady = resolve;
      this.#rejectReady = reject;
    });
    this.#ready.catch(() => {});

    const writeBuffer = nonNegative(options.writeBufferBytes ?? 1024 * 1024, "writeBufferBytes");
    // A remote that sends but never reads: stop reading once this much waits to be written
    // (results its requests produced), so that memory stays bounded.
    this.#readPauseBytes = Math.max(16 * writeBuffer, 16 * 1024 * 1024);
    this.#writer = new FrameWriter(
      transport.writable,
      writeBuffer,
      (error) =>
        this.#finish(
          new ConnectionClosedError("Writing to the connection failed", { cause: error }),
          false,
        ),
    );
    this.#reader = transport.readable.getReader();
    this.#writer.sendRaw(encodeHandshake());

    if (handshakeTimeout > 0) {
      this.#handshakeTimer = setTimeout(() => {
        if (!this.#handshaken) {
          this.#protocolFailure(
            new ProtocolError("The remote sent no handshake in time", {
              code: ProtocolErrorCode.Timeout,
            }),
          );
        }
      }, handshakeTimeout);
      unrefTimer(this.#handshakeTimer);
    }
    if (this.#readTimeout > 0) this.#armReadTimer(this.#readTimeout);
    if (heartbeatInterval > 0) {
      this.#heartbeatTimer = setInterval(() => this.#sendHeartbeat(), heartbeatInterval);
      unrefTimer(this.#heartbeatTimer);
    }
    this.#readLoop();
  }

  /**
   * Resolves when the remote's handshake arrived with a supported version; rejects if the
   * connection closes first.
   *
   * @returns A promise.
   *
   * @example Usage
   * ```ts
   * import { Peer, pipePair } from "@gotalk/gotalk";
   *
   * const [a, b] = pipePair();
   * const p = new Peer(a);
   * const q = new Peer(b);
   * await p.ready;
   * p.abort();
   * q.abort();
   * ```
   */
  get ready(): Promise<void> {
    return this.#ready;
  }

  /**
   * Resolves when the connection is closed: with `undefined` after a normal close, or with the
   * error that closed it (a {@linkcode ProtocolError}, remote or local, or a
   * {@linkcode ConnectionClosedError} with the transport's error as its cause). Never rejects.
   *
   * @returns A promise.
   *
   * @example Usage
   * ```ts
   * import { Peer, pipePair } from "@gotalk/gotalk";
   * import assert from "node:assert/strict";
   *
   * const [a, b] = pipePair();
   * const p = new Peer(a);
   * const q = new Peer(b);
   * p.abort();
   * assert.equal(await p.closed, undefined);
   * await q.closed;
   * ```
   */
  get closed(): Promise<Error | undefined> {
    return this.#closed;
  }

  /**
   * Whether the peer still takes new requests (it is neither closing nor closed).
   *
   * @returns `true` while open.
   *
   * @example Usage
   * ```ts
   * import { Peer, pipePair } from "@gotalk/gotalk";
   * import assert from "node:assert/strict";
   *
   * const [a, b] = pipePair();
   * const p = new Peer(a);
   * assert.equal(p.isOpen, true);
   * p.abort();
   * assert.equal(p.isOpen, false);
   * b.close?.();
   * ```
   */
  get isOpen(): boolean {
    return this.#state === "open";
  }

  /**
   * The most recent heartbeat from the remote, if any.
   *
   * @returns The heartbeat, or `undefined`.
   *
   * @example Usage
   * ```ts
   * import { Peer, pipePair } from "@gotalk/gotalk";
   * import assert from "node:assert/strict";
   *
   * const [a, b] = pipePair();
   * const p = new Peer(a, { heartbeatIntervalMs: 0 });
   * assert.equal(p.lastHeartbeat, undefined);
   * p.abort();
   * b.close?.();
   * ```
   */
  get lastHeartbeat(): Heartbeat | undefined {
    return this.#lastHeartbeat;
  }

  /**
   * The number of outgoing requests waiting for an answer.
   *
   * @returns The count.
   *
   * @example Usage
   * ```ts
   * import { Peer, pipePair } from "@gotalk/gotalk";
   * import assert from "node:assert/strict";
   *
   * const [a, b] = pipePair();
   * const p = new Peer(a);
   * assert.equal(p.pendingRequests, 0);
   * p.abort();
   * b.close?.();
   * ```
   */
  get pendingRequests(): number {
    return this.#pending.size;
  }

  /**
   * Sends a JSON request and resolves with the JSON result.
   *
   * @typeParam T The result type (not checked).
   * @param op The operation.
   * @param value The request value (`JSON.stringify`-able; `undefined` sends an empty payload).
   * @param options A signal, a timeout, a retry budget.
   * @returns The parsed result (`undefined` for an empty result).
   * @throws {RemoteError} When the remote answers with an ErrorResult.
   * @throws {RetryLimitError} When the remote keeps answering with RetryResults.
   * @throws {ConnectionClosedError} When the connection closes first.
   * @throws {SyntaxError} When the result is not valid JSON.
   *
   * @example Usage
   * ```ts
   * import { Handlers, Peer, pipePair } from "@gotalk/gotalk";
   * import assert from "node:assert/strict";
   *
   * const [a, b] = pipePair();
   * const server = new Peer(a, { handlers: new Handlers().handle("add", ([x, y]: number[]) => x + y) });
   * const client = new Peer(b);
   * assert.equal(await client.request<number>("add", [1, 2]), 3);
   * client.abort();
   * server.abort();
   * ```
   */
  async request<T = unknown>(op: string, value?: unknown, options?: RequestOptions): Promise<T> {
    return decodeJson(await this.bufferRequest(op, encodeJson(value), options)) as T;
  }

  /**
   * Sends a request with a raw payload and resolves with the raw result. A streaming result is
   * collected into one buffer (up to `maxPayloadBytes`).
   *
   * @param op The operation.
   * @param payload The request payload (do not modify it until the request settles).
   * @param options A signal, a timeout, a retry budget.
   * @returns The result payload.
   * @throws {RemoteError} When the remote answers with an ErrorResult.
   * @throws {RetryLimitError} When the remote keeps answering with RetryResults.
   * @throws {ConnectionClosedError} When the connection closes first.
   * @throws {RangeError} When the payload or a collected streaming result exceeds the limits.
   *
   * @example Usage
   * ```ts
   * import { Handlers, Peer, pipePair } from "@gotalk/gotalk";
   * import assert from "node:assert/strict";
   *
   * const [a, b] = pipePair();
   * const server = new Peer(a, { handlers: new Handlers().handleBuffer("echo", (p) => p) });
   * const client = new Peer(b);
   * const out = await client.bufferRequest("echo", new Uint8Array([1, 2, 3]));
   * assert.deepEqual(out, new Uint8Array([1, 2, 3]));
   * client.abort();
   * server.abort();
   * ```
   */
  bufferRequest(op: string, payload: Uint8Array, options?: RequestOptions): Promise<Uint8Array> {
    if (this.#state !== "open") return Promise.reject(this.#closedError());
    if (payload.length > 0xffffffff) {
      return Promise.reject(new RangeError(`A payload is at most 4294967295 bytes`));
    }
    const signal = options?.signal;
    if (signal?.aborted) return Promise.reject(signal.reason);
    return new Promise<Uint8Array>((resolve, reject) => {
      const out: Outgoing = {
        op,
        stream: false,
        payload,
        attempts: 1,
        maxRetries: options?.maxRetries ?? this.#maxRetries,
        parts: null,
        partsBytes: 0,
        resolve,
        reject,
        controller: null,
        timer: undefined,
        retryTimer: undefined,
        signal,
        onAbort: undefined,
      };
      const id = this.#allocId(out);
      this.#watch(id, out, options);
      if (this.#writer.writable) {
        this.#writer.send({ type: "r", id, name: op, payload });
      } else {
        this.#writer.drained().then(() => {
          if (this.#pending.get(id) === out) {
            this.#writer.send({ type: "r", id, name: op, payload });
          }
        });
      }
    });
  }

  /**
   * Starts a streaming request: write its parts, read its result parts.
   *
   * Streaming requests are never retried: a RetryResult errors the result with a
   * {@linkcode RetryLimitError}.
   *
   * @param op The operation.
   * @param options A signal and a timeout.
   * @returns The request's writable and the result's readable.
   *
   * @example Usage
   * ```ts
   * import { Handlers, Peer, pipePair } from "@gotalk/gotalk";
   * import assert from "node:assert/strict";
   *
   * const [a, b] = pipePair();
   * const server = new Peer(a, { handlers: new Handlers().handleStream("echo", (parts) => parts) });
   * const client = new Peer(b);
   * const { writable, readable } = client.streamRequest("echo");
   * const writer = writable.getWriter();
   * await writer.write(new TextEncoder().encode("a"));
   * await writer.write(new TextEncoder().encode("b"));
   * await writer.close();
   * const parts: string[] = [];
   * for await (const part of readable) parts.push(new TextDecoder().decode(part));
   * assert.deepEqual(parts, ["a", "b"]);
   * client.abort();
   * server.abort();
   * ```
   */
  streamRequest(op: string, options?: Omit<RequestOptions, "maxRetries">): StreamRequest {
    let out: Outgoing | undefined;
    let id = 0;
    let started = false;
    let ended = false;
    const signal = options?.signal;
    const readable = new ReadableStream<Uint8Array>({
      start: (controller) => {
        if (this.#state !== "open") {
          controller.error(this.#closedError());
          return;
        }
        if (signal?.aborted) {
          controller.error(signal.reason);
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
            try {
              controller.error(e);
            } catch { /* already closed */ }
          },
          onSettle: (remoteDone) => endUpload(!remoteDone && started),
          controller,
          timer: undefined,
          retryTimer: undefined,
          signal,
          onAbort: undefined,
        };
        id = this.#allocId(out);
        this.#watch(id, out, options);
        this.#openUploads++;
      },
      pull: this.#onPull,
      cancel: () => {
        if (out && this.#pending.get(id) === out) this.#settle(id, out, false);
      },
    }, { highWaterMark: this.#streamBuffer, size: byteSize });
    /** Ends the request side; `send`: tell the remote (not when it already answered). */
    const endUpload = (send: boolean) => {
      if (ended || !out) return;
      ended = true;
      this.#openUploads--;
      if (send && !this.#isClosed()) {
        if (!started) this.#writer.send({ type: "s", id, name: op, payload: EMPTY });
        this.#writer.send({ type: "p", id, payload: EMPTY });
      }
      this.#checkIdle();
    };
    const writable = new WritableStream<Uint8Array>({
      write: async (chunk) => {
        if (!out || ended) throw this.#closedError();
        if (this.#pending.get(id) !== out) {
          // The request already ended on the remote side (an error, or an answer).
          throw new ConnectionClosedError("The streaming request has ended");
        }
        if (chunk.length === 0) return; // an empty part would end the request
        if (!this.#writer.writable) await this.#writer.drained();
        if (this.#isClosed()) throw this.#closedError();
        if (!started) {
          started = true;
          this.#writer.send({ type: "s", id, name: op, payload: chunk });
        } else {
          this.#writer.send({ type: "p", id, payload: chunk });
        }
      },
      close: () => {
        endUpload(out !== undefined && this.#pending.get(id) === out);
      },
      abort: () => {
        if (out && this.#pending.get(id) === out) {
          this.#settle(id, out, false);
          out.reject(new DOMException("The streaming request was aborted", "AbortError"));
        }
      },
    });
    return { writable, readable };
  }

  /**
   * Sends a JSON notification.
   *
   * @param name The notification name.
   * @param value The value (`JSON.stringify`-able).
   * @returns Resolves once the notification is queued for writing (waiting while the write
   * backlog is full).
   * @throws {ConnectionClosedError} When the connection is closed.
   *
   * @example Usage
   * ```ts
   * import { Handlers, Peer, pipePair } from "@gotalk/gotalk";
   * import assert from "node:assert/strict";
   *
   * const [a, b] = pipePair();
   * const got = Promise.withResolvers<string>();
   * const server = new Peer(a, { handlers: new Handlers().handleNotification("hi", got.resolve) });
   * const client = new Peer(b);
   * await client.notify("hi", "there");
   * assert.equal(await got.promise, "there");
   * client.abort();
   * server.abort();
   * ```
   */
  notify(name: string, value?: unknown): Promise<void> {
    return this.bufferNotify(name, encodeJson(value));
  }

  /**
   * Sends a notification with a raw payload.
   *
   * @param name The notification name.
   * @param payload The payload (do not modify it afterwards).
   * @returns Resolves once the notification is queued for writing.
   * @throws {ConnectionClosedError} When the connection is closed.
   *
   * @example Usage
   * ```ts
   * import { Peer, pipePair } from "@gotalk/gotalk";
   *
   * const [a, b] = pipePair();
   * const client = new Peer(b);
   * const server = new Peer(a);
   * await client.bufferNotify("blob", new Uint8Array([1]));
   * client.abort();
   * server.abort();
   * ```
   */
  async bufferNotify(name: string, payload: Uint8Array): Promise<void> {
    if (this.#isClosed()) throw this.#closedError();
    if (!this.#writer.writable) await this.#writer.drained();
    if (this.#isClosed()) throw this.#closedError();
    this.#writer.send({ type: "n", name, payload });
  }

  /**
   * Closes gracefully: stops taking new work (new outgoing requests reject, new incoming ones
   * get an ErrorResult), lets in-flight work finish for up to `timeoutMs`, then closes the
   * connection. Requests still pending then reject with {@linkcode ConnectionClosedError}.
   *
   * @param options The deadline.
   * @returns Resolves when the connection is closed.
   *
   * @example Usage
   * ```ts
   * import { Handlers, Peer, pipePair } from "@gotalk/gotalk";
   * import assert from "node:assert/strict";
   *
   * const [a, b] = pipePair();
   * const server = new Peer(a, { handlers: new Handlers().handle("ok", () => true) });
   * const client = new Peer(b);
   * const answer = client.request("ok");
   * await client.close();
   * assert.equal(await answer, true);
   * await server.closed;
   * ```
   */
  async close(options?: CloseOptions): Promise<void> {
    if (this.#isClosed()) return;
    if (this.#state === "open") {
      this.#state = "closing";
      const timeoutMs = options?.timeoutMs ?? 5000;
      let timer: TimerHandle | undefined;
      await Promise.race([
        this.#idle(),
        new Promise<void>((resolve) => timer = setTimeout(resolve, timeoutMs)),
      ]);
      clearTimeout(timer);
      this.#finish(undefined, true);
    }
    await this.#closed;
  }

  /**
   * Closes at once: pending requests reject with {@linkcode ConnectionClosedError}, streams
   * error, the transport is torn down.
   *
   * @param reason Why (becomes the `cause` of the errors; `closed` resolves with it if it is an
   * `Error`).
   *
   * @example Usage
   * ```ts
   * import { ConnectionClosedError, Handlers, Peer, pipePair } from "@gotalk/gotalk";
   * import assert from "node:assert/strict";
   *
   * const [a, b] = pipePair();
   * const server = new Peer(a, { handlers: new Handlers().handle("never", () => new Promise(() => {})) });
   * const client = new Peer(b);
   * const answer = client.request("never");
   * client.abort();
   * await assert.rejects(answer, ConnectionClosedError);
   * server.abort();
   * ```
   */
  abort(reason?: unknown): void {
    this.#finish(reason instanceof Error ? reason : undefined, false, reason);
  }

  // ---------------------------------------------------------------------------------------
  // Outgoing requests

  #allocId(out: Outgoing): RequestId {
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

  /** Arms the timeout and abort signal of a new outgoing request. */
  #watch(id: RequestId, out: Outgoing, options: RequestOptions | undefined): void {
    const timeoutMs = options?.timeoutMs ?? this.#requestTimeout;
    if (timeoutMs > 0) {
      out.timer = setTimeout(() => {
        if (this.#pending.get(id) !== out) return;
        this.#settle(id, out, false);
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
      out.onAbort = () => {
        if (this.#pending.get(id) !== out) return;
        this.#settle(id, out, false);
        out.reject(signal.reason);
      };
      signal.addEventListener("abort", out.onAbort, { once: true });
    }
  }

  /**
   * Forgets an outgoing request (the caller settles it). `remoteDone`: the remote answered, so
   * a streaming request must not be ended on the wire (Go drops a connection that sends a part
   * for an id it no longer knows).
   */
  #settle(id: RequestId, out: Outgoing, remoteDone = true): void {
    this.#pending.delete(id);
    if (out.timer !== undefined) clearTimeout(out.timer);
    if (out.retryTimer !== undefined) clearTimeout(out.retryTimer);
    if (out.onAbort) out.signal!.removeEventListener("abort", out.onAbort);
    out.onSettle?.(remoteDone);
    this.#checkIdle();
  }

  #onResult(m: PayloadMessage | RetryMessage): void {
    const id = m.id;
    const out = this.#pending.get(id);
    if (out === undefined) return; // late answer to an aborted request: dropped
    switch (m.type) {
      case "R":
        this.#settle(id, out);
        if (out.stream) {
          const c = out.controller!;
          if (m.payload.length > 0) c.enqueue(m.payload);
          c.close();
        } else {
          out.resolve(m.payload);
        }
        return;
      case "S":
        if (out.stream) {
          const c = out.controller!;
          if (m.payload.length === 0) {
            this.#settle(id, out);
            c.close();
          } else {
            c.enqueue(m.payload);
            if ((c.desiredSize ?? 1) <= 0) {
              this.#pressured.push({
                controller: c,
                active: () => this.#pending.get(id) === out,
                fail: () => {
                  this.#settle(id, out, false);
                  out.reject(new StreamOverflowError(this.#streamBuffer));
                },
              });
            }
          }
          return;
        }
        if (m.payload.length === 0) {
          this.#settle(id, out);
          out.resolve(concatParts(out.parts ?? [EMPTY], out.partsBytes));
          return;
        }
        if (out.partsBytes + m.payload.length > this.#maxPayload) {
          this.#settle(id, out);
          out.reject(
            new RangeError(`The streaming result of "${out.op}" exceeds ${this.#maxPayload} bytes`),
          );
          return;
        }
        (out.parts ??= []).push(m.payload);
        out.partsBytes += m.payload.length;
        return;
      case "E":
        this.#settle(id, out);
        out.reject(new RemoteError(out.op, m.payload));
        return;
      case "e": {
        const text = textDecoder.decode(m.payload);
        if (out.stream || out.attempts > out.maxRetries) {
          this.#settle(id, out);
          out.reject(new RetryLimitError(out.op, text, { wait: m.wait, attempts: out.attempts }));
          return;
        }
        out.attempts++;
        out.retryTimer = setTimeout(() => {
          out.retryTimer = undefined;
          if (this.#pending.get(id) !== out || this.#isClosed()) return;
          this.#writer.send({ type: "r", id, name: out.op, payload: out.payload });
        }, Math.min(m.wait, MAX_TIMER_MS));
        return;
      }
    }
  }

  // ---------------------------------------------------------------------------------------
  // Incoming requests

  /** Releases the slot of a buffer request (made once: no closure per request). */
  readonly #bufferDone = (): void => {
    this.#activeBuffer--;
    this.#handling--;
    this.#checkIdle();
  };

  /** Releases the slot of a streaming request. */
  readonly #streamDone = (): void => {
    this.#activeStream--;
    this.#handling--;
    this.#checkIdle();
  };

  #context(op: string): RequestContext {
    return { peer: this, op, signal: this.#abort.signal };
  }

  #onRequest(m: RequestMessage): void {
    const id = m.id;
    const stream = m.type === "s";
    if (this.#state !== "open") {
      this.#writer.send({ type: "E", id, payload: encodeText("The connection is closing") });
      if (stream) this.#incoming.set(id, dropStream());
      return;
    }
    if (stream && this.#incoming.has(id)) {
      // An id reused while its stream is open: the stream is broken beyond repair.
      throw new ProtocolError(`A streaming request reused the open id ${id}`, {
        code: ProtocolErrorCode.InvalidMessage,
      });
    }
    const limit = stream ? this.#maxStreamRequests : this.#maxBufferRequests;
    const active = stream ? this.#activeStream : this.#activeBuffer;
    if (active >= limit) {
      const wait = this.#retryMin +
        Math.floor(Math.random() * (this.#retryMax - this.#retryMin + 1));
      this.#writer.send({ type: "e", id, wait, payload: encodeText("request rate limit") });
      if (stream) this.#incoming.set(id, dropStream());
      return;
    }
    const entry = this.#handlers.findRequestHandler(m.name);
    if (entry === undefined) {
      this.#writer.send({
        type: "E",
        id,
        payload: encodeText(`unknown operation ${JSON.stringify(m.name)}`),
      });
      if (stream) this.#incoming.set(id, dropStream());
      return;
    }
    if (stream) this.#activeStream++;
    else this.#activeBuffer++;
    this.#handling++;
    const done = stream ? this.#streamDone : this.#bufferDone;
    const ctx = this.#context(m.name);
    if (!stream) {
      // The payload may be a view into a transport chunk: it stays valid (chunks are fresh).
      if (entry.input === "buffer") {
        this.#run(id, entry, m.payload, ctx, done);
      } else {
        const parts = new ReadableStream<Uint8Array>({
          start(c) {
            if (m.payload.length > 0) c.enqueue(m.payload);
            c.close();
          },
        });
        this.#run(id, entry, parts, ctx, done);
      }
      return;
    }
    const incoming: IncomingStream = {
      controller: null,
      parts: null,
      partsBytes: 0,
      failed: false,
      onEnd: null,
      release: null,
    };
    this.#incoming.set(id, incoming);
    if (entry.input === "stream") {
      const parts = new ReadableStream<Uint8Array>({
        start(c) {
          incoming.controller = c;
        },
        pull: this.#onPull,
      }, { highWaterMark: this.#streamBuffer, size: byteSize });
      this.#onPart(id, incoming, m.payload, false);
      this.#run(id, entry, parts, ctx, done);
    } else {
      incoming.parts = [];
      incoming.onEnd = (payload) => this.#run(id, entry, payload, ctx, done);
      incoming.release = done;
      this.#onPart(id, incoming, m.payload, false);
    }
  }

  /** A part of an incoming streaming request (`final`: the empty part that ends it). */
  #onPart(id: RequestId, s: IncomingStream, payload: Uint8Array, final: boolean): void {
    if (final) {
      this.#incoming.delete(id);
      if (s.failed) return;
      if (s.controller) {
        s.controller.close();
      } else if (s.onEnd) {
        s.onEnd(concatParts(s.parts!.length ? s.parts! : [EMPTY], s.partsBytes));
      }
      return;
    }
    if (s.failed || payload.length === 0) return;
    if (s.controller) {
      const c = s.controller;
      c.enqueue(payload);
      if ((c.desiredSize ?? 1) <= 0) {
        this.#pressured.push({
          controller: c,
          active: () => !s.failed && this.#incoming.get(id) === s,
          fail: () => {
            s.failed = true;
            c.error(new StreamOverflowError(this.#streamBuffer));
          },
        });
      }
      return;
    }
    if (s.parts) {
      if (s.partsBytes + payload.length > this.#maxPayload) {
        s.failed = true;
        s.parts = null;
        this.#writer.send({
          type: "E",
          id,
          payload: encodeText(`The streaming request exceeds ${this.#maxPayload} bytes`),
        });
        s.release?.();
        return;
      }
      s.parts.push(payload);
      s.partsBytes += payload.length;
    }
  }

  /** Runs a handler and sends its result (single, streaming, or an ErrorResult). */
  #run(
    id: RequestId,
    entry: RequestHandlerEntry,
    input: Uint8Array | ReadableStream<Uint8Array>,
    ctx: RequestContext,
    done: () => void,
  ): void {
    let result: HandlerResult | Promise<HandlerResult>;
    const fn = entry.fn as (
      input: Uint8Array | ReadableStream<Uint8Array>,
      ctx: RequestContext,
    ) => HandlerResult | Promise<HandlerResult>;
    try {
      result = fn(input, ctx);
    } catch (e) {
      this.#sendError(id, e);
      done();
      return;
    }
    // A result at hand is sent at once: no promise on the path of a synchronous handler.
    if (result instanceof Uint8Array) {
      try {
        this.#sendResult(id, result);
      } finally {
        done();
      }
      return;
    }
    if (result instanceof ReadableStream) {
      this.#streamResult(id, result, done);
      return;
    }
    (result instanceof Promise ? result : Promise.resolve(result)).then(
      (r) => {
        if (r instanceof ReadableStream) {
          this.#streamResult(id, r, done);
          return;
        }
        try {
          this.#sendResult(id, r);
        } finally {
          done();
        }
      },
      (e) => {
        try {
          this.#sendError(id, e);
        } finally {
          done();
        }
      },
    ).catch((e) => this.#reportError(e));
  }

  #streamResult(id: RequestId, stream: ReadableStream<Uint8Array>, done: () => void): void {
    this.#sendStream(id, stream).then(done, (e) => {
      done();
      this.#reportError(e);
    });
  }

  #sendResult(id: RequestId, payload: Uint8Array): void {
    if (this.#isClosed()) return;
    if (!(payload instanceof Uint8Array)) {
      this.#sendError(
        id,
        new TypeError("A buffer handler must return a Uint8Array or a ReadableStream"),
      );
      return;
    }
    this.#writer.send({ type: "R", id, payload });
  }

  #sendError(id: RequestId, e: unknown): void {
    if (this.#isClosed()) return;
    const payload = e instanceof RemoteError ? e.payload : encodeText(errorText(e));
    this.#writer.send({ type: "E", id, payload });
  }

  async #sendStream(id: RequestId, stream: ReadableStream<Uint8Array>): Promise<void> {
    const reader = stream.getReader();
    let sent = false;
    try {
      while (true) {
        if (!this.#writer.writable) await this.#writer.drained();
        if (this.#isClosed()) {
          await reader.cancel();
          return;
        }
        const { done, value } = await reader.read();
        if (done) break;
        if (value.length === 0) continue; // an empty part would end the result
        this.#writer.send({ type: "S", id, payload: value });
        sent = true;
      }
      if (!this.#isClosed()) this.#writer.send({ type: "S", id, payload: EMPTY });
    } catch (e) {
      if (this.#isClosed()) return;
      // Go sends the ErrorResult and then ends the stream; ending it first is cleaner, but a
      // Go client only settles a streaming result on its end: send both, error first.
      this.#sendError(id, e);
      if (sent) this.#writer.send({ type: "S", id, payload: EMPTY });
    }
  }

  // ---------------------------------------------------------------------------------------
  // Reading

  async #readLoop(): Promise<void> {
    const reader = this.#reader;
    const decoder = this.#decoder;
    const onMessage = this.#onMessage;
    try {
      while (!this.#isClosed()) {
        const { done, value } = await reader.read();
        if (done) {
          decoder.end();
          this.#finish(
            this.#state === "open"
              ? new ConnectionClosedError("The remote closed the connection")
              : undefined,
            false,
          );
          return;
        }
        this.#lastRead = Date.now();
        decoder.push(value, onMessage);
        if (this.#pressured.length > 0) await this.#relievePressure();
        if (this.#writer.backlog > this.#readPauseBytes) {
          await this.#writer.drained();
          this.#lastRead = Date.now(); // we paused, the remote did not go quiet
        }
      }
    } catch (e) {
      if (this.#isClosed()) return;
      if (e instanceof ProtocolError) {
        this.#protocolFailure(e);
      } else {
        this.#finish(
          new ConnectionClosedError("Reading from the connection failed", { cause: e }),
          false,
        );
      }
    }
  }

  /**
   * Waits while a stream's consumer is `streamBufferBytes` behind and still reading: not
   * reading from the connection is the only flow control Gotalk has. A consumer that reads
   * nothing for `streamStallTimeoutMs` fails alone, and reading resumes.
   */
  async #relievePressure(): Promise<void> {
    const pressured = this.#pressured;
    this.#pressured = [];
    const check = Math.max(1, Math.min(100, this.#streamStall));
    for (const p of pressured) {
      let last = p.controller.desiredSize ?? 0;
      let progressAt = Date.now();
      while (!this.#isClosed() && p.active() && (p.controller.desiredSize ?? 1) <= 0) {
        let timer: TimerHandle | undefined;
        await new Promise<void>((resolve) => {
          this.#pullWaiter = resolve;
          timer = setTimeout(resolve, check);
        });
        clearTimeout(timer);
        this.#lastRead = Date.now(); // we paused, the remote did not go quiet
        const now = p.controller.desiredSize ?? 0;
        if (now > last) {
          last = now;
          progressAt = Date.now();
        } else if (Date.now() - progressAt >= this.#streamStall) {
          p.fail();
          break;
        }
      }
    }
  }

  readonly #onMessage = (m: Message): void => {
    switch (m.type) {
      case "R":
      case "S":
      case "E":
      case "e":
        this.#onResult(m as PayloadMessage | RetryMessage);
        return;
      case "r":
      case "s":
        this.#onRequest(m);
        return;
      case "p": {
        const s = this.#incoming.get(m.id);
        if (s) this.#onPart(m.id, s, m.payload, m.payload.length === 0);
        return;
      }
      case "n":
        this.#onNotification(m.name, m.payload);
        return;
      case "h":
        this.#lastHeartbeat = { load: m.load, time: m.time, receivedAt: Date.now() };
        this.#onHeartbeat?.(this.#lastHeartbeat);
        return;
      case "f":
        this.#finish(
          new ProtocolError(`The remote reported a protocol error (code ${m.code})`, {
            code: m.code,
            remote: true,
          }),
          false,
        );
        return;
      case "handshake":
        this.#handshaken = true;
        clearTimeout(this.#handshakeTimer);
        this.#resolveReady();
        return;
    }
  };

  #onNotification(name: string, payload: Uint8Array): void {
    const fn = this.#handlers.findNotificationHandler(name);
    if (fn === undefined) return;
    const ctx: NotificationContext = { peer: this, name };
    // Never awaited: a slow notification handler must not block the read loop.
    try {
      const r = fn(payload, ctx);
      if (r instanceof Promise) r.catch((e) => this.#reportError(e));
    } catch (e) {
      this.#reportError(e);
    }
  }

  #reportError(e: unknown): void {
    this.#onError?.(e);
  }

  // ---------------------------------------------------------------------------------------
  // Timers

  #armReadTimer(ms: number): void {
    this.#readTimer = setTimeout(() => {
      const idle = Date.now() - this.#lastRead;
      if (idle >= this.#readTimeout) {
        this.#protocolFailure(
          new ProtocolError(`Nothing was received for ${this.#readTimeout} ms`, {
            code: ProtocolErrorCode.Timeout,
          }),
        );
      } else {
        this.#armReadTimer(this.#readTimeout - idle);
      }
    }, ms);
    unrefTimer(this.#readTimer);
  }

  #sendHeartbeat(): void {
    if (this.#isClosed()) return;
    let load = Math.round(this.#heartbeatLoad());
    load = Math.min(0xffff, Math.max(0, Number.isFinite(load) ? load : 0));
    this.#writer.send({ type: "h", load, time: Math.floor(Date.now() / 1000) >>> 0 });
  }

  // ---------------------------------------------------------------------------------------
  // Closing

  /** A method, not a field test, so that TypeScript does not narrow it across awaits. */
  #isClosed(): boolean {
    return this.#state === "closed";
  }

  #closedError(): ConnectionClosedError {
    return new ConnectionClosedError(
      this.#state === "closing" ? "The connection is closing" : "The connection is closed",
      this.#closeError ? { cause: this.#closeError } : undefined,
    );
  }

  #idle(): Promise<void> {
    if (this.#isIdle()) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  #isIdle(): boolean {
    return this.#pending.size === 0 && this.#handling === 0 && this.#openUploads === 0;
  }

  #checkIdle(): void {
    if (this.#idleWaiters.length > 0 && this.#isIdle()) {
      const waiters = this.#idleWaiters;
      this.#idleWaiters = [];
      for (const w of waiters) w();
    }
  }

  /** Sends a ProtocolError to the remote, then closes. */
  #protocolFailure(error: ProtocolError): void {
    if (this.#isClosed()) return;
    this.#writer.send({ type: "f", code: error.code });
    this.#finish(error, true);
  }

  /**
   * Closes the connection once: settles everything pending, then flushes and closes the
   * writable (`flush`) or aborts it, cancels the reader and closes the transport.
   */
  #finish(error: Error | undefined, flush: boolean, reason: unknown = error): void {
    if (this.#isClosed()) return;
    this.#state = "closed";
    this.#closeError = error;
    clearTimeout(this.#handshakeTimer);
    clearTimeout(this.#readTimer);
    clearInterval(this.#heartbeatTimer);
    this.#abort.abort(reason ?? new ConnectionClosedError());
    const closedError = new ConnectionClosedError(
      error ? `The connection closed: ${error.message}` : "The connection closed",
      error ? { cause: error } : reason !== undefined ? { cause: reason } : undefined,
    );
    this.#rejectReady(closedError);
    const pending = [...this.#pending];
    this.#pending.clear();
    for (const [, out] of pending) {
      if (out.timer !== undefined) clearTimeout(out.timer);
      if (out.retryTimer !== undefined) clearTimeout(out.retryTimer);
      if (out.onAbort) out.signal!.removeEventListener("abort", out.onAbort);
      out.onSettle?.(true);
      out.reject(closedError);
    }
    for (const [, s] of this.#incoming) {
      if (s.controller && !s.failed) {
        try {
          s.controller.error(closedError);
        } catch { /* already closed */ }
      }
    }
    this.#incoming.clear();
    const waiters = this.#idleWaiters;
    this.#idleWaiters = [];
    for (const w of waiters) w();
    const shutdown = async () => {
      if (flush) {
        // Flush what is queued, but never wait forever on a remote that does not read.
        let timer: TimerHandle | undefined;
        const flushed = await Promise.race([
          this.#writer.close().then(() => true),
          new Promise<boolean>((resolve) => timer = setTimeout(() => resolve(false), 2000)),
        ]);
        clearTimeout(timer);
        if (!flushed) this.#writer.abort(reason);
      } else {
        this.#writer.abort(reason);
      }
      await this.#reader.cancel(reason).catch(() => {});
      try {
        this.#transport.close?.();
      } catch { /* close must not throw; ignore a transport that does */ }
    };
    shutdown().finally(() => this.#resolveClosed(error));
  }
}

function limit(n: number, name: string): number {
  if (!(n >= 0)) throw new RangeError(`${name} must be a non-negative number, got ${n}`);
  return n;
}

function nonNegative(n: number, name: string): number {
  if (!(n >= 0) || !Number.isFinite(n)) {
    throw new RangeError(`${name} must be a non-negative finite number, got ${n}`);
  }
  return n;
}

const textEncoder = new TextEncoder();
function encodeText(s: string): Uint8Array {
  return textEncoder.encode(s);
}

/** An incoming stream whose parts are dropped (it was refused). */
function dropStream(): IncomingStream {
  return {
    controller: null,
    parts: null,
    partsBytes: 0,
    failed: true,
    onEnd: null,
    release: null,
  };
}
