/**
 * Catalogue section `timeouts`: `--read-timeout`: `f00000003`, kept alive by heartbeats or requests.
 *
 * @module
 */

import {
  build,
  cat,
  closed,
  echoWorks,
  expect,
  F,
  GO,
  hb,
  NOTES,
  nowSec,
  pause,
  README,
  send,
} from "./_dsl.ts";
import type { Case } from "./_types.ts";

/** The `timeouts` section, in id order (`gotalk/timeouts/1` first). */
export const timeouts: readonly Case[] = build("timeouts", [
  {
    title: "Idle past --read-timeout: ProtocolError 3, then close",
    checks:
      `${README}: code 3 "The other side closed the connection because communicating took too long"; ${NOTES}: "on read timeout it sends f00000003"`,
    serve: { readTimeoutMs: 300 },
    steps: [expect(F(3), { notBeforeMs: 200 }), closed()],
  },
  {
    title: "Driver heartbeats every 100 ms keep the connection alive past --read-timeout",
    checks:
      `${README}: "Because most responders will limit the time it waits for reads, a heartbeat message is send at a certain interval."`,
    serve: { readTimeoutMs: 300 },
    steps: [
      { do: "repeat", times: 12, steps: [send(() => hb(0, nowSec())), pause(100)] },
      ...echoWorks("w001"),
      expect(F(3), { notBeforeMs: 200 }),
      closed(),
    ],
  },
  {
    title: "Requests every 100 ms keep the connection alive past --read-timeout",
    checks: `${README}: the read timeout bounds the time between reads`,
    serve: { readTimeoutMs: 300 },
    steps: [
      { do: "repeat", times: 10, steps: [...echoWorks("w002"), pause(100)] },
      expect(F(3), { notBeforeMs: 200 }),
      closed(),
    ],
  },
  {
    title: "A header stalled half-way: ProtocolError 3, then close",
    checks: `${GO}: "The deadline is set before each header"`,
    serve: { readTimeoutMs: 300 },
    steps: [send("r00"), expect(F(3), { notBeforeMs: 200 }), closed()],
  },
  {
    title: "A payload stalled half-way: ProtocolError 3, then close",
    checks: `${GO}: the read deadline "also covers that message's payload"`,
    serve: { readTimeoutMs: 300 },
    steps: [
      send(cat("r", "w003", "004echo", "0000000a", "abc")),
      expect(F(3), { notBeforeMs: 200 }),
      closed(),
    ],
  },
]);
