// The stdio transports on this runtime: `spawn()` of a child peer (the conformance peer serving
// over its own `stdio()`), the child's lifecycle, and the peer behaviour suite over a child that
// relays its `stdio()` to a TCP connection.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawn as spawnProcess } from "node:child_process";
import process from "node:process";
import { ConnectionClosedError } from "../peer/errors.ts";
import { Handlers } from "../peer/handlers.ts";
import { Peer } from "../peer/peer.ts";
import { peerSuite } from "../peer/_test_suite.ts";
import { acceptPair, runtimeName } from "./_test_factories.ts";
import { childCommand, scriptPath, stdioAdapter } from "./_test_stdio_util.ts";

const runtime = runtimeName();
const adapter = await stdioAdapter();
const enc = new TextEncoder();
const dec = new TextDecoder();

/** Rejects if `p` does not settle within `ms`: every wait here is bounded. */
function within<T>(p: Promise<T>, ms = 20_000, what = "operation"): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  return Promise.race([
    p,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what} did not settle within ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

/** The conformance peer, serving one peer over its stdin and stdout, as a child. */
function spawnPeer() {
  const [command, args] = childCommand([
    "run",
    scriptPath("../../conformance/peer.ts"),
    "serve",
    "--transport",
    "stdio",
  ]);
  return adapter.spawn(command, args);
}

/** Collects a stream of parts into one string. */
async function collect(readable: ReadableStream<Uint8Array>): Promise<string> {
  let out = "";
  for await (const part of readable as unknown as AsyncIterable<Uint8Array>) {
    out += dec.decode(part, { stream: true });
  }
  return out + dec.decode();
}

describe(`stdio transports (${runtime})`, () => {
  test("spawn: every request kind and notification, both ways, with a child peer", async () => {
    const pushed: Array<{ name: string; value: unknown }> = [];
    const child = await spawnPeer();
    const peer = new Peer(child, {
      handlers: new Handlers()
        .handle("upper", (s: string) => s.toUpperCase())
        .handleNotificationFallback((payload, ctx) => {
          pushed.push({ name: ctx.name, value: JSON.parse(dec.decode(payload)) });
        }),
    });
    try {
      assert.equal(await within(peer.request("upper", "héllo")), "HÉLLO");
      const big = new Uint8Array(1 << 20).map((_, i) => (i * 31) & 0xff);
      assert.deepEqual(await within(peer.bufferRequest("echo", big)), big);
      // A streaming request, answered with a streaming result and with a single one.
      const echo = peer.streamRequest("stream-echo");
      const writer = echo.writable.getWriter();
      const written = (async () => {
        for (const part of ["a", "bb", "ccc"]) await writer.write(enc.encode(part));
        await writer.close();
      })();
      assert.equal(await within(collect(echo.readable)), "abbccc");
      await written;
      const concat = peer.streamRequest("stream-concat");
      const w2 = concat.writable.getWriter();
      await w2.write(enc.encode("x"));
      await w2.write(enc.encode("y"));
      await w2.close();
      assert.equal(await within(collect(concat.readable)), "xy");
      // A single request answered with a streaming result.
      const parts = await peer.bufferRequest("echo-parts", enc.encode('{"parts":["p","q"]}'));
      assert.equal(dec.decode(parts), "pq");
      // The child requests from us, and notifies us.
      assert.equal(await within(peer.request("call-back", { op: "upper", value: "up" })), "UP");
      assert.equal(await within(peer.request("notify-back", { name: "n1", value: 7 })), true);
      for (let i = 0; i < 1000 && pushed.length === 0; i++) {
        await new Promise((r) => setTimeout(r, 10));
      }
      assert.deepEqual(pushed, [{ name: "n1", value: 7 }]);
      // We notify the child; `notes` (answered after it) says it got it.
      await peer.notify("to-child", { k: 1 });
      const notes = await within(peer.request<{ count: number; last: unknown }>("notes"));
      assert.deepEqual(notes, { count: 1, last: { name: "to-child", value: { k: 1 } } });
    } finally {
      await peer.close();
    }
    assert.deepEqual(await within(child.exited, 20_000, "the child's exit"), {
      code: 0,
      signal: null,
    });
  });

  test("spawn: the child's exit closes the peer, failing pending requests", async () => {
    const child = await spawnPeer();
    const peer = new Peer(child);
    assert.equal(await within(peer.request("upper", "a")), "A");
    const pending = peer.request("sleep", { ms: 60_000, value: 1 }).catch((e) => e);
    process.kill(child.pid, "SIGKILL");
    const error = await within(pending);
    assert.ok(error instanceof ConnectionClosedError, `got ${error}`);
    await within(peer.closed);
    assert.equal(peer.isOpen, false);
    assert.deepEqual(await within(child.exited), { code: null, signal: "SIGKILL" });
  });

  test("spawn: closing kills a child that does not exit when its stdin closes", async () => {
    const [command, args] = childCommand(["eval", "setInterval(() => {}, 1000)"]);
    const child = await adapter.spawn(command, args, { killAfterMs: 50 });
    const peer = new Peer(child);
    await peer.close({ timeoutMs: 100 });
    assert.deepEqual(await within(child.exited), { code: null, signal: "SIGTERM" });
  });

  test("spawn: the child's stderr goes to ours", async () => {
    // A child that spawns a grandchild writing to its stderr: what reaches the child's stderr.
    const [command, args] = childCommand([
      "run",
      scriptPath("./_test_stdio_child.ts"),
      "stderr",
      "from the grandchild",
    ]);
    const proc = spawnProcess(command, args, { stdio: ["ignore", "pipe", "pipe"] });
    let stderr = "";
    proc.stderr.setEncoding("utf8").on("data", (s: string) => stderr += s);
    const code = await within(new Promise((r) => proc.on("close", r)));
    assert.equal(code, 0, stderr);
    assert.match(stderr, /from the grandchild/);
  });

  test("spawn: a command that does not exist rejects, bad arguments throw", async () => {
    await assert.rejects(adapter.spawn("/nonexistent/gotalk-no-such-command", []));
    await assert.rejects(async () => await adapter.spawn("", []), TypeError);
    await assert.rejects(async () => await adapter.spawn("x", [1 as unknown as string]), TypeError);
    await assert.rejects(
      async () => await adapter.spawn("x", [], { killAfterMs: -1 }),
      RangeError,
    );
  });
});

// The whole peer behaviour suite, the client end being a child process's stdio: the child
// relays its own stdio() to a TCP connection to the server end.
peerSuite({
  name: `spawn + stdio relay (${runtime})`,
  relayed: true,
  async pair() {
    const listener = await adapter.listen({ hostname: "127.0.0.1", port: 0 });
    return await acceptPair(listener, () => {
      const [command, args] = childCommand([
        "run",
        scriptPath("./_test_stdio_child.ts"),
        "relay",
        String(listener.addr.port),
      ]);
      return adapter.spawn(command, args);
    });
  },
});
