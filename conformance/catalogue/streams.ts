/**
 * Catalogue section `streams`: `s`/`p`/`S`, interleaving, mixed kinds (10, 11), a slow stream
 * consumer (12).
 *
 * @module
 */

import {
  build,
  cat,
  closed,
  CONTRACT,
  E,
  echoWorks,
  expect,
  GO,
  goSilentClose,
  invalidMessage,
  jreq,
  msg,
  noise,
  nonStrict,
  NOTES,
  notStalled,
  ok,
  oneOf,
  R,
  README,
  req,
  S,
  send,
  silence,
  sreq,
} from "./_dsl.ts";
import type { Case } from "./_types.ts";

/** The README's sentence on mixed kinds, and the Go package's admission that it cannot. */
const MIXED_KINDS =
  `${README}: "Requests and results does not need to match on the "single" vs "streaming" detail"; ${NOTES}: "Request and result kinds are independent"`;
const GO_NO_MIXED =
  'the reference has no API for mixed kinds (README: "the current version of the Go package does not provide a high-level API for mixed-kind request-response handling")';

/** The `streams` section, in id order (`gotalk/streams/1` first). */
export const streams: readonly Case[] = build("streams", [
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
]);
