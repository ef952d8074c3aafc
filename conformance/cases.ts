/**
 * The Gotalk v1 conformance case catalogue, modelled on h2spec and Autobahn|Testsuite: each case
 * is data (the bytes a raw client sends, with chunk splits and pauses where they matter) plus
 * small predicates over what comes back. `driver.ts` runs it against any implementation.
 *
 * Verdicts:
 * - `OK`: behaves as the rsms/gotalk README (and, where the README is silent, the interop notes)
 *   says.
 * - `NON-STRICT`: deviates from the README in exactly the way the reference Go implementation
 *   (rsms/gotalk v1.3.7) does; the outcome names the deviation.
 * - `UNSUPPORTED`: the implementation cannot be configured for the case (its `serve` exits 2 for
 *   an option, or the driver was pointed at a running server and cannot set options), or it
 *   lacks an optional feature the case names (only `ws/18`: serving gotalk.js).
 * - `FAILED`: anything else.
 *
 * Every case starts on a fresh connection `main` that has done the handshake (unless the case
 * says `handshake: false`), and after every case the driver opens a new connection and checks
 * that `echo` still answers: the server survived.
 *
 * Ids are stable: `gotalk/<section>/<n>`. Never renumber; retire a case by marking it, not by
 * reusing its id.
 *
 * Determinism: every read is bounded (3 s unless a step says otherwise), every loop has a fixed
 * count, and a `pause` only paces writes (split chunks, heartbeat intervals, a RetryResult's
 * wait); nothing waits in the hope that something has happened. "Silence" is a bounded wait
 * that fails on any byte or a close.
 *
 * Transports: every case runs over TCP and over WebSocket unless it says otherwise (the `ws`
 * section is WebSocket only). A `send` step is one write on TCP and one binary WebSocket message
 * on WebSocket, so split steps become one message per chunk there: the same case then checks
 * that the server reads the messages as one byte stream. Received messages are decoded from the
 * byte stream too; only `wsMessages` steps look at WebSocket message boundaries.
 *
 * @module
 */

import { encodeMessage, type Message } from "../src/protocol/mod.ts";

// ---------------------------------------------------------------------------------------------
// Types

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

// ---------------------------------------------------------------------------------------------
// Bytes and patterns

const utf8 = new TextEncoder();

/** Latin1 bytes of `s` (every char must be < 256): raw wire text with `\xNN` escapes. */
export function lat(s: string): Uint8Array {
  const b = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c > 0xff) throw new RangeError(`Not a latin1 string: ${JSON.stringify(s)}`);
    b[i] = c;
  }
  return b;
}

/** Concatenates byte arrays and latin1 strings. */
export function cat(...parts: (Uint8Array | string)[]): Uint8Array {
  const bs = parts.map((p) => typeof p === "string" ? lat(p) : p);
  const out = new Uint8Array(bs.reduce((n, b) => n + b.length, 0));
  let o = 0;
  for (const b of bs) {
    out.set(b, o);
    o += b.length;
  }
  return out;
}

/** `n` as `digits` lowercase hex digits. */
export function hex(n: number, digits: number): string {
  return n.toString(16).padStart(digits, "0");
}

/** A request id (4 latin1 chars) as the codec's number. */
export function idNum(id: string): number {
  const b = lat(id);
  if (b.length !== 4) throw new RangeError(`An id is 4 bytes: ${JSON.stringify(id)}`);
  return ((b[0] << 24) | (b[1] << 16) | (b[2] << 8) | b[3]) >>> 0;
}

/** A codec request id as 4 latin1 chars. */
export function idStr(id: number): string {
  return String.fromCharCode(id >>> 24, (id >>> 16) & 0xff, (id >>> 8) & 0xff, id & 0xff);
}

const bytesOf = (p: string | Uint8Array): Uint8Array => typeof p === "string" ? utf8.encode(p) : p;
const json = (v: unknown): Uint8Array => utf8.encode(JSON.stringify(v));

/** `r`: a single-payload request (payload: UTF-8 text or bytes). */
export function req(id: string, op: string, payload: string | Uint8Array = ""): Uint8Array {
  return encodeMessage({ type: "r", id: idNum(id), name: op, payload: bytesOf(payload) });
}

/** `r` with a JSON payload. */
export function jreq(id: string, op: string, value: unknown): Uint8Array {
  return req(id, op, json(value));
}

/** `s`: a streaming request with its first part. */
export function sreq(id: string, op: string, payload: string | Uint8Array = ""): Uint8Array {
  return encodeMessage({ type: "s", id: idNum(id), name: op, payload: bytesOf(payload) });
}

/** A `p`, `R`, `S` or `E` message. */
export function msg(
  type: "p" | "R" | "S" | "E",
  id: string,
  payload: string | Uint8Array = "",
): Uint8Array {
  return encodeMessage({ type, id: idNum(id), payload: bytesOf(payload) });
}

/** `n`: a notification. */
export function note(name: string, payload: string | Uint8Array = ""): Uint8Array {
  return encodeMessage({ type: "n", name, payload: bytesOf(payload) });
}

/** `h`: a heartbeat. */
export function hb(load: number, time: number): Uint8Array {
  return encodeMessage({ type: "h", load, time });
}

/** Now, in UTC seconds. */
const nowSec = (): number => Math.floor(Date.now() / 1000);

/** Pattern: `R` for `id` with `payload`. */
export function R(id: string, payload?: PayloadMatch): MessagePattern {
  return { type: "R", id, payload };
}

/** Pattern: `S` for `id` with `payload`. */
export function S(id: string, payload?: PayloadMatch): MessagePattern {
  return { type: "S", id, payload };
}

/** Pattern: `E` for `id` with `payload`. */
export function E(id: string, payload?: PayloadMatch): MessagePattern {
  return { type: "E", id, payload };
}

/** Pattern: `f` with `code`. */
export function F(code: number): MessagePattern {
  return { type: "f", code };
}

/** Pattern: `n` named `name` with `payload`. */
export function N(name: string, payload?: PayloadMatch): MessagePattern {
  return { type: "n", name, payload };
}

/** Payload predicate: plain, non-empty text (not a JSON object or string). */
export function plainText(p: Uint8Array): string | undefined {
  if (p.length === 0) return "the text is empty";
  const s = new TextDecoder().decode(p);
  if (/^\s*[{"]/.test(s)) return `the text looks like JSON: ${s.slice(0, 60)}`;
  return undefined;
}

/** Payload predicate factory: the text contains `part`. */
export function contains(part: string | Uint8Array): (p: Uint8Array) => string | undefined {
  const needle = bytesOf(part);
  return (p) => {
    outer: for (let i = 0; i + needle.length <= p.length; i++) {
      for (let j = 0; j < needle.length; j++) if (p[i + j] !== needle[j]) continue outer;
      return undefined;
    }
    return `the payload does not contain "${new TextDecoder().decode(needle).slice(0, 60)}"`;
  };
}

/** Test: a RetryResult's wait is within [min, max] ms and its text is plain and non-empty. */
function retryWait(min: number, max: number): (m: Message) => string | undefined {
  return (m) => {
    if (m.type !== "e") return undefined;
    if (m.wait < min || m.wait > max) return `wait ${m.wait} ms is outside [${min}, ${max}]`;
    return m.payload.length === 0 ? "the RetryResult has no text" : undefined;
  };
}

/** Deterministic pseudo-random bytes. */
function noise(n: number, seed = 1): Uint8Array {
  const b = new Uint8Array(n);
  let x = seed >>> 0;
  for (let i = 0; i < n; i++) {
    x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
    b[i] = x >>> 24;
  }
  return b;
}

// Step shorthands.
/** Latin1 text as bytes; bytes and functions unchanged. */
const raw = (d: string | Data): Data => typeof d === "string" ? lat(d) : d;
const send = (data: string | Data, extra: Partial<SendStep> = {}): SendStep => ({
  do: "send",
  data: raw(data),
  ...extra,
});
const expect = (
  m: MessagePattern | MessagePattern[],
  extra: Partial<ExpectStep> = {},
): ExpectStep => ({
  do: "expect",
  msg: m,
  ...extra,
});
const expectBytes = (
  bytes: string | Data,
  extra: Partial<ExpectBytesStep> = {},
): ExpectBytesStep => ({
  do: "expectBytes",
  bytes: raw(bytes),
  ...extra,
});
const closed = (extra: Partial<ClosedStep> = {}): ClosedStep => ({ do: "closed", ...extra });
const silence = (ms: number, extra: Partial<SilenceStep> = {}): SilenceStep => ({
  do: "silence",
  ms,
  ...extra,
});
const pause = (ms: number | ((c: Captures) => number)): PauseStep => ({ do: "pause", ms });
const oneOf = (...outcomes: Outcome[]): OneOfStep => ({ do: "oneOf", outcomes });
const ok = (steps: ReadStep[], note = ""): Outcome => ({ verdict: "OK", note, steps });
const nonStrict = (note: string, steps: ReadStep[]): Outcome => ({
  verdict: "NON-STRICT",
  note,
  steps,
});

/** An echo round trip on `conn`: proves the connection is still in sync. */
const echoWorks = (id: string, conn?: string): Step[] => [
  send(req(id, "echo", `still here ${id}`), { conn }),
  expect(R(id, `still here ${id}`), { conn }),
];

/** The strict reaction to invalid input: f00000002, then the server closes. */
const invalidMessage = (timeoutMs = 3000): Outcome =>
  ok([expect(F(2), { timeoutMs }), closed()], "ProtocolError 2 then close");

/** Go's reaction to most malformed input: it closes without a ProtocolError. */
const goSilentClose = (what: string): Outcome =>
  nonStrict(
    `closes the connection without sending f00000002 (the reference does this on ${what})`,
    [closed()],
  );

// ---------------------------------------------------------------------------------------------
// The catalogue

const README = "rsms/gotalk README";
const NOTES = "interop-notes";
const CONTRACT = "conformance-peer contract";
const GO = "go-peer README (reference quirks)";

type CaseInput = Omit<Case, "id" | "section">;

const handshake: CaseInput[] = [
  {
    title: "The server sends its version 01 first, without waiting for the client",
    checks:
      `${README}: "A conversation begins with the protocol version"; ${NOTES}: "each side writes two hex digits, 01. Hex is written lowercase"`,
    handshake: false,
    steps: [expectBytes("01"), send("01"), ...echoWorks("h001")],
  },
  {
    title: "After the handshake a request is answered (exact bytes)",
    checks: `${README}: "Otherwise, any messages are read and/or written."`,
    steps: [send(req("h002", "echo", "hi")), expectBytes("Rh00200000002hi")],
  },
  {
    title: "The client's version split across two writes",
    checks:
      `${README}: ProtocolVersion = <hexdigit> <hexdigit> (a byte stream: any split is legal)`,
    handshake: false,
    steps: [
      send("0"),
      pause(100),
      send("1"),
      expectBytes("01"),
      ...echoWorks("h003"),
    ],
  },
  {
    title: "Requests pipelined in the same write as the version",
    checks: `${README}: conversation = ProtocolVersion Message*`,
    handshake: false,
    steps: [
      send(cat("01", req("h004", "echo", "one"), req("h005", "echo", "two"))),
      expectBytes("01"),
      expect([R("h004", "one"), R("h005", "two")]),
    ],
  },
  {
    title: "Unsupported version 02: ProtocolError 1, then close",
    checks:
      `${README}: "If the version of the protocol spoken by the other end is not supported by the reader, a ProtocolError message is sent with code 1 and the connection is terminated."`,
    handshake: false,
    steps: [
      send("02"),
      expectBytes("01"),
      oneOf(
        ok([expect(F(1)), closed()]),
        nonStrict(
          "closes silently on a version mismatch instead of sending f00000001 (reference: Handshake returns an error and closes)",
          [closed()],
        ),
      ),
    ],
  },
  {
    title: "Non-hex version zz: ProtocolError (1 or 2), then close",
    checks:
      `${README}: ProtocolVersion = <hexdigit> <hexdigit>; "a ProtocolError is written and the connection is closed"`,
    handshake: false,
    steps: [
      send("zz"),
      expectBytes("01"),
      oneOf(
        ok([expect({ type: "f", test: (m) => codeIn(m, [1, 2]) }), closed()]),
        nonStrict(
          "closes silently on a malformed version instead of sending a ProtocolError (reference: strconv error, then close)",
          [closed()],
        ),
      ),
    ],
  },
  {
    title: "The version's second digit and a request in one write, after a pause",
    checks:
      `${README}: conversation = ProtocolVersion Message* (a byte stream: any split is legal)`,
    handshake: false,
    steps: [
      send("0"),
      pause(50),
      send(cat("1", req("h007", "echo", "x"))),
      expectBytes("01"),
      expect(R("h007", "x")),
    ],
  },
];

function codeIn(m: Message, codes: number[]): string | undefined {
  return m.type === "f" && codes.includes(m.code) ? undefined : `want code ${codes.join(" or ")}`;
}

const splitEcho = req("x000", "echo", "hi"); // 20-byte header + 2-byte payload
const framing: CaseInput[] = [
  {
    title: "A request split into two writes at every byte offset",
    checks:
      `${README}: the wire format is a byte stream; "their payloads follow immediately after the header"`,
    steps: [
      ...Array.from(
        { length: splitEcho.length - 1 },
        (_, i) => send(req(`k${hex(i + 1, 3)}`, "echo", "hi"), { split: [i + 1], pauseMs: 5 }),
      ),
      expect(Array.from({ length: splitEcho.length - 1 }, (_, i) => R(`k${hex(i + 1, 3)}`, "hi"))),
    ],
  },
  {
    title: "A request written one byte per write",
    checks: `${README}: the wire format is a byte stream (any split is legal)`,
    steps: [
      send(req("b001", "echo", "bytewise"), { split: "bytes", pauseMs: 2 }),
      expect(R("b001", "bytewise")),
    ],
  },
  {
    title: "Header and payload in separate writes, 200 ms apart",
    checks:
      `${README}: "their payloads follow immediately after the header" (in the stream, not in one write)`,
    steps: [
      send(req("b002", "echo", "payload after a pause"), { split: [20], pauseMs: 200 }),
      expect(R("b002", "payload after a pause")),
    ],
  },
  {
    title: "100 requests in one write, each answered with its own payload",
    checks: `${README}: conversation = ProtocolVersion Message*`,
    steps: [
      send(
        cat(...Array.from({ length: 100 }, (_, i) => req(`m${hex(i, 3)}`, "echo", `payload ${i}`))),
      ),
      expect(Array.from({ length: 100 }, (_, i) => R(`m${hex(i, 3)}`, `payload ${i}`))),
    ],
  },
  {
    title: "Binary request ids (bytes >= 0x80, Go's little-endian counters) echoed byte for byte",
    checks:
      `${NOTES}: "Ids are opaque bytes ... not ASCII, not valid UTF-8 from 128 on ... Echo ids back byte for byte"`,
    steps: ["\xff\xfe\x80\x00", "\x80\x81\xc3\x28", "\x00\x00\x00\x00", "\x01\x00\x00\x00"].flatMap(
      (id) => [
        send(req(id, "echo", "b")),
        expectBytes(cat("R", id, "00000001b")),
      ],
    ),
  },
  {
    title: "Base-36 ids (gotalk.js style) echoed byte for byte",
    checks: `${NOTES}: "gotalk.js sends 4 base-36 characters ... and ! + 3 base-36 characters"`,
    steps: ["0000", "zzzz", "!a0z"].flatMap((id) => [
      send(req(id, "echo", "b")),
      expectBytes(cat("R", id, "00000001b")),
    ]),
  },
  {
    title: "Empty op name (length 000): ErrorResult, connection stays in sync",
    checks: `${NOTES}: "A name length of 000 is a legal empty name"`,
    steps: [
      send(cat("r", "e001", "000", "00000002", "hi")),
      expect(E("e001")),
      ...echoWorks("e002"),
    ],
  },
  {
    title: "A 4095-byte op name (fff): unknown-op ErrorResult naming it",
    checks: `${NOTES}: "fff (4095 bytes) is the longest"`,
    steps: [
      send(req("e003", "o".repeat(4095), "x")),
      expect(E("e003", contains("o".repeat(4095)))),
      ...echoWorks("e004"),
    ],
  },
  {
    title: "Uppercase hex payload size (0000000A) is accepted",
    checks: `${NOTES}: "Hex is written lowercase, read in either case"`,
    steps: [
      send(cat("r", "u001", "004echo", "0000000A", "0123456789")),
      expect(R("u001", "0123456789")),
    ],
  },
  {
    title: "Uppercase hex name length (00B) is accepted",
    checks: `${NOTES}: "Hex is written lowercase, read in either case"`,
    steps: [
      send(cat("r", "u002", "00B", "notify-back", "00000017", '{"name":"up","value":1}')),
      expect([N("up", { json: 1 }), R("u002", { json: true })]),
    ],
  },
  {
    title: "Uppercase hex sizes in a streaming request and its parts",
    checks: `${NOTES}: "Hex is written lowercase, read in either case"`,
    steps: [
      send(cat("s", "u003", "00B", "stream-echo", "0000000A", "abcdefghij")),
      send(cat("p", "u003", "0000000B", "klmnopqrstu")),
      send(cat("p", "u003", "00000000")),
      expect([S("u003", "abcdefghij"), S("u003", "klmnopqrstu"), S("u003", "")]),
    ],
  },
  {
    title: "Sizes are written as lowercase hex (R and E headers, exact bytes)",
    checks: `${NOTES}: "Hex is written lowercase"`,
    steps: [
      send(req("l001", "echo", "z".repeat(0xab))),
      expectBytes(cat("R", "l001", "000000ab", "z".repeat(0xab))),
      send(req("l002", "fail", "y".repeat(0xcd))),
      expectBytes(cat("E", "l002", "000000cd", "y".repeat(0xcd))),
    ],
  },
  {
    title: "A name's length counts UTF-8 bytes, not characters",
    checks: `${README}: text3Value = <<byte>{text3Size} as utf8 text>`,
    steps: [
      send(cat("r", "u004", "006", utf8.encode("héllo"), "00000000")),
      expect(E("u004", contains("héllo"))),
      ...echoWorks("u005"),
    ],
  },
];

const mib = noise(1024 * 1024, 7);
const allBytes = Uint8Array.from({ length: 256 }, (_, i) => i);
const requests: CaseInput[] = [
  {
    title: "echo with an empty payload (exact bytes)",
    checks: `${CONTRACT}: echo: result = the request payload, byte for byte`,
    steps: [send(req("q001", "echo")), expectBytes("Rq00100000000")],
  },
  {
    title: "echo with a small payload (exact bytes)",
    checks: `${README}: r0001004echo00000019... answered by R000100000019...`,
    steps: [
      send(req("0001", "echo", '{"message":"Hello World"}')),
      expectBytes('R000100000019{"message":"Hello World"}'),
    ],
  },
  {
    title: "echo with a 1 MiB payload",
    checks: `${CONTRACT}: echo-1mib`,
    steps: [send(req("q003", "echo", mib)), expect(R("q003", mib), { timeoutMs: 10000 })],
  },
  {
    title: "echo with all 256 byte values",
    checks: `${CONTRACT}: echo-binary`,
    steps: [send(req("q004", "echo", allBytes)), expect(R("q004", allBytes))],
  },
  {
    title: "upper: JSON string in, upper-cased JSON string out (Unicode)",
    checks: `${CONTRACT}: upper-unicode`,
    steps: [
      send(jreq("q005", "upper", "héllo wörld ünïcode")),
      expect(R("q005", { json: "HÉLLO WÖRLD ÜNÏCODE" })),
    ],
  },
  {
    title: "Unknown op: ErrorResult, not a result or a close",
    checks:
      `${README}: "If a request is faulty ... an "error" is send as the reply instead of a regular result"`,
    steps: [
      send(req("q006", "no-such-op", "x")),
      expect(E("q006", contains("no-such-op"))),
      ...echoWorks("q007"),
    ],
  },
  {
    title: "fail: ErrorResult whose payload is the request payload",
    checks: `${CONTRACT}: fail: ErrorResult whose payload is the request payload`,
    steps: [
      send(req("q008", "fail", "boom: the payload is the error")),
      expect(E("q008", "boom: the payload is the error")),
    ],
  },
  {
    title: "Results come back out of order: a 300 ms sleep and a 0 ms sleep",
    checks:
      `${CONTRACT}: out-of-order; ${README}: ids let "another request ... be served" concurrently`,
    steps: [
      send(
        cat(
          jreq("q009", "sleep", { ms: 300, value: "slow" }),
          jreq("q010", "sleep", { ms: 0, value: "fast" }),
        ),
      ),
      expect(R("q010", { json: "fast" })),
      expect(R("q009", { json: "slow" })),
    ],
  },
  {
    title: "call-back: the server sends a request to the driver and returns its result",
    checks: `${CONTRACT}: call-back (proves both sides serve)`,
    steps: [
      send(jreq("q011", "call-back", { op: "upper", value: "abc" })),
      expect({ type: "r", name: "upper", payload: { json: "abc" }, capture: "cb" }),
      send((c) =>
        encodeMessage({ type: "R", id: (c.cb as { id: number }).id, payload: json("ABC") })
      ),
      expect(R("q011", { json: "ABC" })),
    ],
  },
  {
    title: "200 requests in flight (separate writes), each answered with its own payload",
    checks: `${CONTRACT}: concurrent-1000 (scaled down)`,
    steps: [
      ...Array.from({ length: 200 }, (_, i) => send(req(`c${hex(i, 3)}`, "echo", `p${i}`))),
      expect(Array.from({ length: 200 }, (_, i) => R(`c${hex(i, 3)}`, `p${i}`))),
    ],
  },
  {
    title: "Results for ids the server never used are ignored",
    checks:
      `${GO}: "Responses for unknown ids are read and dropped silently"; ${NOTES}: late S for a settled id`,
    steps: [
      send(cat(
        msg("R", "zz01", "x"),
        msg("E", "zz02", "y"),
        msg("S", "zz03", "z"),
        msg("S", "zz03"),
        encodeMessage({ type: "e", id: idNum("zz04"), wait: 0, payload: utf8.encode("w") }),
      )),
      silence(300),
      ...echoWorks("q012"),
    ],
  },
  {
    title: "A request id may be reused once its result has arrived",
    checks: `${README}: the requestID "is requestor-specific and has no purpose beyond identity"`,
    steps: [
      send(req("q013", "echo", "1")),
      expect(R("q013", "1")),
      send(req("q013", "echo", "2")),
      expect(R("q013", "2")),
    ],
  },
  {
    title: "upper given JSON of the wrong type: ErrorResult",
    checks: `${GO}: JSON handler given the wrong type: ErrorResult "unexpected parameter type"`,
    steps: [send(req("q014", "upper", "42")), expect(E("q014")), ...echoWorks("q015")],
  },
  {
    title: "sleep returns its JSON value unchanged",
    checks: `${CONTRACT}: sleep {"ms":N,"value":V}: wait N ms, then result V`,
    steps: [
      send(jreq("q016", "sleep", { ms: 0, value: { a: [1, "x", null], b: { c: true } } })),
      expect(R("q016", { json: { a: [1, "x", null], b: { c: true } } })),
    ],
  },
  {
    title:
      "call-back answered by the driver with an ErrorResult: the server's result is an ErrorResult",
    checks:
      `${CONTRACT}: call-back "result = its result"; ${GO}: "An ErrorResult from the requester becomes this request's ErrorResult (same text)"`,
    steps: [
      send(jreq("q017", "call-back", { op: "upper", value: "abc" })),
      expect({ type: "r", name: "upper", capture: "cb" }),
      send((c) =>
        encodeMessage({
          type: "E",
          id: (c.cb as { id: number }).id,
          payload: utf8.encode("driver says no"),
        })
      ),
      expect(E("q017", contains("driver says no"))),
    ],
  },
  {
    title: "call-back answered with RetryResults: the server waits, and bounds its retries",
    checks:
      `${README}: "the requestor must not retry the request until at least [wait] milliseconds has passed"; ${NOTES}: "Go's BufferRequest retries a RetryResult forever; ours must bound retries"`,
    steps: [{ do: "script", run: callBackRetries }],
  },
];

/** The call-back retry dialogue of requests/16. */
async function callBackRetries(io: ScriptIO): Promise<string | undefined> {
  const settled = (m: Message): undefined => {
    if ((m.type === "E" || m.type === "e") && m.id === idNum("q018")) return undefined;
    throw new Error(`want a retry (r upper) or E/e for q018, got ${m.type}`);
  };
  const retry = (id: number, wait: number): Uint8Array =>
    encodeMessage({ type: "e", id, wait, payload: utf8.encode("busy") });
  await io.send(jreq("q018", "call-back", { op: "upper", value: "abc" }));
  let m = await io.next();
  if (m.type !== "r" || m.name !== "upper") throw new Error(`want r upper, got ${m.type}`);
  await io.send(retry(m.id, 300));
  const t = io.now();
  m = await io.next(5000);
  if (m.type !== "r") return settled(m);
  const waited = io.now() - t;
  if (waited < 280) {
    throw new Error(`retried after ${waited.toFixed(0)} ms, before the 300 ms wait`);
  }
  for (let i = 0; i < 20; i++) {
    if (m.type !== "r" || m.name !== "upper") return settled(m);
    await io.send(retry(m.id, 0));
    m = await io.next();
  }
  if (m.type !== "r") return settled(m);
  await io.send(encodeMessage({ type: "R", id: m.id, payload: json("ABC") }));
  m = await io.next();
  if (m.type !== "R" || m.id !== idNum("q018")) throw new Error(`want R q018, got ${m.type}`);
  return "retries a RetryResult without bound (reference: BufferRequest loops forever; 22 attempts seen)";
}

const faults: CaseInput[] = [
  {
    title: 'ErrorResult text is plain text: unknown operation "nope"',
    checks:
      `${NOTES}: "ErrorResult (E) and RetryResult (e) payloads are plain text, not JSON. Go's texts: unknown operation "x"" (the README's example shows JSON; both implementations send text)`,
    steps: [
      send(req("x001", "nope", "x")),
      expectBytes(cat("E", "x001", hex(24, 8), 'unknown operation "nope"')),
    ],
  },
  {
    title: "An error text that looks like JSON is passed through unchanged",
    checks: `${NOTES}: ErrorResult payloads are plain text (never wrapped or re-encoded)`,
    steps: [
      send(req("x002", "fail", '{"error":"x"}')),
      expectBytes(cat("E", "x002", "0000000d", '{"error":"x"}')),
    ],
  },
  {
    title: "An empty error text gives an empty ErrorResult",
    checks: `${CONTRACT}: fail: ErrorResult whose payload is the request payload (here empty)`,
    steps: [send(req("x003", "fail")), expectBytes("Ex00300000000")],
  },
  {
    title: "An error text with non-UTF-8 bytes is passed through byte for byte",
    checks: `${CONTRACT}: fail: ErrorResult whose payload is the request payload`,
    steps: [
      send(req("x004", "fail", lat("\xff\xfe\x00x"))),
      expect(E("x004", lat("\xff\xfe\x00x"))),
    ],
  },
  {
    title: "A streaming request for an unknown op gets a single ErrorResult",
    checks:
      `${README}: "an error response ... is always a "single-payload" message"; ${GO}: unknown stream op: ErrorResult`,
    steps: [send(sreq("x005", "nope", "x")), expect(E("x005", plainText)), ...echoWorks("x006")],
  },
  {
    title: "An ErrorResult is final: nothing more for that id",
    checks: `${README}: "A request that produces an error should not be retried as-is"`,
    steps: [
      send(req("x007", "fail", "once")),
      expect(E("x007", "once")),
      silence(300),
      ...echoWorks("x008"),
    ],
  },
];

const limits: CaseInput[] = [
  {
    title: "Over --max-buffer-requests 1: RetryResult with a wait in [500, 5000] ms and a text",
    checks:
      `${README}: "a RetryResult is sent ... unable to complete the request because of resource starvation"; ${NOTES}: "retry wait random in 500-5000 ms", text "request rate limit"`,
    serve: { maxBufferRequests: 1 },
    steps: [
      send(jreq("l001", "sleep", { ms: 300, value: 1 })),
      send(jreq("l002", "sleep", { ms: 0, value: 2 })),
      expect([R("l001", { json: 1 }), { type: "e", id: "l002", test: retryWait(500, 5000) }]),
    ],
  },
  {
    title: "Retrying after the RetryResult's wait succeeds",
    checks:
      `${README}: "the requestor must not retry the request until at least [wait] milliseconds has passed"`,
    serve: { maxBufferRequests: 1 },
    steps: [
      send(jreq("l003", "sleep", { ms: 300, value: 1 })),
      send(jreq("l004", "sleep", { ms: 0, value: 2 })),
      expect([R("l003", { json: 1 }), {
        type: "e",
        id: "l004",
        test: retryWait(0, 5000),
        capture: "retry",
      }]),
      pause((c) => Math.min(5000, (c.retry as { wait: number }).wait) + 20),
      send(jreq("l004", "sleep", { ms: 0, value: 2 })),
      expect(R("l004", { json: 2 })),
    ],
  },
  {
    title: "The buffer-request limit does not apply to streaming requests",
    checks: `${CONTRACT}: --max-buffer-requests and --max-stream-requests are separate limits`,
    serve: { maxBufferRequests: 1 },
    steps: [
      send(jreq("l005", "sleep", { ms: 300, value: 1 })),
      send(cat(sreq("l006", "stream-echo", "x"), msg("p", "l006"))),
      expect([S("l006", "x"), S("l006", ""), R("l005", { json: 1 })]),
    ],
  },
  {
    title: "Over --max-stream-requests 1: RetryResult for the second stream; the first completes",
    checks:
      `${README}: "handling of streaming requests should be limited and "RetryResult" used to throttle requests"`,
    serve: { maxStreamRequests: 1 },
    steps: [
      send(sreq("l007", "stream-echo", "a")),
      send(sreq("l008", "stream-echo", "b")),
      expect([S("l007", "a"), { type: "e", id: "l008", test: retryWait(500, 5000) }]),
      send(cat(msg("p", "l007", "c"), msg("p", "l007"))),
      expect([S("l007", "c"), S("l007", "")]),
    ],
  },
  {
    title: "Parts pipelined for a stream refused with RetryResult are ignored",
    checks:
      `${README}: the requestor cannot know a stream will be refused before it reads the RetryResult; parts it already sent must not break the connection`,
    serve: { maxStreamRequests: 1 },
    steps: [
      send(sreq("l009", "stream-echo", "a")),
      expect(S("l009", "a")),
      send(cat(
        sreq("l010", "stream-echo", "b"),
        msg("p", "l010", "x"),
        msg("p", "l010"),
        msg("p", "l009", "c"),
        msg("p", "l009"),
      )),
      oneOf(
        ok([
          expect([
            { type: "e", id: "l010", test: retryWait(0, 5000) },
            S("l009", "c"),
            S("l009", ""),
          ]),
        ]),
        nonStrict(
          'drops the connection without a ProtocolError on a part for the refused stream (reference: "illegal message")',
          [closed({ allowBefore: [{ type: "e", id: "l010" }] })],
        ),
      ),
    ],
  },
  {
    title: "--max-stream-requests 0: a streaming request is refused (ErrorResult or RetryResult)",
    checks:
      `${GO}: "StreamRequests: 0 disables streams: ErrorResult stream requests not supported"`,
    serve: { maxStreamRequests: 0 },
    steps: [
      send(sreq("l011", "stream-echo", "x")),
      expect({ type: ["E", "e"], id: "l011" }),
      ...echoWorks("l012"),
    ],
  },
];

/** The README's sentence on mixed kinds, and the Go package's admission that it cannot. */
const MIXED_KINDS =
  `${README}: "Requests and results does not need to match on the "single" vs "streaming" detail"; ${NOTES}: "Request and result kinds are independent"`;
const GO_NO_MIXED =
  'the reference has no API for mixed kinds (README: "the current version of the Go package does not provide a high-level API for mixed-kind request-response handling")';

/**
 * A slow consumer: the echo right after it must be answered within 1 s (the consumer takes
 * 2 s); `later` are the messages the consumer sends once it is done.
 */
const notStalled = (id: string, what: string, later: MessagePattern[] = []): OneOfStep =>
  oneOf(
    ok([
      expect(R(id, "not stalled"), { timeoutMs: 1000 }),
      ...(later.length ? [expect(later, { timeoutMs: 3000 })] : []),
    ]),
    nonStrict(
      `${what} stalls the whole connection: the echo sent after it was answered only once it finished, about 2 s later`,
      [expect([R(id, "not stalled"), ...later], { timeoutMs: 3000 })],
    ),
  );

const streams: CaseInput[] = [
  {
    title: "s + p parts + empty p: S parts in order + empty S",
    checks:
      `${README}: "StreamRequest = s ... StreamReqPart*", "StreamResult ... ended by an empty S"; ${CONTRACT}: stream-echo`,
    steps: [
      send(sreq("s001", "stream-echo", '{"message":')),
      send(msg("p", "s001", '"Hello World"}')),
      send(msg("p", "s001", "third")),
      send(msg("p", "s001")),
      expect([
        S("s001", '{"message":'),
        S("s001", '"Hello World"}'),
        S("s001", "third"),
        S("s001", ""),
      ]),
    ],
  },
  {
    title: "An empty first part: only the non-empty parts come back",
    checks: `${GO}: stream-echo skips an empty first part (an empty S would end the result)`,
    steps: [
      send(sreq("s002", "stream-echo", "")),
      send(msg("p", "s002", "ab")),
      send(msg("p", "s002")),
      expect([S("s002", "ab"), S("s002", "")]),
    ],
  },
  {
    title: "Stream parts interleaved with buffer requests",
    checks: `${README}: "transmitting a streaming request ... does not occupy the line"`,
    steps: [
      send(sreq("s003", "stream-echo", "one")),
      send(req("s004", "echo", "x")),
      send(msg("p", "s003", "two")),
      send(req("s005", "echo", "y")),
      send(msg("p", "s003")),
      expect([R("s004", "x"), R("s005", "y"), S("s003", "one"), S("s003", "two"), S("s003", "")]),
    ],
  },
  {
    title: "Two streaming requests interleaved",
    checks: `${README}: streaming requests are told apart by requestID`,
    steps: [
      send(cat(sreq("s006", "stream-echo", "a1"), sreq("s007", "stream-echo", "b1"))),
      send(cat(msg("p", "s007", "b2"), msg("p", "s006", "a2"), msg("p", "s007"), msg("p", "s006"))),
      expect([
        S("s006", "a1"),
        S("s006", "a2"),
        S("s006", ""),
        S("s007", "b1"),
        S("s007", "b2"),
        S("s007", ""),
      ]),
    ],
  },
  {
    title: "100 parts come back as 100 S parts, in order",
    checks: `${CONTRACT}: stream-echo: each request part comes back as a result part, in order`,
    steps: [
      send(sreq("s008", "stream-echo", "part 0")),
      ...Array.from({ length: 99 }, (_, i) => send(msg("p", "s008", `part ${i + 1}`))),
      send(msg("p", "s008")),
      expect([...Array.from({ length: 100 }, (_, i) => S("s008", `part ${i}`)), S("s008", "")]),
    ],
  },
  {
    title: "A 256 KiB part comes back whole",
    checks: `${CONTRACT}: stream-echo (parts of mixed sizes)`,
    steps: [
      send(sreq("s009", "stream-echo", "small")),
      send(msg("p", "s009", noise(256 * 1024, 3))),
      send(msg("p", "s009")),
      expect([S("s009", "small"), S("s009", noise(256 * 1024, 3)), S("s009", "")], {
        timeoutMs: 5000,
      }),
    ],
  },
  {
    title: "A part for an id with no open stream: ProtocolError 2 and close, or ignored",
    checks:
      `${README}: "If the protocol communication itself experiences issues—e.g. an illegal message is received—a ProtocolError is written and the connection is closed." (ignoring it is also accepted)`,
    steps: [
      send(cat(msg("p", "zzzz", "x"), req("s010", "echo", "after"))),
      oneOf(
        invalidMessage(),
        ok([expect(R("s010", "after"))], "the part was ignored"),
        goSilentClose('a part for an unknown stream ("illegal message")'),
      ),
    ],
  },
  {
    title: "Unknown stream op with its end part pipelined: ErrorResult, connection continues",
    checks:
      `${README}: an ErrorResult answers a faulty request; the requestor had already sent the end part`,
    steps: [
      send(cat(sreq("s011", "nope", "x"), msg("p", "s011"), req("s012", "echo", "after"))),
      oneOf(
        ok([expect([E("s011"), R("s012", "after")])]),
        nonStrict(
          'drops the connection without a ProtocolError on the end part of a refused stream (reference: "illegal message")',
          [closed({ allowBefore: [E("s011")] })],
        ),
      ),
    ],
  },
  {
    title: "A finished stream's id can be reused for a new streaming request",
    checks:
      `${README}: the requestID "is requestor-specific and has no purpose beyond identity"; ${GO}: reference never releases it`,
    steps: [
      send(cat(sreq("s013", "stream-echo", "x"), msg("p", "s013"))),
      expect([S("s013", "x"), S("s013", "")]),
      send(cat(sreq("s013", "stream-echo", "y"), msg("p", "s013"))),
      oneOf(
        ok([expect([S("s013", "y"), S("s013", "")])]),
        nonStrict(
          "drops the connection: the reference never releases a finished stream's id and panics on reuse (gotalk.Server would crash; go-peer recovers and closes the connection)",
          [closed()],
        ),
      ),
    ],
  },
  {
    title: "A streaming request answered with a single result (s p p p0 → one R)",
    checks: `${MIXED_KINDS}; ${CONTRACT}: stream-concat`,
    steps: [
      send(sreq("s014", "stream-concat", "ab")),
      send(msg("p", "s014", "cd")),
      send(msg("p", "s014", "ef")),
      send(msg("p", "s014")),
      oneOf(
        ok([expect(R("s014", "abcdef")), silence(200)]),
        nonStrict(
          `answers with one S part holding the concatenation, then the empty S: ${GO_NO_MIXED}; a stream handler writes S parts only`,
          [expect([S("s014", "abcdef"), S("s014", "")])],
        ),
      ),
      ...echoWorks("s015"),
    ],
  },
  {
    title: "A single request answered with a streaming result (r → S S S S0; no parts → S0)",
    checks: `${MIXED_KINDS}; ${CONTRACT}: echo-parts`,
    steps: [
      send(jreq("s016", "echo-parts", { parts: ["one", "two", "three"] })),
      send(jreq("s017", "echo-parts", { parts: [] })),
      oneOf(
        ok([
          expect([
            S("s016", "one"),
            S("s016", "two"),
            S("s016", "three"),
            S("s016", ""),
            S("s017", ""),
          ]),
          silence(200),
        ]),
        nonStrict(
          `answers with a single R holding the concatenation: ${GO_NO_MIXED}; a buffer handler returns one result`,
          [expect([R("s016", "onetwothree"), R("s017", "")])],
        ),
      ),
    ],
  },
  {
    title: "A slow stream consumer stalls only its own stream (an echo is answered within 1 s)",
    checks:
      `${NOTES}: "Go feeds incoming stream parts through a one-slot channel ... so one slow consumer stalls the whole connection. Ours must not."; ${CONTRACT}: stream-block`,
    steps: [
      send(sreq("s018", "stream-block", '{"ms":2000}')),
      send(msg("p", "s018", "a")),
      send(msg("p", "s018", "b")),
      send(msg("p", "s018", "c")),
      send(req("s019", "echo", "not stalled")),
      notStalled(
        "s019",
        "a stream handler that does not read its parts (the reference feeds them through a one-slot channel from its read loop)",
        [S("s018", "a"), S("s018", "b"), S("s018", "c")],
      ),
      send(msg("p", "s018")),
      expect(S("s018", "")),
    ],
  },
];

const notesIs = (count: number, name: string, value: unknown): PayloadMatch => ({
  json: { count, last: { name, value } },
});
const notifications: CaseInput[] = [
  {
    title: "A notification from the driver is delivered (seen by notes)",
    checks: `${README}: Notification = "n" name payload; ${CONTRACT}: notes`,
    steps: [
      send(note("ping", '{"x":1}')),
      send(req("n001", "notes")),
      expect(R("n001", notesIs(1, "ping", { x: 1 }))),
    ],
  },
  {
    title: "notify-back: the server's notification arrives before the result",
    checks: `${CONTRACT}: notify-back: send notification N with JSON V, then result true`,
    steps: [
      send(jreq("n002", "notify-back", { name: "hey", value: [1, 2] })),
      expect(N("hey", { json: [1, 2] })),
      expect(R("n002", { json: true })),
    ],
  },
  {
    title: "A notification name's length counts UTF-8 bytes (exact bytes)",
    checks: `${README}: n00cchat message0000002e...; text3Size counts bytes`,
    steps: [
      send(jreq("n003", "notify-back", { name: "héllo", value: 7 })),
      expectBytes(cat("n006", utf8.encode("héllo"), "000000017")),
      expect(R("n003", { json: true })),
    ],
  },
  {
    title: "An empty-name notification (12-byte header) does not desynchronise the stream",
    checks:
      `${NOTES}: "A name length of 000 is a legal empty name"; ${GO}: reference reads 13 bytes first`,
    steps: [
      send(cat(note("", "1"), req("n004", "echo", "after"), req("n005", "notes"))),
      oneOf(
        ok([expect([R("n004", "after"), R("n005", notesIs(1, "", 1))])]),
        nonStrict(
          "loses sync after a 12-byte notification header and drops the connection (reference: ReadMsg always reads 13 bytes first, swallowing the next message's first byte)",
          [closed({ allowBefore: [F(2)] })],
        ),
      ),
    ],
  },
  {
    title: "Notifications are never replied to",
    checks: `${README}: "Notifications are never replied to nor can they cause "error" results."`,
    steps: [send(note("unknown-name", "x")), silence(300), ...echoWorks("n006")],
  },
  {
    title: "Three notifications in one write, all delivered",
    checks: `${README}: Notification = "n" name payload`,
    steps: [
      send(cat(note("a", "1"), note("b", "2"), note("c", '"three"'))),
      send(req("n007", "notes")),
      expect(R("n007", notesIs(3, "c", "three"))),
    ],
  },
  {
    title: "A notification with a 4095-byte name",
    checks: `${NOTES}: "fff (4095 bytes) is the longest"`,
    steps: [
      send(note("N".repeat(4095), "1")),
      send(req("n008", "notes")),
      expect(R("n008", notesIs(1, "N".repeat(4095), 1))),
    ],
  },
  {
    title: "A notification's header and payload in separate writes, 100 ms apart",
    checks: `${README}: the wire format is a byte stream`,
    steps: [
      send(note("split", "[1,2,3]"), { split: [17], pauseMs: 100 }),
      send(req("n009", "notes")),
      expect(R("n009", notesIs(1, "split", [1, 2, 3]))),
    ],
  },
  {
    title: "A slow notification handler stalls only itself (an echo is answered within 1 s)",
    checks:
      `${NOTES}: Go "runs notification handlers inline on the read loop, so one slow consumer stalls the whole connection. Ours must not."; ${CONTRACT}: block`,
    steps: [
      send(note("block", '{"ms":2000}')),
      send(req("n010", "echo", "not stalled")),
      notStalled(
        "n010",
        "a notification handler that takes 2 s (the reference runs it inline on its read loop)",
      ),
    ],
  },
];

const heartbeatNow: MessagePattern = {
  type: "h",
  test: (m) => {
    if (m.type !== "h") return undefined;
    const skew = m.time - nowSec();
    return Math.abs(skew) > 30 ? `heartbeat time ${m.time} is ${skew} s off` : undefined;
  },
};
const heartbeats: CaseInput[] = [
  {
    title: "With --heartbeat, the server sends h: 13 bytes, lowercase hex, time ≈ now",
    checks:
      `${README}: Heartbeat = "h" load time; "the sender's local time in the form of an unsigned 32-bit UNIX timestamp"; ${NOTES}: h is 13 bytes`,
    serve: { heartbeatMs: 200 },
    steps: [
      expect({ ...heartbeatNow, raw: /^h[0-9a-f]{12}$/ }),
      expect({ ...heartbeatNow, raw: /^h[0-9a-f]{12}$/ }),
      ...echoWorks("t000"),
    ],
  },
  {
    title: "With --heartbeat 200, heartbeats keep coming (3 to 12 in 1 s)",
    checks: `${README}: "a heartbeat message is send at a certain interval"`,
    serve: { heartbeatMs: 200 },
    steps: [{ do: "collect", ms: 1000, msg: heartbeatNow, min: 3, max: 12 }],
  },
  {
    title: "A heartbeat from the driver is accepted silently",
    checks: `${README}: Heartbeat is a message; it asks for no reply`,
    steps: [send(() => hb(0, nowSec())), silence(300), ...echoWorks("t001")],
  },
  {
    title: "A heartbeat with uppercase hex is accepted",
    checks: `${NOTES}: "Hex is written lowercase, read in either case"`,
    steps: [
      send(() => cat("h00FF", hex(nowSec(), 8).toUpperCase())),
      silence(200),
      ...echoWorks("t002"),
    ],
  },
  {
    title: "Heartbeats with extreme values (load ffff, time 0 and ffffffff) are accepted",
    checks: `${README}: "0 means idle and 65535 (0xffff) means omg I think I'm dying"`,
    steps: [send(cat(hb(0xffff, 0), hb(0, 0xffffffff))), silence(200), ...echoWorks("t003")],
  },
  {
    title: "Without --heartbeat, the server sends no heartbeats",
    checks:
      `${CONTRACT}: --heartbeat MS (default 0: none); ${NOTES}: sockets accepted by Go's server send none`,
    steps: [silence(600, { heartbeats: "forbid" })],
  },
  {
    title: "A heartbeat pipelined between two requests in one write",
    checks: `${README}: conversation = ProtocolVersion Message*`,
    steps: [
      send(() => cat(req("t004", "echo", "a"), hb(1, nowSec()), req("t005", "echo", "b"))),
      expect([R("t004", "a"), R("t005", "b")]),
    ],
  },
];

const timeouts: CaseInput[] = [
  {
    title: "Idle past --read-timeout: ProtocolError 3, then close",
    checks:
      `${README}: code 3 "The other side closed the connection because communicating took too long"; ${NOTES}: "on read timeout it sends f00000003"`,
    serve: { readTimeoutMs: 300 },
    steps: [expect(F(3), { notBeforeMs: 200 }), closed()],
  },
  {
    title: "Driver heartbeats every 100 ms keep the connection alive past --read-timeout",
    checks:
      `${README}: "Because most responders will limit the time it waits for reads, a heartbeat message is send at a certain interval."`,
    serve: { readTimeoutMs: 300 },
    steps: [
      { do: "repeat", times: 12, steps: [send(() => hb(0, nowSec())), pause(100)] },
      ...echoWorks("w001"),
      expect(F(3), { notBeforeMs: 200 }),
      closed(),
    ],
  },
  {
    title: "Requests every 100 ms keep the connection alive past --read-timeout",
    checks: `${README}: the read timeout bounds the time between reads`,
    serve: { readTimeoutMs: 300 },
    steps: [
      { do: "repeat", times: 10, steps: [...echoWorks("w002"), pause(100)] },
      expect(F(3), { notBeforeMs: 200 }),
      closed(),
    ],
  },
  {
    title: "A header stalled half-way: ProtocolError 3, then close",
    checks: `${GO}: "The deadline is set before each header"`,
    serve: { readTimeoutMs: 300 },
    steps: [send("r00"), expect(F(3), { notBeforeMs: 200 }), closed()],
  },
  {
    title: "A payload stalled half-way: ProtocolError 3, then close",
    checks: `${GO}: the read deadline "also covers that message's payload"`,
    serve: { readTimeoutMs: 300 },
    steps: [
      send(cat("r", "w003", "004echo", "0000000a", "abc")),
      expect(F(3), { notBeforeMs: 200 }),
      closed(),
    ],
  },
];

const closeCases: CaseInput[] = [
  {
    title: "The driver disconnects with a request in flight: the server survives",
    checks: `${README}: a connection ending is not a server fault (the next connection is served)`,
    steps: [send(jreq("z001", "sleep", { ms: 200, value: 1 })), { do: "destroy" }, pause(300)],
  },
  {
    title: "The driver disconnects mid-header: the server survives",
    checks: `${README}: a connection ending is not a server fault`,
    steps: [send("r00"), { do: "destroy" }, pause(100)],
  },
  {
    title: "The driver disconnects during an open stream: the server survives",
    checks: `${README}: a connection ending is not a server fault`,
    steps: [
      send(sreq("z002", "stream-echo", "x")),
      expect(S("z002", "x")),
      { do: "destroy" },
      pause(100),
    ],
  },
  {
    title: "f00000000 then FIN from the driver: the server closes without a reply",
    checks:
      `${README}: a ProtocolError "is written and the connection is closed"; ${NOTES}: "close after sending one"`,
    steps: [send("f00000000"), { do: "end" }, closed()],
  },
  {
    title: "f00000000 with the connection left open: the server closes it",
    checks:
      `${README}: ProtocolError = "f" code (9 bytes); ${NOTES}: "Because f is only 9 bytes, Go only recognises it when the connection closes right after it"`,
    steps: [
      send("f00000000"),
      oneOf(
        ok([closed({ timeoutMs: 1000 })]),
        nonStrict(
          "does not see a lone 9-byte f until more bytes or EOF arrive (reference: ReadMsg reads 13 bytes before looking at the type)",
          [silence(200)],
        ),
      ),
    ],
  },
  {
    title: "A request after the driver's ProtocolError is not answered",
    checks: `${README}: after a ProtocolError "the connection is closed"`,
    steps: [send(cat("f00000002", req("z003", "echo", "too late"))), closed()],
  },
  {
    title: "FIN from the driver mid-payload: the server closes its side",
    checks:
      `${README}: payloadData = <byte>{payloadSize}; a truncated message ends the conversation`,
    steps: [
      send(cat("r", "z004", "004echo", "00000064", "only ten b")),
      { do: "end" },
      closed({ allowBefore: [F(2), F(0)] }),
    ],
  },
  {
    title: "SIGTERM with a connection open: the connection closes and serve exits 0",
    checks: `${CONTRACT}: "Runs until SIGTERM or SIGINT, then exits 0."`,
    ownServer: true,
    steps: [
      ...echoWorks("z005"),
      { do: "sigterm" },
      oneOf(
        ok([closed({ timeoutMs: 2000, allowBefore: [F(0)] })]),
        nonStrict(
          "keeps open connections after SIGTERM until the client closes them, then exits 0 (go-peer: its accept loop waits for its connections before closing them)",
          [silence(300)],
        ),
      ),
      { do: "destroy" },
      { do: "exited", code: 0 },
    ],
  },
];

const oversized: CaseInput[] = [
  {
    title: "Unknown message type x (13 bytes): ProtocolError 2, then close",
    checks:
      `${README}: "e.g. an illegal message is received—a ProtocolError is written and the connection is closed"`,
    steps: [send("x000000000000"), oneOf(invalidMessage(), goSilentClose("an unknown type"))],
  },
  {
    title: "A lone unknown type byte: ProtocolError 2 at once, then close",
    checks:
      `${README}: an illegal message → ProtocolError and close (the type byte alone is illegal)`,
    steps: [
      send("x"),
      oneOf(
        invalidMessage(1000),
        nonStrict(
          "no reaction until 13 bytes have arrived (reference: ReadMsg reads 13 bytes before looking at the type)",
          [silence(200)],
        ),
      ),
    ],
  },
  {
    title: "Non-hex payload size (zz): ProtocolError 2, then close",
    checks: `${README}: payloadSize = hexUInt8; an invalid message → ProtocolError 2 and close`,
    steps: [
      send(cat("r", "o001", "004echo", "0000zz05")),
      oneOf(invalidMessage(), goSilentClose("malformed hex")),
    ],
  },
  {
    title: "Non-hex name length: ProtocolError 2, then close",
    checks: `${README}: text3Size = hexUInt3`,
    steps: [
      send(cat("r", "o002", "0z4echo", "00000000")),
      oneOf(invalidMessage(), goSilentClose("malformed hex")),
    ],
  },
  {
    title: "A sign in the payload size (+0000005): ProtocolError 2, then close",
    checks: `${README}: hexUInt8 = 8 <hexdigit>s (no sign)`,
    steps: [
      send(cat("r", "o003", "004echo", "+0000005", "hello")),
      oneOf(invalidMessage(), goSilentClose("malformed hex")),
    ],
  },
  {
    title: "A 0x prefix in the payload size (0x000005): ProtocolError 2, then close",
    checks: `${README}: hexUInt8 = 8 <hexdigit>s (no prefix)`,
    steps: [
      send(cat("r", "o004", "004echo", "0x000005", "hello")),
      oneOf(invalidMessage(), goSilentClose("malformed hex")),
    ],
  },
  {
    title: "A space in the payload size ( 0000005): ProtocolError 2, then close",
    checks: `${README}: hexUInt8 = 8 <hexdigit>s`,
    steps: [
      send(cat("r", "o005", "004echo", " 0000005", "hello")),
      oneOf(invalidMessage(), goSilentClose("malformed hex")),
    ],
  },
  {
    title: "Non-hex heartbeat load: ProtocolError 2, then close",
    checks: `${README}: load = hexUInt4`,
    steps: [send("h00zz00000000"), oneOf(invalidMessage(), goSilentClose("malformed hex"))],
  },
  {
    title: "Non-hex wait in a RetryResult: ProtocolError 2, then close",
    checks: `${README}: wait = hexUInt8`,
    steps: [
      send(cat("e", "o006", "0000zz00", "00000000")),
      oneOf(invalidMessage(), goSilentClose("malformed hex")),
    ],
  },
  {
    title:
      "Declared size ffffffff over --max-payload 1024: ProtocolError 2 and close, no allocation",
    checks:
      `${NOTES}: "The Go reader allocates whatever the header declares ... Ours must bound it before allocating."`,
    serve: { maxPayload: 1024 },
    steps: [send(cat("r", "o007", "004echo", "ffffffff")), oneOf(invalidMessage(2000))],
  },
  {
    title: "Declared size 1025 over --max-payload 1024: ProtocolError 2, then close",
    checks: `${CONTRACT}: --max-payload BYTES`,
    serve: { maxPayload: 1024 },
    steps: [send(cat("r", "o008", "004echo", hex(1025, 8))), oneOf(invalidMessage())],
  },
  {
    title: "A payload of exactly --max-payload 1024 is accepted",
    checks: `${CONTRACT}: --max-payload BYTES (the limit is inclusive)`,
    serve: { maxPayload: 1024 },
    steps: [send(req("o009", "echo", noise(1024 - 0, 5))), expect(R("o009", noise(1024, 5)))],
  },
  {
    title: "A declared 17 MiB payload on a default server: ProtocolError 2, then close",
    checks:
      `${NOTES}: "there is no cap in the reference. Ours must bound it before allocating" (default cap 16 MiB)`,
    steps: [
      send(cat("r", "o010", "004echo", hex(17 * 1024 * 1024, 8))),
      oneOf(
        invalidMessage(1000),
        nonStrict(
          "no payload limit: waits for the declared 17 MiB (reference allocates whatever a header declares)",
          [silence(200)],
        ),
      ),
    ],
  },
  {
    title: "A second version 01 after the handshake: ProtocolError 2, then close",
    checks:
      `${README}: conversation = ProtocolVersion Message* (the version comes once); 0 is no message type`,
    steps: [
      send(cat("01", req("o011", "echo", "x"))),
      oneOf(
        invalidMessage(),
        nonStrict(
          'closes silently without f00000002 (reference: it parses 13 bytes as a header before it checks the type; in "01ro011004ech" the size field is not hex, so its unknown-type check is never reached)',
          [closed()],
        ),
      ),
    ],
  },
];

// WebSocket: what gotalk.js needs from a server, and what Go's WebSocket server does.
const WS = ["ws"] as TransportName[];
const wsMessages = (
  msgs: WsMessagePattern[],
  extra: Partial<WsMessagesStep> = {},
): WsMessagesStep => ({ do: "wsMessages", msgs, ...extra });
/** Close codes a server may end a WebSocket with: normal, or gotalk.js's 4000 + code. */
const CLEAN_CLOSE = [1000, 1001, 1005, 4000, 4001, 4002, 4003];
const GOTALK_JS =
  `${NOTES}: "gotalk.js reads each WebSocket message as exactly one header, and the next message as that header's whole payload"`;
const upgrade = (
  conn: string,
  origin: string | null | undefined,
  outcomes: UpgradeOutcome[],
): UpgradeStep => ({
  do: "upgrade",
  conn,
  origin,
  outcomes,
});

const jsNotes = JSON.stringify({ count: 1, last: { name: "js-note", value: { a: 1 } } });
const wsCases: CaseInput[] = [
  {
    title: "The server's version 01 is a binary WebSocket message of its own, sent first",
    checks:
      `${NOTES}: "Go's WebSocket server uses binary frames and writes the header and the payload as separate WebSocket messages (... 01 | R000000000004 | hi)"; ${GOTALK_JS}`,
    handshake: false,
    transports: WS,
    steps: [
      wsMessages(["01"]),
      send("01"),
      send(req("w001", "echo", "hi")),
      wsMessages(["Rw00100000002", "hi"]),
    ],
  },
  {
    title: "Each header and each non-empty payload is one binary message (R, E, n, S; empty R)",
    checks:
      `${NOTES}: "A server talking to gotalk.js must therefore never put header and payload in one message, and never split either across messages"`,
    transports: WS,
    steps: [
      send(req("w002", "echo")),
      wsMessages(["Rw00200000000"]),
      send(req("w003", "fail", "boom")),
      wsMessages(["Ew00300000004", "boom"]),
      send(jreq("w004", "notify-back", { name: "nb", value: 1 })),
      wsMessages(["n002nb00000001", "1", "Rw00400000004", "true"]),
      send(cat(sreq("w005", "stream-echo", "ab"), msg("p", "w005", "cd"), msg("p", "w005"))),
      wsMessages(["Sw00500000002", "ab", "Sw00500000002", "cd", "Sw00500000000"]),
    ],
  },
  {
    title: "A RetryResult's header and text are separate binary messages",
    checks: `${GOTALK_JS}; ${README}: RetryResult = "e" requestID wait payload`,
    serve: { maxBufferRequests: 1 },
    transports: WS,
    steps: [
      send(jreq("w006", "sleep", { ms: 300, value: 1 })),
      send(req("w007", "echo", "x")),
      wsMessages([/^ew007[0-9a-f]{16}$/, /^[^{"].*$/s, "Rw00600000001", "1"], {
        timeoutMs: 3000,
      }),
    ],
  },
  {
    title: "Heartbeats are binary messages of 13 bytes",
    checks: `${GOTALK_JS}; ${NOTES}: "h (heartbeat): 13 bytes"`,
    serve: { heartbeatMs: 200 },
    transports: WS,
    steps: [wsMessages([/^h[0-9a-f]{12}$/, /^h[0-9a-f]{12}$/], { timeoutMs: 2000 })],
  },
  {
    title: "A header split across three messages is reassembled",
    checks:
      `${NOTES}: "Go's reader treats the WebSocket as a byte stream and ignores message boundaries"`,
    transports: WS,
    steps: [
      send(req("w010", "echo", "split header"), { split: [3, 9, 17] }),
      expect(R("w010", "split header")),
    ],
  },
  {
    title: "Two requests and a notification in one message are all read",
    checks: `${NOTES}: the server reads a byte stream, whatever the message boundaries`,
    transports: WS,
    steps: [
      send(cat(req("w011", "echo", "one"), note("w", "1"), req("w012", "notes"))),
      expect([R("w011", "one"), R("w012", notesIs(1, "w", 1))]),
    ],
  },
  {
    title: "Payloads in messages of their own, as gotalk.js sends them (r, s, p, n)",
    checks:
      `${NOTES}: gotalk.js "sends" each header and payload as one message; the server reads a byte stream`,
    transports: WS,
    steps: [
      send(req("w013", "echo", "payload alone"), { split: [20] }),
      expect(R("w013", "payload alone")),
      send(sreq("w014", "stream-echo", "first"), { split: [27] }),
      send(msg("p", "w014", "second"), { split: [13] }),
      send(msg("p", "w014")),
      expect([S("w014", "first"), S("w014", "second"), S("w014", "")]),
      send(note("alone", "[1]"), { split: [17] }),
      send(req("w015", "notes")),
      expect(R("w015", notesIs(1, "alone", [1]))),
    ],
  },
  {
    title:
      "Boundaries anywhere: messages that end inside a request and hold the next request's start",
    checks:
      `${NOTES}: "Go's reader treats the WebSocket as a byte stream and ignores message boundaries"`,
    transports: WS,
    steps: [
      send(cat(req("w016", "echo", "abc"), req("w017", "echo", "defg")), { split: [10, 21, 30] }),
      expect([R("w016", "abc"), R("w017", "defg")]),
    ],
  },
  {
    title:
      "A gotalk.js session: base-36 ids, a !xxx stream, heartbeat load 0, one message per part",
    checks:
      `${NOTES}: "gotalk.js sends 4 base-36 characters (0000…zzzz) for requests and ! + 3 base-36 characters for stream requests"; "gotalk.js sends a heartbeat every 20 s with load 0"; ${GOTALK_JS}`,
    transports: WS,
    steps: [
      send(jreq("0000", "upper", "abc"), { split: [21] }),
      wsMessages(["R000000000005", '"ABC"']),
      send(sreq("!000", "stream-echo", "p1"), { split: [27] }),
      wsMessages(["S!00000000002", "p1"]),
      send(msg("p", "!000", "p2"), { split: [13] }),
      wsMessages(["S!00000000002", "p2"]),
      send(msg("p", "!000")),
      wsMessages(["S!00000000000"]),
      send(() => hb(0, nowSec())),
      send(note("js-note", '{"a":1}'), { split: [19] }),
      send(req("0001", "notes")),
      wsMessages([`R0001${hex(jsNotes.length, 8)}`, jsNotes]),
    ],
  },
  {
    title: "An upgrade with the server's own origin is accepted; one without Origin gets 403",
    checks:
      `${NOTES}: "Go's WebSocket server answers 403 when the Origin header is missing or null ... Non-browser clients (Deno, Bun, Node) must send an Origin header"`,
    transports: WS,
    steps: [
      upgrade("same", undefined, [{ status: 101, verdict: "OK", note: "" }]),
      upgrade("none", null, [{ status: 403, verdict: "OK", note: "" }]),
    ],
  },
  {
    title: "An upgrade with Origin: null gets 403",
    checks:
      `${NOTES}: "Go's WebSocket server answers 403 when the Origin header is missing or null"`,
    transports: WS,
    steps: [upgrade("null", "null", [{ status: 403, verdict: "OK", note: "" }])],
  },
  {
    title: "An upgrade from a foreign origin: 101 (as Go) or 403 (same-origin policy), both OK",
    checks:
      `${NOTES}: Go's WebSocket server "accepts any other origin" (any non-null, parseable origin); refusing origins other than the server's own is the safer default against cross-site WebSocket hijacking`,
    transports: WS,
    steps: [
      upgrade("foreign", "http://foreign.example", [
        {
          status: 101,
          verdict: "OK",
          note:
            "accepts a foreign origin, as the Go reference does (the application must check origins)",
        },
        {
          status: 403,
          verdict: "OK",
          note: "refuses a foreign origin (same-origin policy; the Go reference accepts it)",
        },
      ]),
    ],
  },
  {
    title: "Text messages carrying Gotalk bytes are read like binary ones; answers stay binary",
    checks:
      `${GO}: "x/net/websocket client connections write text frames unless PayloadType is set ... Go's reader accepts both"`,
    transports: WS,
    steps: [
      send(req("w030", "echo", "text frame"), { frame: "text" }),
      wsMessages(["Rw0300000000a", "text frame"]),
    ],
  },
  {
    title: "gotalk.js's protocol-error close: f00000002 then close code 4002; the server closes",
    checks:
      `${NOTES}: "gotalk.js closes the WebSocket with code 4000 + the protocol error code"; ${README}: after a ProtocolError "the connection is closed"`,
    transports: WS,
    steps: [
      send("f00000002"),
      { do: "wsClose", code: 4002 },
      closed({ closeCodes: CLEAN_CLOSE }),
    ],
  },
  {
    title:
      "After its ProtocolError, the server ends the WebSocket with a close frame (1000 or 4002)",
    checks:
      `${NOTES}: gotalk.js treats any close code but 1000 as an error and closes with 4000 + code itself; Go closes with 1000`,
    transports: WS,
    steps: [send("x000000000000"), expect(F(2)), closed({ closeCodes: [1000, 4002] })],
  },
  {
    title: "Past --read-timeout: f00000003 alone in a message, then a close frame (1000 or 4003)",
    checks: `${NOTES}: "on read timeout it sends f00000003"; ${GOTALK_JS}`,
    serve: { readTimeoutMs: 300 },
    transports: WS,
    steps: [wsMessages(["f00000003"], { timeoutMs: 2000 }), closed({ closeCodes: [1000, 4003] })],
  },
  {
    title: "The client closes (1000) with a request in flight: the server completes the close",
    checks: `${README}: a connection ending is not a server fault; RFC 6455: the close is echoed`,
    transports: WS,
    steps: [
      send(jreq("w040", "sleep", { ms: 300, value: 1 })),
      { do: "wsClose", code: 1000 },
      closed({ closeCodes: [1000, 1001, 1005], allowBefore: [R("w040")] }),
    ],
  },
  {
    title: "…/gotalk.js is served (ETag, gzip, 304 on a matching ETag) — optional",
    checks:
      `${NOTES}: "Go's WebSocket server serves the embedded gotalk.js at any path ending in /gotalk.js (ETag, gzip, max-age=300, 304 on a matching ETag)"`,
    transports: WS,
    steps: [{ do: "http", run: gotalkJs }],
  },
];

/** The gotalk.js route of ws/18: optional (UNSUPPORTED when absent), checked when present. */
async function gotalkJs(
  get: (path: string, headers?: Record<string, string>) => Promise<HttpResponse>,
): Promise<Judgement | undefined> {
  const plain = await get("/gotalk/gotalk.js", { "accept-encoding": "identity" });
  if (plain.status === 404) {
    return {
      verdict: "UNSUPPORTED",
      note:
        "serves no gotalk.js (404): an application route, not the protocol; gotalk.js is not ours to ship",
    };
  }
  if (plain.status !== 200) throw new Error(`GET /gotalk/gotalk.js: HTTP ${plain.status}`);
  const type = plain.headers["content-type"] ?? "";
  if (!/javascript/.test(type)) throw new Error(`content-type ${JSON.stringify(type)}`);
  if (plain.body.length === 0) throw new Error("empty body");
  const etag = plain.headers["etag"];
  if (!etag) throw new Error("no ETag");
  const again = await get("/gotalk/gotalk.js", { "if-none-match": etag });
  if (again.status !== 304) {
    throw new Error(`If-None-Match ${etag}: HTTP ${again.status}, want 304`);
  }
  const gz = await get("/gotalk/gotalk.js", { "accept-encoding": "gzip" });
  const notes = [`ETag ${etag}`, `cache-control ${plain.headers["cache-control"] ?? "(none)"}`];
  if (gz.headers["content-encoding"] === "gzip") {
    const { gunzipSync } = await import("node:zlib");
    const body = new Uint8Array(gunzipSync(gz.body));
    if (body.length !== plain.body.length || body.some((b, i) => b !== plain.body[i])) {
      throw new Error("the gzip body does not unzip to the plain one");
    }
    notes.push("gzip");
  }
  return { verdict: "OK", note: notes.join(", ") };
}

function build(section: Section, inputs: CaseInput[]): Case[] {
  return inputs.map((c, i) => ({ id: `gotalk/${section}/${i + 1}`, section, ...c }));
}

/**
 * Whether case `c` runs over `transport`.
 *
 * @param c The case.
 * @param transport `tcp` or `ws`.
 * @returns Whether it applies.
 */
export function runsOver(c: Case, transport: TransportName): boolean {
  return (c.transports ?? ["tcp", "ws"]).includes(transport);
}

/** The catalogue, in section order. */
export const CASES: readonly Case[] = [
  ...build("handshake", handshake),
  ...build("framing", framing),
  ...build("requests", requests),
  ...build("faults", faults),
  ...build("limits", limits),
  ...build("streams", streams),
  ...build("notifications", notifications),
  ...build("heartbeats", heartbeats),
  ...build("timeouts", timeouts),
  ...build("close", closeCases),
  ...build("oversized", oversized),
  ...build("ws", wsCases),
];

/** How the catalogue covers one item of `shared/interop-notes.md`. */
export interface NoteCoverage {
  /** The interop note, abridged. */
  note: string;
  /** The cases that check it. */
  cases: string[];
  /**
   * What else checks it, where the catalogue cannot (Go API behaviour, client behaviour, long
   * timeouts): tests and harnesses by path and name.
   */
  elsewhere?: string[];
  /** What is not checked anywhere, and why. */
  gap?: string;
}

const ids = (section: Section, ...n: number[]): string[] => n.map((i) => `gotalk/${section}/${i}`);
const GO_TESTS = "conformance/go-peer/quirks_test.go";
const GO_MAIN_TESTS = "conformance/go-peer/main_test.go";
const IDLE =
  "conformance/matrix.ts idle test: our clients idle 40 s on a Go server with Go's 30 s read timeout, and a Go client (gotalk.DefaultLimits: 30 s read timeout, 20 s heartbeats) idles 40 s on our servers with the library defaults";
const GOTALK_JS_TEST =
  'src/transports/websocket/websocket_test.ts "gotalk.js (the reference browser client) against our server" (runs the real gotalk.js on Bun and Node, skipped on Deno)';

/** Which cases cover each item of `shared/interop-notes.md` (kept in the notes' order). */
export const INTEROP_NOTES_COVERAGE: readonly NoteCoverage[] = [
  {
    note: "Handshake 01; hex written lowercase, read in either case",
    cases: [
      ...ids("handshake", 1, 3, 7),
      ...ids("framing", 9, 10, 11, 12),
      ...ids("heartbeats", 1, 4),
      ...ids("ws", 1),
    ],
  },
  {
    note: "Header sizes: r/s, n, p R S E (13), e (21), h (13), f (9 bytes)",
    cases: [
      ...ids("framing", 1, 2),
      ...ids("limits", 1),
      ...ids("heartbeats", 1),
      ...ids("close", 4, 5),
      ...ids("ws", 2, 3, 4, 16),
    ],
  },
  {
    note: "Name length 000 is a legal empty name; fff (4095 bytes) the longest",
    cases: [...ids("framing", 7, 8), ...ids("notifications", 4, 7)],
  },
  {
    note: "Payload sizes up to ffffffff; Go allocates what is declared, ours bounds it first",
    cases: ids("oversized", 10, 11, 12, 13),
  },
  {
    note:
      "Ids are 4 opaque bytes (not 3 as the README's prose says): Go's little-endian counters, gotalk.js base-36 and !xxx; echoed byte for byte",
    cases: [...ids("framing", 5, 6), ...ids("requests", 9), ...ids("ws", 9)],
  },
  {
    note:
      "E and e payloads are plain text; Go's texts (unknown operation, stream requests not supported, request rate limit); gotalk.js's texts",
    cases: [...ids("faults", 1, 2, 3, 4, 5), ...ids("requests", 6), ...ids("limits", 1, 6)],
    elsewhere: [
      `${GO_MAIN_TESTS} TestWireErrorTexts, TestStreamsDisabled, TestWireBufferLimitRetry (Go's exact texts)`,
      "gotalk.js's texts (no such operation, internal error) are those of gotalk.js serving requests in a browser; the checks unknown-op and fail-error-result accept any text",
    ],
  },
  {
    note:
      "Go's default limits: read timeout 30 s, unlimited buffer requests, streams disabled, retry wait 500-5000 ms",
    cases: ids("limits", 1, 2, 4, 6),
    elsewhere: [IDLE, `${GO_MAIN_TESTS} TestServeReadTimeout30s`],
  },
  {
    note:
      "ProtocolError codes; Go sends f00000002 only for an unknown type, closes silently on a version mismatch or malformed hex, sends f00000003 on timeout; f is 9 bytes: close after sending one",
    cases: [
      ...ids("handshake", 5, 6),
      ...ids("oversized", 1, 2, 3, 4, 5, 6, 7, 8, 9, 14),
      ...ids("timeouts", 1),
      ...ids("close", 4, 5, 6),
      ...ids("ws", 14, 15, 16),
    ],
  },
  {
    note: "Go's BufferRequest retries a RetryResult forever; ours must bound retries",
    cases: ids("requests", 16),
  },
  {
    note:
      "Heartbeats: Go's NewSock/Connect sockets send one every 20 s, accepted sockets none; reads time out after 30 s, so a peer talking to Go must heartbeat more often",
    cases: [...ids("heartbeats", 3, 6), ...ids("timeouts", 1, 2, 3)],
    elsewhere: [IDLE, `${GO_MAIN_TESTS} TestCheckIdle, TestCheckIdleDropped`],
  },
  {
    note: "gotalk.js sends a heartbeat every 20 s with load 0",
    cases: [...ids("heartbeats", 3), ...ids("ws", 9)],
    elsewhere: ["conformance/gotalk_js.ts js-heartbeat (gotalk.js's own first heartbeat)"],
  },
  {
    note:
      "WebSocket: binary frames; Go writes the handshake, each header and each payload as separate messages",
    cases: ids("ws", 1, 2, 3, 4, 13, 16),
    elsewhere: [`${GO_MAIN_TESTS} TestWireWebSocket`],
  },
  {
    note:
      "gotalk.js reads one message as one header and the next as its payload: never combine or split them",
    cases: ids("ws", 1, 2, 3, 4, 9, 16),
    elsewhere: [GOTALK_JS_TEST],
  },
  {
    note: "Go's reader treats the WebSocket as a byte stream and ignores message boundaries",
    cases: ids("ws", 5, 6, 7, 8, 13),
    elsewhere: [
      "every tcp case also runs over ws (columns NAME/ws), where each send step is one message: framing/1-4, handshake/3-4 and notifications/8 split and pipeline across messages",
    ],
  },
  {
    note:
      "Go's WebSocket server: 403 without an Origin or with null, any other origin accepted; non-browser clients must send one",
    cases: ids("ws", 10, 11, 12),
  },
  {
    note: "Go's WebSocket server serves gotalk.js at any path ending in /gotalk.js",
    cases: ids("ws", 18),
  },
  {
    note:
      "gotalk.js closes with 4000 + the protocol error code; it has no handler for e, s or p (it sends f00000002 and closes)",
    cases: ids("ws", 14, 15),
    elsewhere: [
      GOTALK_JS_TEST,
      "conformance/gotalk_js.ts (client probe, run by matrix.ts on Bun: gotalk.js answers e, s and p with f00000002 and close code 4002, and f00000003 with close code 4003)",
    ],
  },
  {
    note: "gotalk.js does not run on Deno (it relies on __proto__); it runs on Bun and in browsers",
    cases: [],
    elsewhere: [
      "conformance/gotalk_js.ts (the probe also tries Deno and expects gotalk.js to fail there)",
      GOTALK_JS_TEST,
    ],
  },
  {
    note: "Streams: s, p parts, empty p; S parts, empty S; request and result kinds independent",
    cases: ids("streams", 1, 2, 3, 4, 5, 6, 10, 11),
    elsewhere: [
      "checks stream-single-result and single-stream-result (conformance/peer.ts, go-peer check.go): every client copes with both kinds",
      `${GO_MAIN_TESTS} TestWireMixedKinds`,
    ],
  },
  {
    note:
      "Go stalls the connection on a slow stream consumer or notification handler; ours must not",
    cases: [...ids("streams", 12), ...ids("notifications", 9)],
    elsewhere: [`${GO_MAIN_TESTS} TestWireSlowConsumersStall`],
  },
  {
    note: "Go's CloseHandler receives the protocol error code + 1",
    cases: [],
    elsewhere: [
      `${GO_TESTS} TestQuirkCloseHandlerCodePlusOne`,
      `${GO_MAIN_TESTS} TestCheckIdleDropped`,
    ],
  },
  {
    note: "Go's server panics when the min and max retry waits are equal and the limit is hit",
    cases: [],
    elsewhere: [`${GO_TESTS} TestQuirkEqualRetryWaitsPanic`],
  },
  {
    note: "A Go sub-handler set's own fallback is never reached",
    cases: [],
    elsewhere: [
      `${GO_TESTS} TestQuirkSubHandlerFallbackNeverReached`,
      "src/peer/handlers.ts (ours: the nearest fallback, this set's first)",
    ],
  },
];

/**
 * The `serve` command-line options for `options`, in the peer contract's spelling.
 *
 * @param options The case's serve options.
 * @returns The arguments, e.g. `["--read-timeout", "300"]`.
 */
export function serveArgs(options: ServeOptions = {}): string[] {
  const out: string[] = [];
  if (options.maxBufferRequests !== undefined) {
    out.push("--max-buffer-requests", String(options.maxBufferRequests));
  }
  if (options.maxStreamRequests !== undefined) {
    out.push("--max-stream-requests", String(options.maxStreamRequests));
  }
  if (options.readTimeoutMs !== undefined) {
    out.push("--read-timeout", String(options.readTimeoutMs));
  }
  if (options.heartbeatMs !== undefined) out.push("--heartbeat", String(options.heartbeatMs));
  if (options.maxPayload !== undefined) out.push("--max-payload", String(options.maxPayload));
  return out;
}
