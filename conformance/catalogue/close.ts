/**
 * Catalogue section `close`: disconnects, ProtocolErrors from the client, SIGTERM.
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
  F,
  jreq,
  nonStrict,
  NOTES,
  ok,
  oneOf,
  pause,
  README,
  req,
  S,
  send,
  silence,
  sreq,
} from "./_dsl.ts";
import type { Case } from "./_types.ts";

/** The `close` section, in id order (`gotalk/close/1` first). */
export const closeCases: readonly Case[] = build("close", [
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
]);
