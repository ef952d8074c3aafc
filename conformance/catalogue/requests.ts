/**
 * Catalogue section `requests`: echo, upper, fail, out-of-order results, call-back, RetryResult
 * handling.
 *
 * @module
 */

import { encodeMessage, type Message } from "../../src/protocol/mod.ts";
import {
  build,
  cat,
  contains,
  CONTRACT,
  E,
  echoWorks,
  expect,
  expectBytes,
  GO,
  hex,
  idNum,
  jreq,
  json,
  msg,
  noise,
  NOTES,
  R,
  README,
  req,
  send,
  silence,
  utf8,
} from "./_dsl.ts";
import type { Case, ScriptIO } from "./_types.ts";

const mib = noise(1024 * 1024, 7);
const allBytes = Uint8Array.from({ length: 256 }, (_, i) => i);

/** The `requests` section, in id order (`gotalk/requests/1` first). */
export const requests: readonly Case[] = build("requests", [
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
]);

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
