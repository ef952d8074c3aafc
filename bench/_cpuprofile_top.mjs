// deno-lint-ignore-file no-console
/**
 * Summarises a V8 `.cpuprofile` (from `node --cpu-prof` or `deno run --cpu-prof`): self time by
 * area (the `ws` package's Receiver and Sender, sockets and Node streams, Web streams, our
 * WebSocket transport, the duplex, the peer and protocol, GC, idle) and the top functions by
 * self time, each with its share of the non-idle samples.
 *
 * Usage: `node bench/_cpuprofile_top.mjs FILE.cpuprofile [--top 30]`
 *
 * @module
 */

import { readFileSync } from "node:fs";

const file = process.argv[2];
const topAt = process.argv.indexOf("--top");
const top = topAt >= 0 ? Number(process.argv[topAt + 1]) : 30;
const profile = JSON.parse(readFileSync(file, "utf8"));

const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const selfUs = new Map();
for (let i = 0; i < profile.samples.length; i++) {
  const id = profile.samples[i];
  selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
}

/** Areas in the order they are tried: the first match wins. */
const AREAS = [
  ["idle", (f, _u) => f === "(idle)"],
  ["gc", (f) => f === "(garbage collector)"],
  ["program (native, unattributed)", (f) => f === "(program)"],
  ["ws Receiver", (_f, u) => /ws\/lib\/receiver/.test(u)],
  ["ws Sender", (_f, u) => /ws\/lib\/sender/.test(u)],
  ["ws WebSocket/event-target/buffer-util", (_f, u) => /ws\/lib\//.test(u)],
  ["ours: _frame_splitter", (_f, u) => /_frame_splitter/.test(u)],
  ["ours: websocket/_connection", (_f, u) => /websocket\/_connection/.test(u)],
  ["ours: websocket/* other", (_f, u) => /transports\/websocket\//.test(u)],
  ["ours: _duplex", (_f, u) => /transports\/_duplex/.test(u)],
  ["ours: peer", (_f, u) => /\/peer\//.test(u)],
  ["ours: protocol", (_f, u) => /\/protocol\//.test(u)],
  ["ours: other", (_f, u) => /\/src\/|conformance\//.test(u)],
  ["Web streams", (_f, u) => /webstreams|06_streams|streams\.js|ext:deno_web\/06/.test(u)],
  [
    "net/stream (socket writes, reads)",
    (f, u) =>
      (u === "" &&
        /^(writev|writeBuffer|writeUtf8String|writeLatin1String|op_net_|op_node_|op_write|op_read)/
          .test(f)) ||
      /node:net|internal\/net|internal\/streams|stream_base|node:stream|_stream_|ext:deno_node\/(internal\/streams|_stream|net|internal_binding\/(stream_wrap|tcp_wrap))/
        .test(u),
  ],
  [
    "events/timers/microtasks",
    (f, u) =>
      /events|timers|task_queues|process\/task|01_core|ext:core|ext:deno_node\/_next_tick/.test(
        u,
      ) ||
      f === "processTicksAndRejections" || f === "runMicrotasks",
  ],
  ["buffer", (_f, u) => /buffer/.test(u)],
  ["other JS (runtime)", (_f, u) => u !== ""],
  ["native (no url)", () => true],
];

const areaUs = new Map();
const fnUs = new Map();
let total = 0;
let idle = 0;
for (const [id, us] of selfUs) {
  const node = byId.get(id);
  const f = node.callFrame.functionName || "(anonymous)";
  const u = node.callFrame.url || "";
  total += us;
  const area = AREAS.find(([, test]) => test(f, u))[0];
  if (area === "idle") idle += us;
  areaUs.set(area, (areaUs.get(area) ?? 0) + us);
  const short = u.replace(/^.*\/(node_modules|src|ext:|node:|internal)\//, "$1/").replace(
    /^file:\/\/.*\//,
    "",
  );
  const key = `${f}  ${short}:${node.callFrame.lineNumber + 1}`;
  fnUs.set(key, (fnUs.get(key) ?? 0) + us);
}
const busy = total - idle;
const pct = (us) => `${(100 * us / busy).toFixed(1).padStart(5)}%`;
console.log(
  `${file}: ${(total / 1e6).toFixed(2)} s sampled, ${(busy / 1e6).toFixed(2)} s not idle ` +
    `(shares below are of the non-idle time)`,
);
console.log("\nself time by area:");
for (const [area, us] of [...areaUs].sort((a, b) => b[1] - a[1])) {
  if (area === "idle") continue;
  console.log(`  ${pct(us)}  ${area}`);
}
console.log(`\ntop ${top} functions by self time:`);
for (const [key, us] of [...fnUs].sort((a, b) => b[1] - a[1]).slice(0, top)) {
  if (key.startsWith("(idle)")) continue;
  console.log(`  ${pct(us)}  ${key}`);
}
