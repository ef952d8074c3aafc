/**
 * How the catalogue covers `shared/interop-notes.md`: for every note, the cases that check it,
 * and what checks it elsewhere where no server case can observe it (Go API quirks, client
 * behaviour, long timeouts). `report.ts` prints it and fails if it names an unknown case.
 *
 * @module
 */

import type { Section } from "./_types.ts";

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
