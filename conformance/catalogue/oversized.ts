/**
 * Catalogue section `oversized`: malformed hex, unknown types, payload limits.
 *
 * @module
 */

import {
  build,
  cat,
  closed,
  CONTRACT,
  expect,
  goSilentClose,
  hex,
  invalidMessage,
  noise,
  nonStrict,
  NOTES,
  oneOf,
  R,
  README,
  req,
  send,
  silence,
} from "./_dsl.ts";
import type { Case } from "./_types.ts";

/** The `oversized` section, in id order (`gotalk/oversized/1` first). */
export const oversized: readonly Case[] = build("oversized", [
  {
    title: "Unknown message type x (13 bytes): ProtocolError 2, then close",
    checks:
      `${README}: "e.g. an illegal message is received—a ProtocolError is written and the connection is closed"`,
    steps: [send("x000000000000"), oneOf(invalidMessage(), goSilentClose("an unknown type"))],
  },
  {
    title: "A lone unknown type byte: ProtocolError 2 at once, then close",
    checks:
      `${README}: an illegal message → ProtocolError and close (the type byte alone is illegal)`,
    steps: [
      send("x"),
      oneOf(
        invalidMessage(1000),
        nonStrict(
          "no reaction until 13 bytes have arrived (reference: ReadMsg reads 13 bytes before looking at the type)",
          [silence(200)],
        ),
      ),
    ],
  },
  {
    title: "Non-hex payload size (zz): ProtocolError 2, then close",
    checks: `${README}: payloadSize = hexUInt8; an invalid message → ProtocolError 2 and close`,
    steps: [
      send(cat("r", "o001", "004echo", "0000zz05")),
      oneOf(invalidMessage(), goSilentClose("malformed hex")),
    ],
  },
  {
    title: "Non-hex name length: ProtocolError 2, then close",
    checks: `${README}: text3Size = hexUInt3`,
    steps: [
      send(cat("r", "o002", "0z4echo", "00000000")),
      oneOf(invalidMessage(), goSilentClose("malformed hex")),
    ],
  },
  {
    title: "A sign in the payload size (+0000005): ProtocolError 2, then close",
    checks: `${README}: hexUInt8 = 8 <hexdigit>s (no sign)`,
    steps: [
      send(cat("r", "o003", "004echo", "+0000005", "hello")),
      oneOf(invalidMessage(), goSilentClose("malformed hex")),
    ],
  },
  {
    title: "A 0x prefix in the payload size (0x000005): ProtocolError 2, then close",
    checks: `${README}: hexUInt8 = 8 <hexdigit>s (no prefix)`,
    steps: [
      send(cat("r", "o004", "004echo", "0x000005", "hello")),
      oneOf(invalidMessage(), goSilentClose("malformed hex")),
    ],
  },
  {
    title: "A space in the payload size ( 0000005): ProtocolError 2, then close",
    checks: `${README}: hexUInt8 = 8 <hexdigit>s`,
    steps: [
      send(cat("r", "o005", "004echo", " 0000005", "hello")),
      oneOf(invalidMessage(), goSilentClose("malformed hex")),
    ],
  },
  {
    title: "Non-hex heartbeat load: ProtocolError 2, then close",
    checks: `${README}: load = hexUInt4`,
    steps: [send("h00zz00000000"), oneOf(invalidMessage(), goSilentClose("malformed hex"))],
  },
  {
    title: "Non-hex wait in a RetryResult: ProtocolError 2, then close",
    checks: `${README}: wait = hexUInt8`,
    steps: [
      send(cat("e", "o006", "0000zz00", "00000000")),
      oneOf(invalidMessage(), goSilentClose("malformed hex")),
    ],
  },
  {
    title:
      "Declared size ffffffff over --max-payload 1024: ProtocolError 2 and close, no allocation",
    checks:
      `${NOTES}: "The Go reader allocates whatever the header declares ... Ours must bound it before allocating."`,
    serve: { maxPayload: 1024 },
    steps: [send(cat("r", "o007", "004echo", "ffffffff")), oneOf(invalidMessage(2000))],
  },
  {
    title: "Declared size 1025 over --max-payload 1024: ProtocolError 2, then close",
    checks: `${CONTRACT}: --max-payload BYTES`,
    serve: { maxPayload: 1024 },
    steps: [send(cat("r", "o008", "004echo", hex(1025, 8))), oneOf(invalidMessage())],
  },
  {
    title: "A payload of exactly --max-payload 1024 is accepted",
    checks: `${CONTRACT}: --max-payload BYTES (the limit is inclusive)`,
    serve: { maxPayload: 1024 },
    steps: [send(req("o009", "echo", noise(1024 - 0, 5))), expect(R("o009", noise(1024, 5)))],
  },
  {
    title: "A declared 17 MiB payload on a default server: ProtocolError 2, then close",
    checks:
      `${NOTES}: "there is no cap in the reference. Ours must bound it before allocating" (default cap 16 MiB)`,
    steps: [
      send(cat("r", "o010", "004echo", hex(17 * 1024 * 1024, 8))),
      oneOf(
        invalidMessage(1000),
        nonStrict(
          "no payload limit: waits for the declared 17 MiB (reference allocates whatever a header declares)",
          [silence(200)],
        ),
      ),
    ],
  },
  {
    title: "A second version 01 after the handshake: ProtocolError 2, then close",
    checks:
      `${README}: conversation = ProtocolVersion Message* (the version comes once); 0 is no message type`,
    steps: [
      send(cat("01", req("o011", "echo", "x"))),
      oneOf(
        invalidMessage(),
        nonStrict(
          'closes silently without f00000002 (reference: it parses 13 bytes as a header before it checks the type; in "01ro011004ech" the size field is not hex, so its unknown-type check is never reached)',
          [closed()],
        ),
      ),
    ],
  },
]);
