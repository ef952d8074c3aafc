/**
 * The Gotalk v1 conformance case catalogue, modelled on h2spec and Autobahn|Testsuite: each case
 * is data (the bytes a raw client sends, with chunk splits and pauses where they matter) plus
 * small predicates over what comes back. `../driver.ts` runs it against any implementation.
 *
 * Layout: one file per section (`handshake.ts`, `framing.ts`, ..., `ws.ts`, named as in
 * {@linkcode SECTIONS}), written with the shorthands of `_dsl.ts` over the types of `_types.ts`;
 * `coverage.ts` maps the interop notes to cases; this module assembles {@linkcode CASES} in
 * section order and is the one to import.
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

import type { Case, ServeOptions, TransportName } from "./_types.ts";
import { closeCases } from "./close.ts";
import { faults } from "./faults.ts";
import { framing } from "./framing.ts";
import { handshake } from "./handshake.ts";
import { heartbeats } from "./heartbeats.ts";
import { limits } from "./limits.ts";
import { notifications } from "./notifications.ts";
import { oversized } from "./oversized.ts";
import { requests } from "./requests.ts";
import { streams } from "./streams.ts";
import { timeouts } from "./timeouts.ts";
import { wsCases } from "./ws.ts";

export { SECTIONS } from "./_types.ts";
export type {
  Captures,
  Case,
  ClosedStep,
  CloseStep,
  CollectStep,
  ConnectStep,
  Data,
  ExitedStep,
  ExpectBytesStep,
  ExpectStep,
  HttpResponse,
  HttpStep,
  Judgement,
  MessagePattern,
  OneOfStep,
  Outcome,
  PauseStep,
  PayloadMatch,
  ReadStep,
  RepeatStep,
  ScriptIO,
  ScriptStep,
  Section,
  SendStep,
  ServeOptions,
  SigtermStep,
  SilenceStep,
  Step,
  TransportName,
  UpgradeOutcome,
  UpgradeStep,
  Verdict,
  WsCloseStep,
  WsMessagePattern,
  WsMessagesStep,
} from "./_types.ts";
export {
  cat,
  contains,
  E,
  F,
  hb,
  hex,
  idNum,
  idStr,
  jreq,
  lat,
  msg,
  N,
  note,
  plainText,
  R,
  req,
  S,
  sreq,
} from "./_dsl.ts";
export { INTEROP_NOTES_COVERAGE, type NoteCoverage } from "./coverage.ts";

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
  ...handshake,
  ...framing,
  ...requests,
  ...faults,
  ...limits,
  ...streams,
  ...notifications,
  ...heartbeats,
  ...timeouts,
  ...closeCases,
  ...oversized,
  ...wsCases,
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
