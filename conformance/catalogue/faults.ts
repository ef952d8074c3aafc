/**
 * Catalogue section `faults`: ErrorResult texts are plain text, byte for byte.
 *
 * @module
 */

import {
  build,
  cat,
  CONTRACT,
  E,
  echoWorks,
  expect,
  expectBytes,
  GO,
  hex,
  lat,
  NOTES,
  plainText,
  README,
  req,
  send,
  silence,
  sreq,
} from "./_dsl.ts";
import type { Case } from "./_types.ts";

/** The `faults` section, in id order (`gotalk/faults/1` first). */
export const faults: readonly Case[] = build("faults", [
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
]);
