// This module is browser compatible.

import { DEFAULT_MAX_PAYLOAD_BYTES } from "../protocol/mod.ts";
import type { ValueCodec } from "./codec.ts";
import type { Contract } from "./contract.ts";
import { Handlers } from "./handlers.ts";
import type { Interceptor } from "./middleware.ts";
import type { Heartbeat, Session } from "./session.ts";
import type { RequestEvent } from "./telemetry.ts";
import { errorText } from "./_payload.ts";

/**
 * Where a {@linkcode Peer} logs handler and protocol errors: anything shaped like `console`
 * (the default is `globalThis.console`).
 *
 * @example A logger that collects the lines a failing handler writes
 * ```ts
 * import { Handlers, type Logger, Peer, pipePair } from "@gotalk/gotalk";
 * import assert from "node:assert/strict";
 *
 * const lines: string[] = [];
 * const logger: Logger = { error: (...args) => lines.push(args.join(" ")), warn: () => {} };
 * const [a, b] = pipePair();
 * const handlers = new Handlers().handle("fail", () => Promise.reject(new Error("boom")));
 * const server = new Peer(a, { handlers, logger });
 * const client = new Peer(b);
 * await assert.rejects(client.request("fail"));
 * assert.equal(lines.length, 1);
 * assert.match(lines[0], /"fail".*boom/);
 * client.abort();
 * server.abort();
 * ```
 */
export interface Logger {
  /** Logs an error (a handler that failed). */
  error(...args: unknown[]): void;
  /** Logs a warning (a protocol error, sent or received). */
  warn(...args: unknown[]): void;
}

/**
 * What {@linkcode PeerOptions.onHandlerError} is told besides the error.
 *
 * @example Reporting failed handlers by op
 * ```ts
 * import { type HandlerErrorInfo, Handlers, Peer, pipePair } from "@gotalk/gotalk";
 * import assert from "node:assert/strict";
 *
 * const failed: string[] = [];
 * const onHandlerError = (_error: unknown, info: HandlerErrorInfo) => void failed.push(info.op);
 * const [a, b] = pipePair();
 * const handlers = new Handlers().handle("fail", () => Promise.reject(new Error("boom")));
 * const server = new Peer(a, { handlers, onHandlerError, logger: null });
 * const client = new Peer(b);
 * await assert.rejects(client.request("fail"));
 * assert.deepEqual(failed, ["fail"]);
 * client.abort();
 * server.abort();
 * ```
 */
export interface HandlerErrorInfo {
  /** The operation of the request, or the name of the notification, whose handler failed. */
  readonly op: string;
  /** The peer that ran the handler. */
  readonly peer: Session;
}

/**
 * Options for a {@linkcode Peer}. Every limit and timeout has a finite, documented default.
 *
 * @example A default timeout for every request
 * ```ts
 * import { Handlers, Peer, type PeerOptions, pipePair } from "@gotalk/gotalk";
 * import assert from "node:assert/strict";
 *
 * const [a, b] = pipePair();
 * const server = new Peer(a, { handlers: new Handlers().handle("slow", () => new Promise(() => {})) });
 * const options: PeerOptions = { requestTimeoutMs: 20 };
 * const client = new Peer(b, options);
 * await assert.rejects(client.request("slow"), { name: "TimeoutError" });
 * client.abort();
 * server.abort();
 * ```
 *
 * @typeParam Local What this peer serves: its handlers' contract.
 * @typeParam Remote What the other side serves.
 */
export interface PeerOptions<
  Local extends Contract = Contract,
  Remote extends Contract = Contract,
> {
  /**
   * The request and notification handlers this peer serves.
   *
   * @default {new Handlers()}
   */
  handlers?: Handlers<Local, Remote>;
  /**
   * How request values, results and notification values are encoded (see
   * {@linkcode ValueCodec}): both ends must use the same. The Go reference and gotalk.js speak
   * JSON only.
   *
   * @default {jsonCodec}
   */
  codec?: ValueCodec;
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
   * (`request rate limit`) with a wait between `retryWaitMinMs` and `retryWaitMaxMs`, which Go
   * clients and ours retry; 0 refuses them all, `Infinity` (Go's default) lifts the limit. The
   * default is finite so that one connection's flood stays cheap for the others: with 50,000
   * pending `sleep` requests on one connection, another's echo took under 1 ms once they were
   * read, and at most tens of ms while they were (1,024: 21–65 ms; 4,096: 58–145 ms).
   *
   * @default {1024}
   */
  maxBufferRequests?: number;
  /**
   * The most streaming requests from the remote handled at once; more get a RetryResult; 0
   * refuses them all, `Infinity` lifts the limit (Go disables streaming requests by default).
   * Each may buffer up to `streamBufferBytes` for its handler, so this also bounds what one
   * connection's streams can hold.
   *
   * @default {128}
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
   * the 30 s read timeout of Go peers, so idle connections to Go stay open. The peers of a
   * process with the same interval share one timer: a peer's first heartbeat goes out within one
   * interval of its start, and each next one an interval after the last.
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
   * How many bytes may wait to be written before `request`, `notify`, stream writes, handler
   * results and streaming results wait for the transport to drain. It also bounds what a
   * remote that stops reading costs: once this many bytes of results wait for it, the peer stops
   * reading that connection (no new requests are taken) and its handlers' results and streams
   * wait too, so the peer holds about this much plus the one frame that crossed it (and one
   * part per streaming result in progress) until `writeStallTimeoutMs` closes it.
   *
   * @default {1048576}
   */
  writeBufferBytes?: number;
  /**
   * Close the connection with a {@linkcode WriteStallError} when bytes wait to be written and
   * the transport takes none of them for this long, in milliseconds (a remote that stopped
   * reading). 0 disables it. An idle connection, with nothing to write, is never closed by it.
   *
   * @default {30000}
   */
  writeStallTimeoutMs?: number;
  /**
   * A frame that has started must be complete within this many milliseconds, or the connection
   * closes with a timeout ProtocolError (code 3). It covers the whole frame: a remote that
   * trickles a byte now and then does not reset it (as Go's read deadline covers a message).
   * Time between frames is not counted (idle peers stay connected), nor time this peer does not
   * read on purpose. A payload of `maxPayloadBytes` must so arrive at 16 MiB / 30 s, about
   * 560 KB/s at the defaults. 0 disables it.
   *
   * @default {30000}
   */
  frameTimeoutMs?: number;
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
  /**
   * Called when a request or notification handler throws or rejects (its result is then an
   * ErrorResult), with the error and the op. It runs besides `logger` and `onError`.
   *
   * @default {undefined}
   */
  onHandlerError?: (error: unknown, info: HandlerErrorInfo) => void;
  /**
   * Where handler errors (`error`) and protocol errors, sent or received (`warn`), are logged,
   * one line each naming the op or the code, as Go logs them. `null` logs nothing.
   *
   * @default {globalThis.console}
   */
  logger?: Logger | null;
  /**
   * Whether the ErrorResult of a failed handler carries the error's message (as Go does) or
   * only `internal error`. Sending the message is what Go clients expect and helps debugging,
   * but it shows callers internal details (paths, queries, stack-free but revealing text);
   * set `false` for a server facing untrusted clients, and read the details from
   * `onHandlerError` or the logger. A thrown {@linkcode RemoteError} is always sent as it is.
   *
   * @default {true}
   */
  exposeHandlerErrors?: boolean;
  /**
   * The connection's data: `peer.data`, and `ctx.data` in middleware and handlers. A
   * {@linkcode Server} sets it to what its `onConnect` returned.
   *
   * @default {undefined}
   */
  data?: unknown;
  /**
   * Interceptors around every request and notification this peer sends, the first outermost
   * (see {@linkcode Interceptor}; `peer.intercept()` adds more).
   *
   * @default {[]}
   */
  interceptors?: readonly Interceptor[];
  /**
   * Called once for every request and notification this peer sends or handles, when it
   * ended: op, id, kind, direction, bytes, duration, outcome (see {@linkcode RequestEvent}).
   * Without a listener nothing is measured. A listener that throws is reported to `onError`.
   *
   * @default {undefined}
   */
  onRequestEvent?: (event: RequestEvent) => void;
}

/** {@linkcode PeerOptions} with every default applied and every value checked. */
export interface ResolvedOptions {
  readonly handlers: Handlers;
  readonly maxPayloadBytes: number;
  readonly maxBufferRequests: number;
  readonly maxStreamRequests: number;
  readonly retryWaitMinMs: number;
  readonly retryWaitMaxMs: number;
  readonly maxRetries: number;
  readonly handshakeTimeoutMs: number;
  readonly readTimeoutMs: number;
  readonly heartbeatIntervalMs: number;
  readonly heartbeatLoad: () => number;
  readonly requestTimeoutMs: number;
  readonly streamBufferBytes: number;
  readonly streamStallTimeoutMs: number;
  readonly writeBufferBytes: number;
  readonly writeStallTimeoutMs: number;
  readonly frameTimeoutMs: number;
  /**
   * The read loop pauses while this many bytes of replies (results of the remote's requests)
   * wait to be written: a remote that sends but never reads cannot grow memory without bound.
   */
  readonly readPauseBytes: number;
  readonly onHeartbeat: ((heartbeat: Heartbeat) => void) | undefined;
  readonly onError: ((error: unknown) => void) | undefined;
  readonly onHandlerError: ((error: unknown, info: HandlerErrorInfo) => void) | undefined;
  readonly logger: Logger | undefined;
  readonly exposeHandlerErrors: boolean;
  readonly data: unknown;
  readonly interceptors: readonly Interceptor[] | undefined;
  readonly onRequestEvent: ((event: RequestEvent) => void) | undefined;
  /** `undefined` for JSON. */
  readonly codec: ValueCodec | undefined;
}

/** The default `heartbeatLoad` (one function for every peer). */
const noLoad = (): number => 0;

/**
 * Applies the defaults to `options` and checks every value.
 *
 * @throws {RangeError} If an option is out of range.
 */
export function resolveOptions(
  options: PeerOptions<Contract, Contract>,
): ResolvedOptions {
  const retryWaitMinMs = finite(options.retryWaitMinMs ?? 500, "retryWaitMinMs");
  const retryWaitMaxMs = finite(options.retryWaitMaxMs ?? 5000, "retryWaitMaxMs");
  if (retryWaitMaxMs < retryWaitMinMs) {
    throw new RangeError("retryWaitMaxMs must not be less than retryWaitMinMs");
  }
  const writeBufferBytes = finite(options.writeBufferBytes ?? 1024 * 1024, "writeBufferBytes");
  return {
    handlers: (options.handlers as Handlers | undefined) ?? new Handlers(),
    maxPayloadBytes: finite(
      options.maxPayloadBytes ?? DEFAULT_MAX_PAYLOAD_BYTES,
      "maxPayloadBytes",
    ),
    maxBufferRequests: limit(options.maxBufferRequests ?? 1024, "maxBufferRequests"),
    maxStreamRequests: limit(options.maxStreamRequests ?? 128, "maxStreamRequests"),
    retryWaitMinMs,
    retryWaitMaxMs,
    maxRetries: finite(options.maxRetries ?? 3, "maxRetries"),
    handshakeTimeoutMs: finite(options.handshakeTimeoutMs ?? 10_000, "handshakeTimeoutMs"),
    readTimeoutMs: finite(options.readTimeoutMs ?? 0, "readTimeoutMs"),
    heartbeatIntervalMs: finite(options.heartbeatIntervalMs ?? 15_000, "heartbeatIntervalMs"),
    heartbeatLoad: options.heartbeatLoad ?? noLoad,
    requestTimeoutMs: finite(options.requestTimeoutMs ?? 0, "requestTimeoutMs"),
    streamBufferBytes: finite(options.streamBufferBytes ?? 4 * 1024 * 1024, "streamBufferBytes"),
    streamStallTimeoutMs: finite(options.streamStallTimeoutMs ?? 5000, "streamStallTimeoutMs"),
    writeBufferBytes,
    writeStallTimeoutMs: finite(options.writeStallTimeoutMs ?? 30_000, "writeStallTimeoutMs"),
    frameTimeoutMs: finite(options.frameTimeoutMs ?? 30_000, "frameTimeoutMs"),
    readPauseBytes: Math.max(1, writeBufferBytes),
    onHeartbeat: options.onHeartbeat,
    onError: options.onError,
    onHandlerError: options.onHandlerError,
    logger: options.logger === undefined
      ? (globalThis as { console?: Logger }).console
      : options.logger ?? undefined,
    exposeHandlerErrors: options.exposeHandlerErrors ?? true,
    data: options.data,
    interceptors: functions(options.interceptors, "interceptors"),
    onRequestEvent: options.onRequestEvent,
    codec: options.codec,
  };
}

/** A handler failed: log it and tell `onHandlerError` (whose own throw goes to `onError`). */
export function handlerFailed(o: ResolvedOptions, error: unknown, info: HandlerErrorInfo): void {
  o.logger?.error(`gotalk: handler for ${JSON.stringify(info.op)} failed: ${errorText(error)}`);
  try {
    o.onHandlerError?.(error, info);
  } catch (hookError) {
    o.onError?.(hookError);
  }
}

/** A list of functions (copied), or `undefined` when empty. */
function functions<T>(list: readonly T[] | undefined, name: string): readonly T[] | undefined {
  if (list === undefined) return undefined;
  if (!Array.isArray(list) || list.some((f) => typeof f !== "function")) {
    throw new TypeError(`${name} must be an array of functions`);
  }
  return list.length === 0 ? undefined : [...list];
}

/** A count limit: any non-negative number, `Infinity` included. */
function limit(n: number, name: string): number {
  if (!(n >= 0)) throw new RangeError(`${name} must be a non-negative number, got ${n}`);
  return n;
}

function finite(n: number, name: string): number {
  if (!(n >= 0) || !Number.isFinite(n)) {
    throw new RangeError(`${name} must be a non-negative finite number, got ${n}`);
  }
  return n;
}
