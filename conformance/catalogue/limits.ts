/**
 * Catalogue section `limits`: RetryResult over `--max-buffer-requests` / `--max-stream-requests`.
 *
 * @module
 */

import {
  build,
  cat,
  closed,
  CONTRACT,
  echoWorks,
  expect,
  GO,
  jreq,
  msg,
  nonStrict,
  NOTES,
  ok,
  oneOf,
  pause,
  R,
  README,
  retryWait,
  S,
  send,
  sreq,
} from "./_dsl.ts";
import type { Case } from "./_types.ts";

/** The `limits` section, in id order (`gotalk/limits/1` first). */
export const limits: readonly Case[] = build("limits", [
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
]);
