// deno-lint-ignore-file no-console
/**
 * Takes a CPU profile of a running process through its inspector (a process started with
 * `--inspect=HOST:PORT`, Node or Deno: Deno has no `--cpu-prof`), over the Chrome DevTools
 * protocol with the `ws` package's client, and writes it as a `.cpuprofile` for
 * `bench/_cpuprofile_top.mjs`.
 *
 * Usage: `node bench/_inspect_profile.mjs HOST:PORT MS OUT.cpuprofile [--interval-us 100]`
 *
 * @module
 */

import { writeFileSync } from "node:fs";
import { WebSocket } from "ws";

const [addr, ms, out] = process.argv.slice(2);
const intervalAt = process.argv.indexOf("--interval-us");
const interval = intervalAt >= 0 ? Number(process.argv[intervalAt + 1]) : 100;
const targets = await (await fetch(`http://${addr}/json/list`)).json();
const ws = new WebSocket(targets[0].webSocketDebuggerUrl);
await new Promise((resolve, reject) => {
  ws.once("open", resolve);
  ws.once("error", reject);
});
let next = 1;
const waiting = new Map();
ws.on("message", (data) => {
  const msg = JSON.parse(String(data));
  const w = waiting.get(msg.id);
  if (w) {
    waiting.delete(msg.id);
    if (msg.error) w.reject(new Error(JSON.stringify(msg.error)));
    else w.resolve(msg.result);
  }
});
const call = (method, params = {}) =>
  new Promise((resolve, reject) => {
    const id = next++;
    waiting.set(id, { resolve, reject });
    ws.send(JSON.stringify({ id, method, params }));
  });
await call("Profiler.enable");
await call("Profiler.setSamplingInterval", { interval });
await call("Profiler.start");
await new Promise((resolve) => setTimeout(resolve, Number(ms)));
const { profile } = await call("Profiler.stop");
writeFileSync(out, JSON.stringify(profile));
console.log(`wrote ${out} (${profile.samples.length} samples)`);
ws.close();
