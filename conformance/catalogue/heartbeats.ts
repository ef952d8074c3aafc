/**
 * Catalogue section `heartbeats`: sent with `--heartbeat`, accepted in any form, none by default.
 *
 * @module
 */

import {
  build,
  cat,
  CONTRACT,
  echoWorks,
  expect,
  hb,
  hex,
  NOTES,
  nowSec,
  R,
  README,
  req,
  send,
  silence,
} from "./_dsl.ts";
import type { Case, MessagePattern } from "./_types.ts";

const heartbeatNow: MessagePattern = {
  type: "h",
  test: (m) => {
    if (m.type !== "h") return undefined;
    const skew = m.time - nowSec();
    return Math.abs(skew) > 30 ? `heartbeat time ${m.time} is ${skew} s off` : undefined;
  },
};
/** The `heartbeats` section, in id order (`gotalk/heartbeats/1` first). */
export const heartbeats: readonly Case[] = build("heartbeats", [
  {
    title: "With --heartbeat, the server sends h: 13 bytes, lowercase hex, time ≈ now",
    checks:
      `${README}: Heartbeat = "h" load time; "the sender's local time in the form of an unsigned 32-bit UNIX timestamp"; ${NOTES}: h is 13 bytes`,
    serve: { heartbeatMs: 200 },
    steps: [
      expect({ ...heartbeatNow, raw: /^h[0-9a-f]{12}$/ }),
      expect({ ...heartbeatNow, raw: /^h[0-9a-f]{12}$/ }),
      ...echoWorks("t000"),
    ],
  },
  {
    title: "With --heartbeat 200, heartbeats keep coming (3 to 12 in 1 s)",
    checks: `${README}: "a heartbeat message is send at a certain interval"`,
    serve: { heartbeatMs: 200 },
    steps: [{ do: "collect", ms: 1000, msg: heartbeatNow, min: 3, max: 12 }],
  },
  {
    title: "A heartbeat from the driver is accepted silently",
    checks: `${README}: Heartbeat is a message; it asks for no reply`,
    steps: [send(() => hb(0, nowSec())), silence(300), ...echoWorks("t001")],
  },
  {
    title: "A heartbeat with uppercase hex is accepted",
    checks: `${NOTES}: "Hex is written lowercase, read in either case"`,
    steps: [
      send(() => cat("h00FF", hex(nowSec(), 8).toUpperCase())),
      silence(200),
      ...echoWorks("t002"),
    ],
  },
  {
    title: "Heartbeats with extreme values (load ffff, time 0 and ffffffff) are accepted",
    checks: `${README}: "0 means idle and 65535 (0xffff) means omg I think I'm dying"`,
    steps: [send(cat(hb(0xffff, 0), hb(0, 0xffffffff))), silence(200), ...echoWorks("t003")],
  },
  {
    title: "Without --heartbeat, the server sends no heartbeats",
    checks:
      `${CONTRACT}: --heartbeat MS (default 0: none); ${NOTES}: sockets accepted by Go's server send none`,
    steps: [silence(600, { heartbeats: "forbid" })],
  },
  {
    title: "A heartbeat pipelined between two requests in one write",
    checks: `${README}: conversation = ProtocolVersion Message*`,
    steps: [
      send(() => cat(req("t004", "echo", "a"), hb(1, nowSec()), req("t005", "echo", "b"))),
      expect([R("t004", "a"), R("t005", "b")]),
    ],
  },
]);
