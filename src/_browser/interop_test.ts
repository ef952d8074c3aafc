/**
 * Interoperability with the Go reference in headless Chromium:
 *
 * - our bundle in a page against the Go reference WebSocket server (`go-peer serve --transport
 *   ws`): echo, upper, stream-echo, notify-back, call-back;
 * - the official gotalk.js (read at run time from the Go module cache, never copied here) in a
 *   page against our WebSocket server: JSON and buffer requests, notifications both ways, a
 *   server → gotalk.js request.
 *
 * @module
 */
// deno-lint-ignore-file no-explicit-any
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { Handlers, type Peer, Server } from "../../mod.ts";
import { browserBundleRoute } from "../server/bundle_route.ts";
import { serveWebSocket } from "../transports/websocket/deno.ts";
import { buildBrowserBundle } from "../../scripts/build_browser.ts";
import { launch, newPage, Proc, root, TEST, within } from "./_test_browser.ts";

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
