/**
 * Catalogue section `ws`: WebSocket only: what gotalk.js needs from a server, and what Go's
 * WebSocket server does (message boundaries, binary frames, Origin, close codes, the gotalk.js
 * route).
 *
 * @module
 */

import {
  build,
  cat,
  closed,
  expect,
  F,
  GO,
  hb,
  hex,
  jreq,
  msg,
  note,
  NOTES,
  notesIs,
  nowSec,
  R,
  README,
  req,
  S,
  send,
  sreq,
} from "./_dsl.ts";
import type {
  Case,
  HttpResponse,
  Judgement,
  TransportName,
  UpgradeOutcome,
  UpgradeStep,
  WsMessagePattern,
  WsMessagesStep,
} from "./_types.ts";

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

/** The `ws` section, in id order (`gotalk/ws/1` first). */
export const wsCases: readonly Case[] = build("ws", [
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
]);

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
