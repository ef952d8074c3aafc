/**
 * The catalogue's types: a {@linkcode Case} is data (the steps a raw client takes) and its
 * verdict comes from the patterns and outcomes in those steps.
 *
 * @module
 */

import type { Message } from "../../src/protocol/mod.ts";

/** A case's verdict. */
export type Verdict = "OK" | "NON-STRICT" | "UNSUPPORTED" | "FAILED";

/** The catalogue's sections, in report order. */
export const SECTIONS = [
  "handshake",
  "framing",
  "requests",
  "faults",
  "limits",
  "streams",
  "notifications",
  "heartbeats",
  "timeouts",
  "close",
  "oversized",
  "ws",
] as const;

/** A catalogue section. */
export type Section = typeof SECTIONS[number];

/** The `serve` options of the peer contract that a case needs. */
export interface ServeOptions {
  /** `--max-buffer-requests N`. */
  maxBufferRequests?: number;
  /** `--max-stream-requests N`. */
  maxStreamRequests?: number;
  /** `--read-timeout MS`. */
  readTimeoutMs?: number;
  /** `--heartbeat MS`. */
  heartbeatMs?: number;
  /** `--max-payload BYTES`. */
  maxPayload?: number;
}

/** Messages captured by `capture` in a pattern, by name. */
export type Captures = Record<string, Message>;

/** Bytes to send: fixed, or computed from earlier captures (e.g. answering a server request). */
export type Data = Uint8Array | ((c: Captures) => Uint8Array);

/** How a payload must look: exact text (UTF-8), exact bytes, a JSON value, or a predicate. */
export type PayloadMatch =
  | string
  | Uint8Array
  | { json: unknown }
  | ((payload: Uint8Array) => string | undefined);

/** A pattern over one decoded message. Unset fields match anything. */
export interface MessagePattern {
  /** The message type, or any of several. */
  type: Message["type"] | Message["type"][];
  /** The request id as 4 bytes written as a latin1 string (`"a001"`, `"\xff\x00\x00\x01"`). */
  id?: string;
  /** The same id as the message captured under this name. */
  idOf?: string;
  /** The op or notification name. */
  name?: string;
  /** The payload. */
  payload?: PayloadMatch;
  /** The ProtocolError code (`f`). */
  code?: number;
  /** The message's wire bytes, read as latin1, must match this. */
  raw?: RegExp;
  /** Any further check; returns why the message does not match, or `undefined`. */
  test?: (m: Message, c: Captures) => string | undefined;
  /** Store the matched message under this name. */
  capture?: string;
}

/** Steps that only read: usable inside a {@linkcode OneOfStep} outcome. */
export type ReadStep = ExpectStep | ExpectBytesStep | ClosedStep | SilenceStep | WsMessagesStep;

/** A transport the catalogue runs over. */
export type TransportName = "tcp" | "ws";

/** Opens another connection (`main` is opened automatically). */
export interface ConnectStep {
  do: "connect";
  conn: string;
  /** Send `01` and read the server's `01`. @default {true} */
  handshake?: boolean;
}

/** Sends bytes: one write (one WebSocket message), or one per chunk of a split. */
export interface SendStep {
  do: "send";
  conn?: string;
  data: Data;
  /** Split points: `"bytes"` for one write per byte, or offsets into `data`. */
  split?: "bytes" | number[];
  /** Pause between the chunks of a split, in ms. @default {2} */
  pauseMs?: number;
  /** WebSocket only: send text messages instead of binary ones. @default {"binary"} */
  frame?: "binary" | "text";
}

/** Reads messages: one pattern, or several matched in any order (but in order per id). */
export interface ExpectStep {
  do: "expect";
  conn?: string;
  msg: MessagePattern | MessagePattern[];
  /** @default {3000} */
  timeoutMs?: number;
  /** The (first) message must not arrive sooner than this after the last send on the conn. */
  notBeforeMs?: number;
}

/** Reads exact bytes (server heartbeats are not skipped). */
export interface ExpectBytesStep {
  do: "expectBytes";
  conn?: string;
  bytes: Data;
  /** @default {3000} */
  timeoutMs?: number;
}

/** The server closes the connection, with no further message (except the allowed ones). */
export interface ClosedStep {
  do: "closed";
  conn?: string;
  /** @default {3000} */
  timeoutMs?: number;
  /** Messages tolerated before the close (each at most once, any order). */
  allowBefore?: MessagePattern[];
  /**
   * WebSocket only: the server must end with a close frame whose code is one of these (1005 for
   * a close frame without a code). Unset: any ending, close frame or not.
   */
  closeCodes?: number[];
}

/**
 * One received WebSocket message, exactly: latin1 text, bytes, bytes computed from captures, or
 * a pattern over the message read as latin1.
 */
export type WsMessagePattern = string | Uint8Array | RegExp | ((c: Captures) => Uint8Array);

/**
 * WebSocket only: the next messages, with their boundaries, are exactly these binary messages
 * (the read position must be at a message boundary; heartbeats are not set aside).
 */
export interface WsMessagesStep {
  do: "wsMessages";
  conn?: string;
  msgs: WsMessagePattern[];
  /** For all of them. @default {3000} */
  timeoutMs?: number;
}

/** WebSocket only: sends a close frame; reading goes on. */
export interface WsCloseStep {
  do: "wsClose";
  conn?: string;
  /** The status code; none when unset (1005). */
  code?: number;
  reason?: string;
}

/** One acceptable answer to an upgrade. */
export interface UpgradeOutcome {
  /** The HTTP status (101: upgraded). */
  status: number;
  verdict: "OK" | "NON-STRICT";
  /** Why this answer is acceptable (shown in the detail). */
  note: string;
}

/**
 * WebSocket only: a new upgrade (connection `conn`, without the Gotalk handshake) with this
 * `Origin` header (`null`: none); judged by the first outcome with the status the server
 * answered. On 101 the connection is kept as `conn`.
 */
export interface UpgradeStep {
  do: "upgrade";
  conn: string;
  /** @default {"http://HOST:PORT" of the server URL} */
  origin?: string | null;
  outcomes: UpgradeOutcome[];
}

/** A plain HTTP response (headers in lower case). */
export interface HttpResponse {
  status: number;
  headers: Record<string, string>;
  body: Uint8Array;
}

/** A judgement a step may pass on the case (`OK` adds a note). */
export interface Judgement {
  verdict: "OK" | "NON-STRICT" | "UNSUPPORTED";
  note: string;
}

/**
 * WebSocket only: plain HTTP requests to the server's host (for what a Gotalk WebSocket server
 * serves besides upgrades). Throws to fail; resolves with a judgement, or `undefined` for OK.
 */
export interface HttpStep {
  do: "http";
  run: (
    get: (path: string, headers?: Record<string, string>) => Promise<HttpResponse>,
  ) => Promise<Judgement | undefined>;
}

/** Nothing arrives for `ms` and the connection stays open. */
export interface SilenceStep {
  do: "silence";
  conn?: string;
  ms: number;
  /** Whether server heartbeats break the silence. @default {"allow"} */
  heartbeats?: "allow" | "forbid";
}

/** Reads messages for `ms`, counting those that match, and requires min..max of them. */
export interface CollectStep {
  do: "collect";
  conn?: string;
  ms: number;
  msg: MessagePattern;
  min: number;
  max: number;
}

/** One acceptable reading of what the server does. */
export interface Outcome {
  verdict: "OK" | "NON-STRICT";
  /** For NON-STRICT: the deviation from the README (and that it is the reference's). */
  note: string;
  steps: ReadStep[];
}

/** The server's reaction is judged by the first outcome whose read steps all pass. */
export interface OneOfStep {
  do: "oneOf";
  outcomes: Outcome[];
}

/** Waits, for pacing only (never to hope that something has happened). */
export interface PauseStep {
  do: "pause";
  ms: number | ((c: Captures) => number);
}

/** Half-closes (`end`) or tears down (`destroy`) a connection. */
export interface CloseStep {
  do: "end" | "destroy";
  conn?: string;
}

/** Runs steps `times` times. */
export interface RepeatStep {
  do: "repeat";
  times: number;
  steps: Step[];
}

/** Sends SIGTERM to the case's own server (cases with `ownServer`). */
export interface SigtermStep {
  do: "sigterm";
}

/** The case's own server exits with `code`. */
export interface ExitedStep {
  do: "exited";
  code: number;
  /** @default {5000} */
  timeoutMs?: number;
}

/** What a {@linkcode ScriptStep} can do on its connection. */
export interface ScriptIO {
  /** Sends one chunk. */
  send(bytes: Uint8Array): Promise<void>;
  /** The next message (server heartbeats skipped). @throws on timeout or close. */
  next(timeoutMs?: number): Promise<Message>;
  /** `performance.now()`. */
  now(): number;
}

/**
 * A short bounded dialogue that data cannot express (answers depending on what came). Resolves
 * with a NON-STRICT note, or `undefined` for OK; throws to fail.
 */
export interface ScriptStep {
  do: "script";
  conn?: string;
  run: (io: ScriptIO) => Promise<string | undefined>;
}

/** One step of a case. */
export type Step =
  | ConnectStep
  | SendStep
  | ExpectStep
  | ExpectBytesStep
  | ClosedStep
  | SilenceStep
  | CollectStep
  | OneOfStep
  | PauseStep
  | CloseStep
  | RepeatStep
  | SigtermStep
  | ExitedStep
  | ScriptStep
  | WsMessagesStep
  | WsCloseStep
  | UpgradeStep
  | HttpStep;

/** A conformance case. */
export interface Case {
  /** `gotalk/<section>/<n>`. */
  id: string;
  section: Section;
  title: string;
  /** The README sentence it checks (quoted), or the reference behaviour / interop note. */
  checks: string;
  /** The serve options it needs. @default {{}} */
  serve?: ServeOptions;
  /** Whether `main` does the handshake before the steps. @default {true} */
  handshake?: boolean;
  /** The case needs a server of its own (it stops it); only the `--serve` mode can run it. */
  ownServer?: boolean;
  /**
   * The transports the case runs over (`tcp://` and `ws://` servers). The `ws` section's cases
   * are WebSocket only; nearly every other case runs over both.
   *
   * @default {["tcp", "ws"]}
   */
  transports?: TransportName[];
  steps: Step[];
}
