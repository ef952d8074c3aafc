/**
 * Catalogue section `notifications`: delivery, names, never replied to, a slow notification handler
 * (9).
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
  expectBytes,
  F,
  GO,
  jreq,
  N,
  nonStrict,
  note,
  NOTES,
  notesIs,
  notStalled,
  ok,
  oneOf,
  R,
  README,
  req,
  send,
  silence,
  utf8,
} from "./_dsl.ts";
import type { Case } from "./_types.ts";

/** The `notifications` section, in id order (`gotalk/notifications/1` first). */
export const notifications: readonly Case[] = build("notifications", [
  {
    title: "A notification from the driver is delivered (seen by notes)",
    checks: `${README}: Notification = "n" name payload; ${CONTRACT}: notes`,
    steps: [
      send(note("ping", '{"x":1}')),
      send(req("n001", "notes")),
      expect(R("n001", notesIs(1, "ping", { x: 1 }))),
    ],
  },
  {
    title: "notify-back: the server's notification arrives before the result",
    checks: `${CONTRACT}: notify-back: send notification N with JSON V, then result true`,
    steps: [
      send(jreq("n002", "notify-back", { name: "hey", value: [1, 2] })),
      expect(N("hey", { json: [1, 2] })),
      expect(R("n002", { json: true })),
    ],
  },
  {
    title: "A notification name's length counts UTF-8 bytes (exact bytes)",
    checks: `${README}: n00cchat message0000002e...; text3Size counts bytes`,
    steps: [
      send(jreq("n003", "notify-back", { name: "héllo", value: 7 })),
      expectBytes(cat("n006", utf8.encode("héllo"), "000000017")),
      expect(R("n003", { json: true })),
    ],
  },
  {
    title: "An empty-name notification (12-byte header) does not desynchronise the stream",
    checks:
      `${NOTES}: "A name length of 000 is a legal empty name"; ${GO}: reference reads 13 bytes first`,
    steps: [
      send(cat(note("", "1"), req("n004", "echo", "after"), req("n005", "notes"))),
      oneOf(
        ok([expect([R("n004", "after"), R("n005", notesIs(1, "", 1))])]),
        nonStrict(
          "loses sync after a 12-byte notification header and drops the connection (reference: ReadMsg always reads 13 bytes first, swallowing the next message's first byte)",
          [closed({ allowBefore: [F(2)] })],
        ),
      ),
    ],
  },
  {
    title: "Notifications are never replied to",
    checks: `${README}: "Notifications are never replied to nor can they cause "error" results."`,
    steps: [send(note("unknown-name", "x")), silence(300), ...echoWorks("n006")],
  },
  {
    title: "Three notifications in one write, all delivered",
    checks: `${README}: Notification = "n" name payload`,
    steps: [
      send(cat(note("a", "1"), note("b", "2"), note("c", '"three"'))),
      send(req("n007", "notes")),
      expect(R("n007", notesIs(3, "c", "three"))),
    ],
  },
  {
    title: "A notification with a 4095-byte name",
    checks: `${NOTES}: "fff (4095 bytes) is the longest"`,
    steps: [
      send(note("N".repeat(4095), "1")),
      send(req("n008", "notes")),
      expect(R("n008", notesIs(1, "N".repeat(4095), 1))),
    ],
  },
  {
    title: "A notification's header and payload in separate writes, 100 ms apart",
    checks: `${README}: the wire format is a byte stream`,
    steps: [
      send(note("split", "[1,2,3]"), { split: [17], pauseMs: 100 }),
      send(req("n009", "notes")),
      expect(R("n009", notesIs(1, "split", [1, 2, 3]))),
    ],
  },
  {
    title: "A slow notification handler stalls only itself (an echo is answered within 1 s)",
    checks:
      `${NOTES}: Go "runs notification handlers inline on the read loop, so one slow consumer stalls the whole connection. Ours must not."; ${CONTRACT}: block`,
    steps: [
      send(note("block", '{"ms":2000}')),
      send(req("n010", "echo", "not stalled")),
      notStalled(
        "n010",
        "a notification handler that takes 2 s (the reference runs it inline on its read loop)",
      ),
    ],
  },
]);
