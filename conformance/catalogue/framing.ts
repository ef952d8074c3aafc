/**
 * Catalogue section `framing`: any split of the byte stream, opaque binary and base-36 ids, 000/fff
 * names, hex case.
 *
 * @module
 */

import {
  build,
  cat,
  contains,
  E,
  echoWorks,
  expect,
  expectBytes,
  hex,
  N,
  NOTES,
  R,
  README,
  req,
  S,
  send,
  utf8,
} from "./_dsl.ts";
import type { Case } from "./_types.ts";

const splitEcho = req("x000", "echo", "hi"); // 20-byte header + 2-byte payload

/** The `framing` section, in id order (`gotalk/framing/1` first). */
export const framing: readonly Case[] = build("framing", [
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
]);
