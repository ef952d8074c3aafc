// This module is browser compatible.

/**
 * The remote peer answered a request with an ErrorResult (`E`). `message` is the remote's text
 * and `payload` its exact bytes.
 *
 * A request handler may also throw one: its payload is then sent as the ErrorResult byte for
 * byte (any other error sends its `message`), which lets a proxy forward errors unchanged.
 *
 * @example A handler that throws: the caller gets its op and message
 * ```ts
 * import { Handlers, Peer, pipePair, RemoteError } from "@gotalk/gotalk";
 * import assert from "node:assert/strict";
 *
 * const [a, b] = pipePair();
 * const handlers = new Handlers().handle("fail", () => Promise.reject(new Error("boom")));
 * const server = new Peer(a, { handlers, logger: null });
 * const client = new Peer(b);
 * await assert.rejects(client.request("fail"), (e) => {
 *   return e instanceof RemoteError && e.op === "fail" && e.message === "boom";
 * });
 * client.abort();
 * server.abort();
 * ```
 */
export class RemoteError extends Error {
  /** The operation of the request that failed. */
  readonly op: string;
  /** The ErrorResult's payload, byte for byte (Go and gotalk.js send plain text). */
  readonly payload: Uint8Array;

  /**
   * Creates a remote error.
   *
   * @param op The operation of the failed request.
   * @param text The ErrorResult's text, or its raw bytes (decoded as UTF-8 for `message`).
   * @param options Standard error options.
   */
  constructor(op: string, text: string | Uint8Array, options?: ErrorOptions) {
    const payload = typeof text === "string" ? new TextEncoder().encode(text) : text;
    super(typeof text === "string" ? text : new TextDecoder().decode(text), options);
    this.name = "RemoteError";
    this.op = op;
    this.payload = payload;
  }
}

/**
 * The remote peer kept answering a request with a RetryResult (`e`) after the retry budget was
 * spent, or answered a streaming request (which cannot be replayed) with one.
 *
 * @example A server that takes no buffer requests: the retries run out
 * ```ts
 * import { Handlers, Peer, pipePair, RetryLimitError } from "@gotalk/gotalk";
 * import assert from "node:assert/strict";
 *
 * const [a, b] = pipePair();
 * const handlers = new Handlers().handleBuffer("echo", (bytes) => bytes);
 * const server = new Peer(a, { handlers, maxBufferRequests: 0, retryWaitMinMs: 1, retryWaitMaxMs: 1 });
 * const client = new Peer(b, { maxRetries: 2 });
 * await assert.rejects(client.bufferRequest("echo", new Uint8Array(1)), (e) => {
 *   return e instanceof RetryLimitError && e.attempts === 3 && e.text === "request rate limit";
 * });
 * client.abort();
 * server.abort();
 * ```
 */
export class RetryLimitError extends Error {
  /** The operation of the request. */
  readonly op: string;
  /** The wait the last RetryResult asked for, in milliseconds. */
  readonly wait: number;
  /** How many times the request was sent. */
  readonly attempts: number;
  /** The last RetryResult's text. */
  readonly text: string;

  /**
   * Creates a retry limit error.
   *
   * @param op The operation.
   * @param text The last RetryResult's text.
   * @param details The last wait (ms) and the number of attempts.
   * @param options Standard error options.
   */
  constructor(
    op: string,
    text: string,
    details: { wait: number; attempts: number },
    options?: ErrorOptions,
  ) {
    super(
      `Gave up on "${op}" after ${details.attempts} attempt(s): the remote asked to retry` +
        (text ? `: ${text}` : ""),
      options,
    );
    this.name = "RetryLimitError";
    this.op = op;
    this.text = text;
    this.wait = details.wait;
    this.attempts = details.attempts;
  }
}

/**
 * The connection is closed (or closing) so the operation cannot complete. Every request pending
 * when a connection closes rejects with one; `cause` says why the connection closed (a
 * {@linkcode ProtocolError}, a transport error, or nothing for a normal close).
 *
 * @example The remote goes away while a request waits
 * ```ts
 * import { ConnectionClosedError, Handlers, Peer, pipePair } from "@gotalk/gotalk";
 * import assert from "node:assert/strict";
 *
 * const [a, b] = pipePair();
 * const handlers = new Handlers().handle("slow", () => new Promise(() => {}));
 * const server = new Peer(a, { handlers });
 * const client = new Peer(b);
 * const answer = client.request("slow");
 * server.abort();
 * await assert.rejects(answer, ConnectionClosedError);
 * await client.closed;
 * ```
 */
export class ConnectionClosedError extends Error {
  /**
   * Creates a connection closed error.
   *
   * @param message What happened.
   * @param options Standard error options; `cause` is why the connection closed.
   */
  constructor(message?: string, options?: ErrorOptions) {
    super(message === undefined ? "The connection is closed" : message, options);
    this.name = "ConnectionClosedError";
  }
}

/**
 * A stream's consumer fell so far behind that its buffer limit was reached. Gotalk has no
 * per-stream flow control, so rather than stall the whole connection the one stream fails.
 *
 * @example A streaming result nobody reads
 * ```ts
 * import { Handlers, Peer, pipePair, StreamOverflowError } from "@gotalk/gotalk";
 * import assert from "node:assert/strict";
 *
 * const [a, b] = pipePair();
 * const chunks = Array.from({ length: 8 }, () => new Uint8Array(64));
 * const handlers = new Handlers().handleBuffer("feed", () => ReadableStream.from(chunks));
 * const server = new Peer(a, { handlers });
 * const client = new Peer(b, { streamBufferBytes: 128, streamStallTimeoutMs: 10 });
 * const { writable, readable } = client.streamRequest("feed");
 * await writable.close();
 * const reader = readable.getReader(); // and never read
 * await assert.rejects(reader.closed, (e) => e instanceof StreamOverflowError && e.limit === 128);
 * client.abort();
 * server.abort();
 * ```
 */
export class StreamOverflowError extends Error {
  /** The buffer limit that was reached, in bytes. */
  readonly limit: number;

  /**
   * Creates a stream overflow error.
   *
   * @param limit The buffer limit, in bytes.
   * @param options Standard error options.
   */
  constructor(limit: number, options?: ErrorOptions) {
    super(`The stream's consumer fell behind by more than ${limit} buffered bytes`, options);
    this.name = "StreamOverflowError";
    this.limit = limit;
  }
}

/**
 * The remote read nothing of what this peer wrote for `writeStallTimeoutMs`: the connection was
 * closed (the reason `closed` resolves with; pending requests reject with a
 * {@linkcode ConnectionClosedError} whose `cause` it is). A remote that stops reading must not
 * hold the results, streams and requests written for it forever.
 *
 * @example A transport that never takes a byte
 * ```ts
 * import { Peer, WriteStallError } from "@gotalk/gotalk";
 * import assert from "node:assert/strict";
 *
 * const writable = new WritableStream<Uint8Array>({ write: () => new Promise(() => {}) });
 * const peer = new Peer(
 *   { readable: new ReadableStream(), writable, close() {} },
 *   { writeStallTimeoutMs: 20, handshakeTimeoutMs: 0, logger: null },
 * );
 * // A socket keeps the process alive; this stand-in does not (the peer's timers never do).
 * const keepAlive = setInterval(() => {}, 1000);
 * const why = await peer.closed;
 * clearInterval(keepAlive);
 * assert.ok(why instanceof WriteStallError);
 * assert.equal(why.timeoutMs, 20);
 * ```
 */
export class WriteStallError extends Error {
  /** How long writes made no progress, in ms (the `writeStallTimeoutMs` in force). */
  readonly timeoutMs: number;

  /**
   * Creates a write stall error.
   *
   * @param timeoutMs The write stall timeout that passed, in ms.
   * @param options Standard error options.
   */
  constructor(timeoutMs: number, options?: ErrorOptions) {
    super(`The remote read nothing for ${timeoutMs} ms: the connection was closed`, options);
    this.name = "WriteStallError";
    this.timeoutMs = timeoutMs;
  }
}

/**
 * A payload is larger than `maxPayloadBytes` allows. On the sending side it is refused before
 * anything is written (a request, a streaming request's part, a notification, or a handler's
 * result, which is answered with an ErrorResult saying so); on the receiving side a streaming
 * result collected for a buffer request fails when it grows past the limit. Only that request
 * fails; the connection stays open.
 *
 * @example A request over the sender's own limit fails alone; the connection carries on
 * ```ts
 * import { Handlers, PayloadTooLargeError, Peer, pipePair } from "@gotalk/gotalk";
 * import assert from "node:assert/strict";
 *
 * const [a, b] = pipePair();
 * const server = new Peer(a, { handlers: new Handlers().handleBuffer("echo", (bytes) => bytes) });
 * const client = new Peer(b, { maxPayloadBytes: 8 });
 * await assert.rejects(client.bufferRequest("echo", new Uint8Array(9)), (e) => {
 *   return e instanceof PayloadTooLargeError && e.size === 9 && e.limit === 8;
 * });
 * assert.deepEqual(await client.bufferRequest("echo", new Uint8Array(8)), new Uint8Array(8));
 * client.abort();
 * server.abort();
 * ```
 */
export class PayloadTooLargeError extends Error {
  /** The operation (or notification name) the payload belongs to. */
  readonly op: string;
  /** The payload's size in bytes, or as much of it as had arrived when it passed the limit. */
  readonly size: number;
  /** The limit it passed, in bytes. */
  readonly limit: number;
  /** What the payload is: a request, a request part, a result or a notification. */
  readonly kind: PayloadKind;

  /**
   * Creates a payload-too-large error.
   *
   * @param op The operation of the request (or the notification's name).
   * @param size The payload's size in bytes (so far).
   * @param limit The limit, in bytes.
   * @param options Standard error options, and what the payload is (default `"result"`, a
   * streaming result collected as it arrives).
   */
  constructor(
    op: string,
    size: number,
    limit: number,
    options?: ErrorOptions & { kind?: PayloadKind },
  ) {
    const kind = options?.kind ?? "result";
    const [what, is, hint] = PAYLOAD_TEXTS[kind];
    super(
      `${what} "${op}" ${is} ${size} bytes, more than the ${limit} bytes that maxPayloadBytes ` +
        `allows (${hint})`,
      options,
    );
    this.name = "PayloadTooLargeError";
    this.op = op;
    this.size = size;
    this.limit = limit;
    this.kind = kind;
  }
}

/**
 * What a {@linkcode PayloadTooLargeError}'s payload is: `"result"` a streaming result collected
 * as it arrives, `"handler result"` what a handler returned, `"request"` a request's payload,
 * `"request part"` a part of a streaming request, `"notification"` a notification's payload.
 *
 * @example A notification over the sender's own limit
 * ```ts
 * import { type PayloadKind, PayloadTooLargeError, Peer, pipePair } from "@gotalk/gotalk";
 * import assert from "node:assert/strict";
 *
 * const [a, b] = pipePair();
 * const server = new Peer(a);
 * const client = new Peer(b, { maxPayloadBytes: 8 });
 * const error = await client.bufferNotify("log", new Uint8Array(9)).catch((e) => e);
 * assert.ok(error instanceof PayloadTooLargeError);
 * const kind: PayloadKind = error.kind;
 * assert.equal(kind, "notification");
 * client.abort();
 * server.abort();
 * ```
 */
export type PayloadKind =
  | "request"
  | "request part"
  | "result"
  | "handler result"
  | "notification";

/** The start, verb and advice of each kind's message. */
const PAYLOAD_TEXTS: Record<PayloadKind, [string, string, string]> = {
  "request": ["The request", "is", "raise it on both peers, or send it with streamRequest"],
  "request part": ["A part of the streaming request", "is", "raise it, or write smaller parts"],
  "result": ["The result of", "reached", "raise it, or read the result with streamRequest"],
  "handler result": ["The result of", "is", "raise it on both peers, or return a stream"],
  "notification": ["The notification", "is", "raise it on both peers"],
};

/**
 * Connecting failed: the same class on every runtime and transport (TCP, TLS and WebSocket
 * clients on Deno, Bun, Node and in browsers), whatever shape the runtime's own error has. Its
 * message reads `Could not connect to ADDRESS (CODE): WHAT HAPPENED`, and `cause` is the
 * runtime's error, when it gave one.
 *
 * `code` is the operating system's name for the failure where the runtime tells it, the same on
 * every runtime: `ECONNREFUSED` (nothing listens there), `ENOTFOUND` (the host name does not
 * resolve), `EAI_AGAIN` (the name lookup failed for now), `ETIMEDOUT`, `ECONNRESET`,
 * `ECONNABORTED`, `EHOSTUNREACH`, `ENETUNREACH` or `EADDRNOTAVAIL`. Three more are not OS codes:
 * `ETLS` (the TLS handshake failed, for example an untrusted certificate or a server that does
 * not speak TLS), `EUPGRADE` (the HTTP server answered a WebSocket upgrade with another status,
 * such as 403 or 404) and `ECONNECT` (the runtime did not say why: a browser's `WebSocket`
 * reports no reason, and Deno's reports a refused or unreachable port only as "tcp connect
 * error").
 *
 * An aborted connect rejects with the signal's reason instead.
 *
 * @example Telling a refused connection apart
 * ```ts
 * import { ConnectError } from "@gotalk/gotalk";
 * import { connect, listen } from "@gotalk/gotalk/deno";
 * import assert from "node:assert/strict";
 *
 * const listener = await listen({ hostname: "127.0.0.1", port: 0 });
 * const { port } = listener.addr;
 * listener.close(); // nothing listens on `port` any more
 * await assert.rejects(connect({ hostname: "127.0.0.1", port }), (e) => {
 *   return e instanceof ConnectError && e.code === "ECONNREFUSED" && e.address === `127.0.0.1:${port}`;
 * });
 * ```
 */
export class ConnectError extends Error {
  /** Where it tried to connect: `host:port` (IPv6 hosts in brackets), or a WebSocket's URL. */
  readonly address: string;
  /** Why, as an OS error code (`ECONNREFUSED`, `ENOTFOUND`, …), `ETLS`, `EUPGRADE` or `ECONNECT`. */
  readonly code: string;

  /**
   * Creates a connect error.
   *
   * @param address Where it tried to connect.
   * @param code The error code.
   * @param detail What happened, for the message.
   * @param options Standard error options; `cause` is the runtime's error.
   */
  constructor(address: string, code: string, detail: string, options?: ErrorOptions) {
    super(`Could not connect to ${address} (${code}): ${detail}`, options);
    this.name = "ConnectError";
    this.address = address;
    this.code = code;
  }
}
