// deno-lint-ignore-file no-console
/**
 * A/B runs of the WebSocket server rows by hand (Node): starts the named servers at once, then
 * runs each row's go-load against each server in turn, the order rotating every round, and prints
 * each row's median requests/s (MB/s for the 64 KiB row) and its ratio to the first server
 * (normally `go`). Each go-load run is bounded (`--warmup` + `--duration`, killed after 30 s).
 *
 * Usage: `node bench/_ws_ab.mjs [--servers go,deno,node,...] [--rows 16b-x1,...] [--rounds 3]
 * [--warmup 300ms] [--duration 1500ms] [--base DIR]`; needs `.build/bench/go-load` and
 * `go-peer`, and `.build/node` for `node`. Servers: `go`, `deno`, `node`, `bun` (this checkout),
 * `base-deno`, `base-node`, `base-bun` (the same from `--base DIR`, another checkout with its own Node
 * build), `bare-node`, `bare-deno`, `bare-bun`, `bare-deno-native` (bench/_bare_ws_echo.mjs;
 * `-cork` or `-frames` appended: with that flag).
 *
 * @module
 */

import { spawn, spawnSync } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const bin = (name) => join(root, "node_modules", ".bin", name);
const arg = (name, fallback) => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : fallback;
};
const base = arg("--base", "/tmp/ws-speed-base");
const bare = join(root, "bench", "_bare_ws_echo.mjs");
const deno = [bin("deno"), "run", "-A"];
const peerArgs = ["serve", "--transport", "ws", "--addr", "127.0.0.1:0"];

const SERVERS = {
  go: [join(root, ".build", "bench", "go-peer"), ...peerArgs],
  deno: [...deno, join(root, "conformance", "peer.ts"), ...peerArgs],
  node: ["node", join(root, ".build", "node", "conformance", "peer.js"), ...peerArgs],
  bun: [bin("bun"), join(root, "conformance", "peer.ts"), ...peerArgs],
  "base-deno": [...deno, join(base, "conformance", "peer.ts"), ...peerArgs],
  "base-node": ["node", join(base, ".build", "node", "conformance", "peer.js"), ...peerArgs],
  "base-bun": [bin("bun"), join(base, "conformance", "peer.ts"), ...peerArgs],
  "bare-node": ["node", bare],
  "bare-deno": [...deno, bare],
  "bare-bun": [bin("bun"), bare],
  "bare-deno-native": [...deno, bare, "--api", "deno"],
};

const pipeline = (size, inflight, conns = 1, coalesce = false) => [
  "pipeline",
  "--size",
  String(size),
  "--inflight",
  String(inflight),
  "--conns",
  String(conns),
  "--ws",
  "/gotalk/",
  ...(coalesce ? ["--coalesce"] : []),
];
const ROWS = {
  "16b-x1": pipeline(16, 1),
  "16b-x64": pipeline(16, 64),
  "1k-x64": pipeline(1024, 64),
  "64k-x16": pipeline(65536, 16),
  "50c-x16": pipeline(16, 16, 50),
  "16b-x64-1msg": pipeline(16, 64, 1, true),
  "1k-x64-1msg": pipeline(1024, 64, 1, true),
  "50c-x16-1msg": pipeline(16, 16, 50, true),
};

const names = arg("--servers", "go,deno,node").split(",");
const rows = arg("--rows", Object.keys(ROWS).join(",")).split(",");
const rounds = Number(arg("--rounds", "3"));
const warmup = arg("--warmup", "300ms");
const duration = arg("--duration", "1500ms");

function server(name) {
  const flag = /-(cork|frames)$/.exec(name);
  const cmd = SERVERS[flag ? name.slice(0, flag.index) : name];
  if (!cmd) throw new Error(`unknown server ${name}`);
  const child = spawn(cmd[0], [...cmd.slice(1), ...(flag ? [`--${flag[1]}`] : [])], {
    cwd: root,
    stdio: ["ignore", "pipe", "inherit"],
    env: { ...process.env, NO_COLOR: "1", DENO_NO_UPDATE_CHECK: "1" },
  });
  return new Promise((resolve, reject) => {
    let out = "";
    const timer = setTimeout(() => reject(new Error(`${name}: no READY in 30 s`)), 30_000);
    child.stdout.on("data", (d) => {
      out += d;
      const m = /READY ws:\/\/([^\s/]+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve({ name, child, addr: m[1] });
      }
    });
    child.on("exit", (code) => reject(new Error(`${name} exited ${code}`)));
  });
}

const running = [];
for (const n of names) running.push(await server(n));
const results = {}; // row -> name -> values
try {
  for (let r = 0; r < rounds; r++) {
    for (const row of rows) {
      const order = running.map((_, i) => running[(i + r) % running.length]);
      for (const s of order) {
        const cmd = [...ROWS[row], "--addr", s.addr, "--warmup", warmup, "--duration", duration];
        const res = spawnSync(join(root, ".build", "bench", "go-load"), cmd, {
          encoding: "utf8",
          timeout: 30_000,
        });
        let value = NaN;
        try {
          const j = JSON.parse(res.stdout.trim().split("\n").pop());
          value = row.startsWith("64k") ? j.mbps : j.rps;
        } catch {
          console.error(`${row} ${s.name}: ${res.stderr || res.error}`);
        }
        ((results[row] ??= {})[s.name] ??= []).push(value);
        console.error(`round ${r} ${row} ${s.name}: ${value.toFixed(0)}`);
      }
    }
  }
} finally {
  for (const s of running) s.child.kill("SIGTERM");
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
};
const ref = names[0];
console.log(
  `| row | ${names.join(" | ")} | ${names.slice(1).map((n) => `${n}/${ref}`).join(" | ")} |`,
);
console.log(`|${" --- |".repeat(names.length * 2)}`);
for (const row of rows) {
  const med = names.map((n) => median(results[row][n]));
  const ratios = med.slice(1).map((m) => (m / med[0]).toFixed(2));
  console.log(`| ${row} | ${med.map((m) => m.toFixed(0)).join(" | ")} | ${ratios.join(" | ")} |`);
}
