/**
 * Catalogue section `handshake`: version `01` first, split, pipelined, unsupported and malformed
 * versions.
 *
 * @module
 */

import {
  build,
  cat,
  closed,
  codeIn,
  echoWorks,
  expect,
  expectBytes,
  F,
  nonStrict,
  NOTES,
  ok,
  oneOf,
  pause,
  R,
  README,
  req,
  send,
} from "./_dsl.ts";
import type { Case } from "./_types.ts";

/** The `handshake` section, in id order (`gotalk/handshake/1` first). */
export const handshake: readonly Case[] = build("handshake", [
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
]);
