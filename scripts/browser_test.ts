/**
 * The browser tests, in headless Chromium (playwright-core, `/usr/bin/chromium` or `$CHROMIUM`):
 *
 * - the browser bundle: everything in `mod.ts` plus the WebSocket client, nothing
 *   runtime-specific;
 * - the chat demo served by Deno (`scripts/demo.ts`) and by Bun (`scripts/demo_bun.ts`): the
 *   page loads our bundle (gzip, ETag), JSON requests, a streaming result, notifications both
 *   ways, server → browser requests answered by the page, rooms that isolate messages, and a
 *   terminal client over TCP seen by the browser;
 * - reconnection: the Deno server is killed and restarted on the same port, the page's
 *   ReconnectingPeer comes back on its own and a new request succeeds;
 * - our bundle in a page against the Go reference WebSocket server (`go-peer serve --transport
 *   ws`): echo, upper, stream-echo, notify-back, call-back;
 * - the official gotalk.js (read at run time from the Go module cache, never copied here) in a
 *   page against our WebSocket server: JSON and buffer requests, notifications both ways, a
 *   server → gotalk.js request;
 * - a screenshot of the demo with a short conversation: `.build/browser/demo.png` (and
 *   `docs/demo.png` when that is missing or `UPDATE_SCREENSHOT=1`).
 *
 * Every wait is bounded; servers listen on port 0 and print their ports.
 *
 * Run: `node_modules/.bin/deno test -A scripts/browser_test.ts` (the `browser` step of
 * `scripts/test.mjs` installs Chromium first when it is missing).
 *
 * @module
 */
// deno-lint-ignore-file no-explicit-any no-console
import assert from "node:assert/strict";
import { copyFileSync, existsSync, mkdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { type Browser, type BrowserContext, chromium, type Page } from "playwright-core";
import { Handlers, type Peer, Server } from "../mod.ts";
import * as browserEntry from "../browser.ts";
import { browserBundleRoute } from "../src/server/bundle_route.ts";
import { serveWebSocket } from "../src/transports/websocket/deno.ts";
import { buildBrowserBundle, FORBIDDEN_IN_BUNDLE } from "./build_browser.ts";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const bin = (name: string) => join(root, "node_modules", ".bin", name);
const CHROMIUM = Deno.env.get("CHROMIUM") ?? "/usr/bin/chromium";
const FLAGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--no-first-run",
  "--disable-sync",
  "--disable-quic",
];
const TEST = { sanitizeOps: false, sanitizeResources: false, sanitizeExit: false };

// --- Helpers ---------------------------------------------------------------------------------

/** Rejects when `promise` takes longer than `ms`. */
async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`${what}: not within ${ms} ms`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Launches Chromium as the brief says: these flags, a fresh profile (Playwright's `launch`
 * creates a new temporary `--user-data-dir` each time and deletes it on close).
 */
async function launch(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`No Chromium at ${CHROMIUM} (apt-get install -y chromium, or set CHROMIUM)`);
  }
  return await within(
    chromium.launch({ executablePath: CHROMIUM, headless: true, args: FLAGS, timeout: 30_000 }),
    40_000,
    "Chromium launch",
  );
}

/**
 * A page whose uncaught errors and console errors (but those matching `expected`) are collected,
 * to fail the test.
 */
async function newPage(
  context: BrowserContext,
  errors: string[],
  expected?: RegExp,
): Promise<Page> {
  const page = await context.newPage();
  page.on("pageerror", (e) => errors.push(`pageerror: ${e.message}`));
  page.on("console", (m) => {
    if (m.type() !== "error" || expected?.test(m.text())) return;
    errors.push(`console: ${m.text()} at ${m.location().url}`);
  });
  return page;
}

/** A child process whose output lines are collected and can be waited for. */
class Proc {
  readonly child: Deno.ChildProcess;
  readonly #lines: string[] = [];
  readonly #waiters = new Set<() => void>();
  readonly #stdin: WritableStreamDefaultWriter<Uint8Array> | undefined;
  readonly status: Promise<Deno.CommandStatus>;

  constructor(cmd: string, args: string[], stdin = false) {
    this.child = new Deno.Command(cmd, {
      args,
      cwd: root,
      stdin: stdin ? "piped" : "null",
      stdout: "piped",
      stderr: "piped",
      env: { NO_COLOR: "1", DENO_NO_UPDATE_CHECK: "1" },
    }).spawn();
    this.#stdin = stdin ? this.child.stdin.getWriter() : undefined;
    this.status = this.child.status;
    void this.#read(this.child.stdout);
    void this.#read(this.child.stderr);
  }

  async #read(stream: ReadableStream<Uint8Array>): Promise<void> {
    let buffered = "";
    for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
      buffered += chunk;
      let i;
      while ((i = buffered.indexOf("\n")) >= 0) {
        this.#lines.push(buffered.slice(0, i));
        buffered = buffered.slice(i + 1);
      }
      for (const wake of this.#waiters) wake();
    }
    if (buffered) this.#lines.push(buffered);
    for (const wake of this.#waiters) wake();
  }

  get output(): string {
    return this.#lines.join("\n");
  }

  /** Resolves with the first match of `pattern` in the output, waiting up to `ms`. */
  waitFor(pattern: RegExp, ms: number, what = String(pattern)): Promise<RegExpMatchArray> {
    return within(
      new Promise((resolve) => {
        const check = () => {
          const m = this.output.match(pattern);
          if (m) {
            this.#waiters.delete(check);
            resolve(m);
          }
        };
        this.#waiters.add(check);
        check();
      }),
      ms,
      `${what} (output so far:\n${this.output}\n)`,
    );
  }

  async write(line: string): Promise<void> {
    await this.#stdin!.write(new TextEncoder().encode(line + "\n"));
  }

  async endInput(): Promise<void> {
    await this.#stdin!.close();
  }

  /** Sends `signal`, and waits (bounded) for the exit; SIGKILL if it does not come. */
  async stop(signal: Deno.Signal = "SIGTERM", ms = 5000): Promise<Deno.CommandStatus> {
    try {
      this.child.kill(signal);
    } catch {
      // Already exited.
    }
    try {
      return await within(this.status, ms, `exit after ${signal}`);
    } catch (error) {
      try {
        this.child.kill("SIGKILL");
      } catch {
        // Already exited.
      }
      await within(this.status, 5000, "exit after SIGKILL");
      throw error;
    }
  }
}

interface Demo {
  proc: Proc;
  url: string;
  port: number;
  tcpPort: number;
}

/** Starts the chat demo on `runtime` and waits for its `Chat:` line. */
async function startDemo(runtime: "deno" | "bun", port = 0): Promise<Demo> {
  const args = ["--port", String(port), "--tcp-port", "0", "--ping-interval", "1000"];
  const proc = runtime === "deno"
    ? new Proc(bin("deno"), ["run", "-A", "scripts/demo.ts", ...args])
    : new Proc(bin("bun"), ["scripts/demo_bun.ts", ...args]);
  try {
    const [, url] = await proc.waitFor(/^Chat: (http\S+)$/m, 60_000, `${runtime} demo start`);
    const [, tcp] = await proc.waitFor(/^TCP: \S+:(\d+) /m, 1000, "TCP line");
    return { proc, url, port: Number(new URL(url).port), tcpPort: Number(tcp) };
  } catch (error) {
    await proc.stop("SIGKILL").catch(() => {});
    throw error;
  }
}

/** Waits until the page's chat client is connected and shows `room`. */
async function chatReady(page: Page, room: string): Promise<void> {
  await page.waitForFunction(
    (room) => {
      const chat = (globalThis as any).chat;
      return (globalThis as any).document.body.dataset.status === "connected" &&
        chat?.state.current === room &&
        chat.state.stats.whoami > 0;
    },
    room,
    { timeout: 15_000 },
  );
}

/** The texts of the messages the page shows in the current room. */
function shownTexts(page: Page): Promise<string[]> {
  return page.$$eval("#messages li.msg .text", (els) => els.map((e: any) => e.textContent ?? ""));
}

/** Every message text the page holds, in any room. */
function heldTexts(page: Page): Promise<string[]> {
  return page.evaluate(() =>
    [...(globalThis as any).chat.state.joined.values()].flatMap((r: any) =>
      r.messages.map((m: any) => m.text)
    )
  );
}

async function sendViaUi(page: Page, text: string): Promise<void> {
  await page.fill("#text", text);
  await page.press("#text", "Enter");
  await waitForText(page, text);
}

function waitForText(page: Page, text: string, ms = 10_000): Promise<unknown> {
  return page.waitForFunction(
    (text) =>
      [...(globalThis as any).document.querySelectorAll("#messages li .text")].some((e: any) =>
        e.textContent === text
      ),
    text,
    { timeout: ms },
  );
}

// --- The bundle ------------------------------------------------------------------------------

Deno.test("browser bundle: mod.ts plus the WebSocket client, nothing runtime-specific", async () => {
  const bundle = await buildBrowserBundle();
  assert.equal(bundle.path, join(root, ".build", "browser", "gotalk.js"));
  const text = new TextDecoder().decode(bundle.bytes);
  for (const s of FORBIDDEN_IN_BUNDLE) assert.equal(text.includes(s), false, `mentions ${s}`);
  assert.deepEqual(FORBIDDEN_IN_BUNDLE, ["node:", "Deno.", "Bun."]);
  // Only browser-compatible modules went in: no runtime transports, no WebSocket servers.
  for (const input of bundle.inputs) {
    assert.doesNotMatch(input, /transports\/(websocket\/)?(deno|bun|node|_server_core)\.ts$/);
    assert.match(
      readFileSync(join(root, input), "utf8"),
      /^\/\/ This module is browser compatible\./,
    );
  }
  assert.ok(bundle.inputs.includes("src/transports/websocket/client.ts"));
  assert.ok(bundle.inputs.includes("src/peer/reconnecting.ts"));
  const exported = Object.keys(await import(`file://${bundle.path}`)).sort();
  const expected = [
    ...Object.keys(await import("../mod.ts")),
    "connectWebSocket",
    "webSocketTransport",
  ].sort();
  assert.deepEqual(exported, expected);
  assert.deepEqual(Object.keys(browserEntry).sort(), expected);
  assert.ok(exported.includes("ReconnectingPeer"));
});

// --- The chat demo, on Deno and on Bun --------------------------------------------------------

for (const runtime of ["deno", "bun"] as const) {
  Deno.test(
    `chat demo on ${runtime}: browsers over WebSocket, a terminal over TCP`,
    TEST,
    async (t) => {
      const demo = await startDemo(runtime);
      const browser = await launch();
      const errors: string[] = [];
      let bob: Proc | undefined;
      try {
        const context = await browser.newContext();
        context.setDefaultTimeout(15_000);
        const alice = await newPage(context, errors);
        const carol = await newPage(context, errors);
        const bundleResponse = alice.waitForResponse((r) => r.url().endsWith("/gotalk/gotalk.js"));
        await alice.goto(`${demo.url}?name=alice&room=general`);
        await carol.goto(`${demo.url}?name=carol&room=random`);
        await chatReady(alice, "general");
        await chatReady(carol, "random");

        await t.step(
          "the page imports our bundle from /gotalk/gotalk.js (gzip, ETag)",
          async () => {
            const r = await bundleResponse;
            assert.equal(r.status(), 200);
            const headers = await r.allHeaders();
            assert.equal(headers["content-encoding"], "gzip");
            assert.match(headers["etag"], /^"[A-Za-z0-9+/]+"$/);
            assert.equal(headers["cache-control"], "public, max-age=300");
            const server = await alice.textContent("#server");
            assert.match(server ?? "", runtime === "deno" ? /Deno \d/ : /Bun \d/);
          },
        );

        await t.step(
          "server → browser requests: whoami and ping, answered by the page",
          async () => {
            await alice.waitForFunction(() => (globalThis as any).chat.state.stats.pings > 0);
            const users = await alice.evaluate(() => (globalThis as any).chat.who());
            const byName = new Map(users.map((u: any) => [u.name, u]));
            const a: any = byName.get("alice");
            assert.ok(a, JSON.stringify(users));
            assert.match(a.agent, /Chrome \d+/);
            assert.equal(a.transport, "ws");
            assert.equal(typeof a.latencyMs, "number");
            assert.equal(a.status, "active");
            assert.deepEqual(a.rooms, ["general"]);
            assert.ok(byName.has("carol"));
            // The latencies reach the page's people list through `users` notifications.
            await alice.waitForSelector('#users li[data-name="carol"] small:has-text(" ms")');
          },
        );

        await t.step("JSON requests; two rooms isolate their messages", async () => {
          await sendViaUi(alice, "hello general");
          await sendViaUi(carol, "hello random");
          // Sent after carol's: had carol's message reached alice, it would have come first.
          await sendViaUi(alice, "second general");
          assert.deepEqual(
            (await shownTexts(alice)).filter((s) => /general|random/.test(s)).slice(-2),
            ["hello general", "second general"],
          );
          assert.equal((await heldTexts(alice)).includes("hello random"), false);
          assert.equal((await heldTexts(carol)).some((s) => /general$/.test(s)), false);
          const rooms = await alice.evaluate(() =>
            (globalThis as any).chat.client.request("rooms")
          );
          const info = new Map(rooms.map((r: any) => [r.name, r]));
          assert.deepEqual((info.get("general") as any).members, ["alice"]);
          assert.deepEqual((info.get("random") as any).members, ["carol"]);
          const refused = await alice.evaluate(() =>
            (globalThis as any).chat.client.request("send", { room: "random", text: "x" })
              .then(() => "sent", (e: Error) => `${e.name}: ${e.message}`)
          );
          assert.equal(refused, "RemoteError: Join #random first");
        });

        await t.step("a streaming result: the room's history, one message per part", async () => {
          const { parts, messages } = await alice.evaluate(() =>
            (globalThis as any).chat.exportHistory("general")
          );
          assert.equal(parts, messages.length);
          assert.deepEqual(
            messages.map((m: any) => m.text).filter((s: string) => /general$/.test(s)),
            ["hello general", "second general"],
          );
          assert.ok(messages.every((m: any) => m.room === "general" && typeof m.id === "number"));
        });

        await t.step("notifications both ways: typing, presence", async () => {
          await carol.evaluate(() => (globalThis as any).chat.join("general"));
          await chatReady(carol, "general");
          // History on join: carol now sees what was said before she came.
          await waitForText(carol, "second general");
          await alice.waitForSelector("#messages li.sys:has-text('carol joined')");
          // Typing in alice's composer sends a `typing` notification; the server pushes one to
          // the other members of the room.
          await alice.fill("#text", "");
          await alice.type("#text", "typing…");
          await carol.waitForFunction(
            () =>
              (globalThis as any).document.querySelector("#typing")?.textContent ===
                "alice is typing…",
          );
          await alice.fill("#text", "");
          // Leaving: the others get a `presence` notification; joining again brings it all back.
          await carol.evaluate(() => (globalThis as any).chat.leave("general"));
          await alice.waitForSelector("#messages li.sys:has-text('carol left')");
          const rooms = await alice.evaluate(() =>
            (globalThis as any).chat.client.request("rooms")
          );
          assert.deepEqual(rooms.find((r: any) => r.name === "general").members, ["alice"]);
          await carol.evaluate(() => (globalThis as any).chat.join("general"));
          await chatReady(carol, "general");
          await waitForText(carol, "second general");
        });

        await t.step("a terminal client over TCP, seen by the browser", async () => {
          bob = new Proc(bin("deno"), [
            "run",
            "-A",
            "scripts/chat_client.ts",
            "--port",
            String(demo.tcpPort),
            "--room",
            "general",
            "--name",
            "bob",
          ], true);
          await bob.waitFor(/^\* Joined #general \(.*bob.*\), \d+ earlier messages:$/m, 30_000);
          // History on join, over TCP too.
          await bob.waitFor(/\[#general\] alice: second general$/m, 5000, "bob's history");
          await bob.write("hello from the terminal");
          await waitForText(alice, "hello from the terminal");
          await waitForText(carol, "hello from the terminal");
          const from = await alice.$eval(
            "#messages li.msg:last-child .from",
            (e) => e.textContent,
          );
          assert.equal(from, "bob");
          await sendViaUi(alice, "hi bob");
          await bob.waitFor(/\[#general\] alice: hi bob$/m, 10_000, "bob sees alice");
          const users = await alice.evaluate(() => (globalThis as any).chat.who());
          const b = users.find((u: any) => u.name === "bob");
          assert.equal(b?.transport, "tcp");
          assert.match(b?.agent, /^terminal, Deno /);
          assert.equal(typeof b?.latencyMs, "number");
          await bob.endInput();
          assert.equal((await within(bob.status, 10_000, "bob exits")).code, 0);
          await alice.waitForSelector("#messages li.sys:has-text('bob left')");
        });

        assert.deepEqual(errors, []);
        await context.close();
      } finally {
        if (bob) await bob.stop("SIGKILL").catch(() => {});
        await browser.close();
        const status = await demo.proc.stop("SIGTERM");
        if (errors.length === 0) assert.equal(status.code, 0, demo.proc.output);
      }
    },
  );
}

// --- Reconnection ----------------------------------------------------------------------------

Deno.test("reconnect: the demo server dies and comes back on the same port", TEST, async () => {
  let demo = await startDemo("deno");
  const browser = await launch();
  const errors: string[] = [];
  try {
    const context = await browser.newContext();
    // Chromium logs each refused reconnection attempt: expected while the server is down.
    const page = await newPage(context, errors, /WebSocket connection to .* failed/);
    await page.goto(`${demo.url}?name=alice&room=general`);
    await chatReady(page, "general");
    await sendViaUi(page, "before the crash");
    assert.equal(await page.evaluate(() => (globalThis as any).chat.state.stats.opens), 1);

    await demo.proc.stop("SIGKILL");
    await page.waitForFunction(
      () => (globalThis as any).document.body.dataset.status === "disconnected",
      null,
      {
        timeout: 10_000,
      },
    );
    // A request made while disconnected waits in ReconnectingPeer's queue.
    const queued = page.evaluate(() =>
      (globalThis as any).chat.client.request("rooms", null, { timeoutMs: 30_000 })
    );

    const port = demo.port;
    const deadline = Date.now() + 20_000;
    for (;;) {
      try {
        demo = await startDemo("deno", port);
        break;
      } catch (error) {
        // The port may linger for a moment after the kill: retry, within a bound.
        if (Date.now() > deadline) throw error;
      }
    }
    const restarted = performance.now();
    await page.waitForFunction(
      () =>
        (globalThis as any).document.body.dataset.status === "connected" &&
        (globalThis as any).chat.state.stats.opens === 2,
      null,
      { timeout: 15_000 },
    );
    const ms = Math.round(performance.now() - restarted);
    console.log(`  reconnected ${ms} ms after the server was back`);
    // maxDelayMs 5000: the next attempt comes at most 5 s after the server is back.
    assert.ok(ms < 6000, `reconnected after ${ms} ms`);
    const rooms = await within(queued, 10_000, "the queued request");
    assert.ok(rooms.some((r: any) => r.name === "general"));
    // The page joined its room again; a new request succeeds on the new server.
    await page.waitForFunction(
      () => (globalThis as any).chat.state.joined.get("general")?.members.includes("alice"),
    );
    await sendViaUi(page, "after the restart");
    assert.deepEqual(errors, []);
    await context.close();
  } finally {
    await browser.close();
    await demo.proc.stop("SIGTERM").catch(() => {});
  }
});

// --- Go reference ----------------------------------------------------------------------------

let goPeerBuilt: Promise<string> | undefined;

/** Builds the Go reference peer (fetching gotalk v1.3.7 into the module cache) once. */
function goPeer(): Promise<string> {
  goPeerBuilt ??= (async () => {
    const out = join(root, ".build", "go-peer");
    const r = await within(
      new Deno.Command("go", {
        args: ["build", "-o", out, "."],
        cwd: join(root, "conformance", "go-peer"),
        stdout: "inherit",
        stderr: "inherit",
      }).output(),
      300_000,
      "go build",
    );
    if (!r.success) throw new Error("go build of conformance/go-peer failed");
    return out;
  })();
  return goPeerBuilt;
}

/** A tiny static server: an empty page and our bundle at /gotalk/gotalk.js. */
function staticServer(bundle: Uint8Array): { url: string; close: () => Promise<void> } {
  const route = browserBundleRoute(bundle);
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    async (request) =>
      (await route(request)) ??
        (new URL(request.url).pathname === "/"
          ? new Response('<!doctype html><link rel="icon" href="data:,"><title>test</title>', {
            headers: { "content-type": "text/html" },
          })
          : new Response("Not Found", { status: 404 })),
  );
  return { url: `http://127.0.0.1:${server.addr.port}/`, close: () => server.shutdown() };
}

Deno.test("our bundle in Chromium against the Go reference WebSocket server", TEST, async () => {
  const goBin = await goPeer();
  const go = new Proc(goBin, ["serve", "--transport", "ws", "--addr", "127.0.0.1:0"]);
  const bundle = await buildBrowserBundle();
  const site = staticServer(bundle.bytes);
  const browser = await launch();
  const errors: string[] = [];
  try {
    const [, goUrl] = await go.waitFor(/^READY (ws:\S+)$/m, 30_000, "go-peer READY");
    const context = await browser.newContext();
    const page = await newPage(context, errors);
    await page.goto(site.url);
    const results = await within(
      page.evaluate(async (url) => {
        const g = await import("/gotalk/gotalk.js" as string);
        const enc = new TextEncoder();
        const dec = new TextDecoder();
        const pushed: unknown[] = [];
        let notified: () => void = () => {};
        const gotNote = new Promise<void>((resolve) => notified = resolve);
        const handlers = new g.Handlers()
          .handle("upper", (s: string) => s.toUpperCase())
          .handleNotification("pushed", (v: unknown) => {
            pushed.push(v);
            notified();
          });
        // The page's origin (the static server) is sent: Go refuses only a missing one.
        const peer = new g.Peer(await g.connectWebSocket(url), { handlers });
        const all = new Uint8Array(256).map((_, i) => i);
        const echoed = await peer.bufferRequest("echo", all);
        const echoJson = await peer.request("echo", { hello: ["wörld", 1] });
        const upper = await peer.request("upper", "héllo from chromium");
        const { writable, readable } = peer.streamRequest("stream-echo");
        const writer = writable.getWriter();
        const reader = readable.getReader();
        const parts: string[] = [];
        const reading = (async () => {
          for (;;) {
            const { done, value } = await reader.read();
            if (done) return;
            parts.push(dec.decode(value));
          }
        })();
        for (const p of ["streams", " from ", "the browser"]) await writer.write(enc.encode(p));
        await writer.close();
        await reading;
        const notifyBack = await peer.request("notify-back", { name: "pushed", value: [1, "x"] });
        await gotNote;
        const callBack = await peer.request("call-back", { op: "upper", value: "asked by go" });
        const unknown = await peer.request("no-such-op").then(
          () => "answered",
          (e: Error) => `${e.name}: ${e.message}`,
        );
        await peer.close();
        return {
          echo: echoed.length === 256 && echoed.every((b: number, i: number) => b === i),
          echoJson,
          upper,
          stream: parts.join(""),
          notifyBack,
          pushed,
          callBack,
          unknown,
        };
      }, goUrl),
      30_000,
      "checks against Go",
    );
    assert.deepEqual(results, {
      echo: true,
      echoJson: { hello: ["wörld", 1] },
      upper: "HÉLLO FROM CHROMIUM",
      stream: "streams from the browser",
      notifyBack: true,
      pushed: [[1, "x"]],
      callBack: "ASKED BY GO",
      unknown: 'RemoteError: unknown operation "no-such-op"',
    });
    assert.deepEqual(errors, []);
    await context.close();
  } finally {
    await browser.close();
    await site.close();
    await go.stop("SIGTERM");
  }
});

/** gotalk.js from the Go module cache (populated by the go-peer build; never copied here). */
async function officialGotalkJs(): Promise<Uint8Array> {
  await goPeer();
  const r = await new Deno.Command("go", { args: ["env", "GOMODCACHE"] }).output();
  const cache = new TextDecoder().decode(r.stdout).trim();
  return readFileSync(join(cache, "github.com", "rsms", "gotalk@v1.3.7", "js", "gotalk.js"));
}

Deno.test("the official gotalk.js in Chromium against our WebSocket server", TEST, async () => {
  const source = await officialGotalkJs();
  const notes: unknown[] = [];
  const peers: Peer[] = [];
  const handlers = new Handlers()
    .handleBuffer("echo", (payload) => payload)
    .handle("upper", (s: string) => s.toUpperCase())
    .handle("notify-back", async (v: { name: string; value: unknown }, ctx) => {
      await ctx.peer.notify(v.name, v.value);
      return true;
    })
    .handle(
      "call-back",
      (v: { op: string; value: unknown }, ctx) =>
        ctx.peer.request(v.op, v.value, { timeoutMs: 5000 }),
    )
    .handleNotification("note", (v) => void notes.push(v));
  const page = '<!doctype html><link rel="icon" href="data:,"><title>gotalk.js</title>' +
    '<script src="/gotalk/gotalk.js"></script>';
  // gotalk.js is served the way Go serves it (our route: ETag, gzip), at the path from which
  // it derives its default endpoint, ws://HOST/gotalk/; the page is same-origin.
  const jsRoute = browserBundleRoute(source);
  const listener = await serveWebSocket({
    hostname: "127.0.0.1",
    port: 0,
    routes: async (request) =>
      (await jsRoute(request)) ??
        (new URL(request.url).pathname === "/"
          ? new Response(page, { headers: { "content-type": "text/html" } })
          : undefined),
  });
  const server = new Server(listener, { handlers, onPeer: (p) => peers.push(p) });
  const browser = await launch();
  const errors: string[] = [];
  try {
    const context = await browser.newContext();
    const tab = await newPage(context, errors);
    await tab.goto(`http://127.0.0.1:${listener.addr.port}/`);
    const results = await within(
      tab.evaluate(async () => {
        const gotalk = (globalThis as any).gotalk;
        const notes: unknown[] = [];
        let notified: () => void = () => {};
        const gotNote = new Promise<void>((resolve) => notified = resolve);
        gotalk.handle("upper", (s: string, result: any) => result(s.toUpperCase()));
        gotalk.handleNotification("pushed", (v: unknown) => {
          notes.push(v);
          notified();
        });
        const s: any = await new Promise((resolve, reject) =>
          gotalk.open((err: Error | null, sock: unknown) => err ? reject(err) : resolve(sock))
        );
        const upper = await s.request("upper", "gotalk.js");
        const bytes: Uint8Array = await s.bufferRequest("echo", new Uint8Array([0, 1, 2, 255]));
        const text = await s.request("echo", "héllo");
        s.notify("note", { from: "gotalk.js" });
        const notifyBack = await s.request("notify-back", { name: "pushed", value: { n: 7 } });
        await gotNote;
        const callBack = await s.request("call-back", { op: "upper", value: "asked by ts" });
        const missing = await s.request("no-such-op").then(
          () => "answered",
          (e: Error) => e.message,
        );
        s.end();
        return { upper, bytes: [...bytes], text, notifyBack, notes, callBack, missing };
      }),
      30_000,
      "gotalk.js checks",
    );
    assert.deepEqual(results, {
      upper: "GOTALK.JS",
      bytes: [0, 1, 2, 255],
      text: "héllo",
      notifyBack: true,
      notes: [{ n: 7 }],
      callBack: "ASKED BY TS",
      missing: 'unknown operation "no-such-op"',
    });
    assert.deepEqual(notes, [{ from: "gotalk.js" }]);
    assert.equal(peers.length, 1);
    assert.deepEqual(errors, []);
    await context.close();
  } finally {
    await browser.close();
    await server.close({ timeoutMs: 1000 });
  }
});

// --- Screenshot ------------------------------------------------------------------------------

Deno.test("screenshot of the demo with a short conversation", TEST, async () => {
  const demo = await startDemo("deno");
  const browser = await launch();
  const errors: string[] = [];
  let bob: Proc | undefined;
  try {
    const context = await browser.newContext({
      viewport: { width: 960, height: 540 },
      deviceScaleFactor: 1,
    });
    const carol = await newPage(context, errors);
    await carol.goto(`${demo.url}?name=carol&room=random,general`);
    await chatReady(carol, "random");
    await sendViaUi(carol, "anyone seen the new gotalk demo?");
    const alice = await newPage(context, errors);
    await alice.goto(`${demo.url}?name=alice&room=general,random`);
    await chatReady(alice, "general");
    await carol.evaluate(() => (globalThis as any).chat.join("general"));
    bob = new Proc(bin("deno"), [
      "run",
      "-A",
      "scripts/chat_client.ts",
      "--port",
      String(demo.tcpPort),
      "--name",
      "bob",
    ], true);
    await bob.waitFor(/^\* Joined #general/m, 30_000);
    await sendViaUi(alice, "Hi all! This page talks Gotalk over a WebSocket.");
    await bob.write("hello from a terminal, over plain TCP");
    await waitForText(alice, "hello from a terminal, over plain TCP");
    await carol.fill("#text", "and the server pings us for latency");
    await carol.press("#text", "Enter");
    await waitForText(alice, "and the server pings us for latency");
    await alice.evaluate(() => (globalThis as any).chat.who());
    await alice.waitForSelector('#users li[data-name="bob"] small:has-text(" ms")');
    await carol.type("#text", "typing");
    await alice.waitForFunction(() =>
      (globalThis as any).document.querySelector("#typing")?.textContent !== ""
    );
    await alice.click("#text");
    const out = join(root, ".build", "browser", "demo.png");
    mkdirSync(dirname(out), { recursive: true });
    await alice.screenshot({ path: out });
    const docs = join(root, "docs", "demo.png");
    if (!existsSync(docs) || Deno.env.get("UPDATE_SCREENSHOT") === "1") {
      mkdirSync(dirname(docs), { recursive: true });
      copyFileSync(out, docs);
    }
    const png = readFileSync(out);
    assert.deepEqual([...png.subarray(1, 4)], [0x50, 0x4e, 0x47]);
    assert.ok(png.byteLength < 200_000, `${png.byteLength} bytes`);
    assert.deepEqual(errors, []);
    await context.close();
  } finally {
    if (bob) await bob.stop("SIGKILL").catch(() => {});
    await browser.close();
    await demo.proc.stop("SIGTERM").catch(() => {});
  }
});
