/**
 * The interop transcript (the first demo; `npm start` now runs the chat in `demo/main.ts`):
 * our TypeScript peer and the Go reference (github.com/rsms/gotalk
 * v1.3.7, built from the Go module proxy) talking Gotalk to each other over TCP, both ways:
 *
 * 1. our server on Deno, the Go reference client running its checks against it;
 * 2. the Go reference server, our client running the same checks against it;
 * 3. a short conversation through our client API, printed as it happens.
 *
 * Run: `node_modules/.bin/deno run -A demo/interop.ts`
 *
 * @module
 */
// deno-lint-ignore-file no-console
import { execFileSync, spawn } from "node:child_process";
import { dirname, join } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { Handlers, Peer, RemoteError } from "../mod.ts";
import { connect } from "../src/transports/deno.ts";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const goPeer = join(root, ".build", "go-peer");
const deno = join(root, "node_modules", ".bin", "deno");

function serve(cmd: string, args: string[]): Promise<{ url: string; stop: () => void }> {
  const child = spawn(cmd, [...args, "serve", "--transport", "tcp", "--addr", "127.0.0.1:0"], {
    cwd: root,
    stdio: ["ignore", "pipe", "inherit"],
  });
  return new Promise((resolve, reject) => {
    let buf = "";
    const timer = setTimeout(() => reject(new Error("no READY line within 30 s")), 30_000);
    child.stdout!.on("data", (d) => {
      buf += d;
      const m = /^READY (\S+)$/m.exec(buf);
      if (m) {
        clearTimeout(timer);
        resolve({ url: m[1], stop: () => process.kill(child.pid!, "SIGTERM") });
      }
    });
  });
}

function check(cmd: string, args: string[], url: string): Promise<boolean> {
  const child = spawn(cmd, [...args, "check", "--url", url], {
    cwd: root,
    stdio: ["ignore", "pipe", "inherit"],
  });
  let buf = "";
  child.stdout!.on("data", (d) => {
    buf += d;
    let i;
    while ((i = buf.indexOf("\n")) >= 0) {
      const line = buf.slice(0, i);
      buf = buf.slice(i + 1);
      if (!line.startsWith("{")) continue;
      const r = JSON.parse(line);
      console.log(
        `  ${r.ok ? "ok  " : "FAIL"} ${r.id.padEnd(18)} ${r.ok ? `${r.ms} ms` : r.detail}`,
      );
    }
  });
  return new Promise((resolve) => child.on("exit", (code) => resolve(code === 0)));
}

console.log("Building the Go reference peer (github.com/rsms/gotalk v1.3.7)...");
execFileSync("go", ["build", "-o", goPeer, "."], {
  cwd: join(root, "conformance", "go-peer"),
  stdio: "inherit",
});

console.log("\n1. Our server (TypeScript on Deno), the Go reference client checking it:");
const ours = await serve(deno, ["run", "-A", join(root, "conformance", "peer.ts")]);
console.log(`   serving ${ours.url}`);
const goOnOurs = await check(goPeer, [], ours.url);
ours.stop();

console.log("\n2. The Go reference server, our client (TypeScript on Deno) checking it:");
const theirs = await serve(goPeer, []);
console.log(`   serving ${theirs.url}`);
const oursOnGo = await check(deno, ["run", "-A", join(root, "conformance", "peer.ts")], theirs.url);

console.log("\n3. A conversation with the Go server through our API:");
const port = Number(new URL(theirs.url.replace("tcp:", "http:")).port);
const peer = new Peer(await connect({ port }), {
  handlers: new Handlers()
    .handle("upper", (s: string) => s.toUpperCase())
    .handleNotification(
      "hello",
      (v) => console.log(`   <- notification "hello": ${JSON.stringify(v)}`),
    ),
});
console.log(
  `   -> upper("gotalk from deno")  = ${
    JSON.stringify(await peer.request("upper", "gotalk from deno"))
  }`,
);
console.log(
  `   -> call-back: Go asks us "upper" = ${
    JSON.stringify(await peer.request("call-back", { op: "upper", value: "asked by go" }))
  }`,
);
await peer.request("notify-back", { name: "hello", value: { from: "go" } });
const err = await peer.request("no-such-op").catch((e) => e);
console.log(
  `   -> no-such-op: ${err instanceof RemoteError ? `RemoteError "${err.message}"` : err}`,
);
const { writable, readable } = peer.streamRequest("stream-echo");
const writer = writable.getWriter();
const parts: string[] = [];
const reading = (async () => {
  for await (const p of readable as unknown as AsyncIterable<Uint8Array>) {
    parts.push(new TextDecoder().decode(p));
  }
})();
for (const word of ["streams", "both", "ways"]) await writer.write(new TextEncoder().encode(word));
await writer.close();
await reading;
console.log(`   -> stream-echo parts: ${JSON.stringify(parts)}`);
await peer.close();
theirs.stop();

const ok = goOnOurs && oursOnGo;
console.log(`\n${ok ? "Interop OK: both directions pass every check." : "Interop FAILED."}`);
process.exit(ok ? 0 : 1);
