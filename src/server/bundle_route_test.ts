// browserBundleRoute: ETag, gzip by Accept-Encoding, 304 on If-None-Match, HEAD and 405, option
// checks, and the route mounted in this runtime's WebSocket server next to the Gotalk endpoint.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { Handlers } from "../peer/handlers.ts";
import { Peer } from "../peer/peer.ts";
import { BROWSER_BUNDLE } from "./browser_bundle.ts";
import { browserBundleRoute } from "./bundle_route.ts";
import { Server } from "./server.ts";
import { runtimeName } from "../transports/_test_factories.ts";
import { wsAdapter } from "../transports/websocket/_test_factories.ts";

const runtime = runtimeName();
const enc = new TextEncoder();
const URL_JS = "http://localhost/gotalk/gotalk.js";
const BUNDLE = enc.encode("export const greeting = 'hello';\n".repeat(200));

function get(
  route: (r: Request) => Promise<Response | undefined>,
  headers: Record<string, string> = {},
  init: RequestInit & { url?: string } = {},
): Promise<Response> {
  return route(new Request(init.url ?? URL_JS, { ...init, headers })).then((r) => {
    assert.ok(r, "the route answers");
    return r;
  });
}

async function gunzip(bytes: Uint8Array): Promise<Uint8Array> {
  const stream = new Blob([bytes as Uint8Array<ArrayBuffer>]).stream()
    .pipeThrough(new DecompressionStream("gzip"));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

const bodyOf = async (r: Response) => new Uint8Array(await r.arrayBuffer());

describe(`browserBundleRoute (${runtime})`, () => {
  test("200 with the bundle, ETag, Cache-Control like Go, Vary; no gzip unless accepted", async () => {
    const route = browserBundleRoute(BUNDLE);
    const r = await get(route);
    assert.equal(r.status, 200);
    assert.deepEqual(await bodyOf(r), BUNDLE);
    assert.equal(r.headers.get("content-encoding"), null);
    assert.equal(r.headers.get("content-type"), "text/javascript; charset=utf-8");
    assert.equal(r.headers.get("cache-control"), "public, max-age=300");
    assert.equal(r.headers.get("vary"), "Accept-Encoding");
    assert.equal(r.headers.get("content-length"), String(BUNDLE.byteLength));
    assert.match(r.headers.get("etag")!, /^"[A-Za-z0-9+/]{43}"$/);
    // The same bytes give the same tag (also from another route), other bytes another one.
    assert.equal(
      (await get(browserBundleRoute(BUNDLE))).headers.get("etag"),
      r.headers.get("etag"),
    );
    const other = await get(browserBundleRoute(enc.encode("x")));
    assert.notEqual(other.headers.get("etag"), r.headers.get("etag"));
  });

  test("gzip when Accept-Encoding allows it, by name and quality", async () => {
    const route = browserBundleRoute(BUNDLE);
    const plainTag = (await get(route)).headers.get("etag");
    const gz = await get(route, { "accept-encoding": "gzip, deflate, br, zstd" });
    assert.equal(gz.status, 200);
    assert.equal(gz.headers.get("content-encoding"), "gzip");
    assert.equal(gz.headers.get("etag"), plainTag);
    const compressed = await bodyOf(gz);
    assert.equal(gz.headers.get("content-length"), String(compressed.byteLength));
    assert.ok(compressed.byteLength < BUNDLE.byteLength / 4, "the bundle compresses");
    assert.deepEqual([...compressed.subarray(0, 2)], [0x1f, 0x8b]);
    assert.deepEqual(await gunzip(compressed), BUNDLE);
    const cases: Array<[string, boolean]> = [
      ["gzip", true],
      ["GZIP;q=0.5", true],
      ["x-gzip", true],
      ["*", true],
      ["br;q=1, *;q=0.1", true],
      ["gzip;q=0", false],
      ["gzip;q=0, *", false],
      ["*;q=0", false],
      ["identity", false],
      ["br, deflate", false],
      ["", false],
    ];
    for (const [header, gzipped] of cases) {
      const r = await get(route, { "accept-encoding": header });
      assert.equal(r.headers.get("content-encoding") === "gzip", gzipped, header);
      assert.deepEqual(gzipped ? await gunzip(await bodyOf(r)) : await bodyOf(r), BUNDLE, header);
    }
  });

  test("304 with no body on a matching If-None-Match (exact, weak, listed, *)", async () => {
    const route = browserBundleRoute(BUNDLE, { maxAgeSeconds: 60 });
    const tag = (await get(route)).headers.get("etag")!;
    for (const inm of [tag, `W/${tag}`, `"nope", ${tag}`, "*"]) {
      const r = await get(route, { "if-none-match": inm, "accept-encoding": "gzip" });
      assert.equal(r.status, 304, inm);
      assert.equal(r.headers.get("etag"), tag);
      assert.equal(r.headers.get("cache-control"), "public, max-age=60");
      assert.equal((await bodyOf(r)).byteLength, 0);
    }
    for (const inm of ['"nope"', tag.slice(1, -1), `${tag}x`]) {
      assert.equal((await get(route, { "if-none-match": inm })).status, 200, inm);
    }
  });

  test("HEAD without a body, 405 for other methods, other paths passed on", async () => {
    const route = browserBundleRoute(BUNDLE);
    const head = await get(route, {}, { method: "HEAD" });
    assert.equal(head.status, 200);
    assert.equal(head.headers.get("content-length"), String(BUNDLE.byteLength));
    assert.equal((await bodyOf(head)).byteLength, 0);
    const post = await get(route, {}, { method: "POST", body: "x" });
    assert.equal(post.status, 405);
    assert.equal(post.headers.get("allow"), "GET, HEAD");
    assert.equal((await get(route, {}, { url: `${URL_JS}?v=2` })).status, 200);
    for (const path of ["/", "/gotalk/", "/gotalk/gotalk.js/", "/x/gotalk/gotalk.js"]) {
      assert.equal(await route(new Request(`http://localhost${path}`)), undefined, path);
    }
  });

  test("options: path, max-age, content type; the bundle is copied", async () => {
    const bytes = enc.encode("let a = 1;");
    const route = browserBundleRoute(bytes, {
      path: "/js/app.js",
      maxAgeSeconds: 0,
      contentType: "application/javascript",
    });
    bytes[0] = 0x2f;
    assert.equal(await route(new Request(URL_JS)), undefined);
    const r = await get(route, {}, { url: "http://localhost/js/app.js" });
    assert.equal(r.headers.get("cache-control"), "public, max-age=0");
    assert.equal(r.headers.get("content-type"), "application/javascript");
    assert.equal(new TextDecoder().decode(await bodyOf(r)), "let a = 1;");
  });

  test("bad arguments: TypeError and RangeError", () => {
    const bad = (f: () => unknown, E: ErrorConstructor) => assert.throws(f, E);
    bad(() => browserBundleRoute(1 as unknown as Uint8Array), TypeError);
    bad(() => browserBundleRoute(BUNDLE, null as unknown as undefined), TypeError);
    bad(() => browserBundleRoute(BUNDLE, { path: "gotalk.js" }), TypeError);
    bad(() => browserBundleRoute(BUNDLE, { maxAgeSeconds: "1" as unknown as number }), TypeError);
    bad(() => browserBundleRoute(BUNDLE, { maxAgeSeconds: -1 }), RangeError);
    bad(() => browserBundleRoute(BUNDLE, { maxAgeSeconds: 1.5 }), RangeError);
    bad(() => browserBundleRoute(BUNDLE, { contentType: 1 as unknown as string }), TypeError);
  });

  test("without a bundle: this library's prebuilt browser bundle; a string is served as UTF-8", async () => {
    const route = browserBundleRoute(undefined, { path: "/static/gotalk.js" });
    const r = await get(route, {}, { url: "http://localhost/static/gotalk.js" });
    assert.equal(r.status, 200);
    assert.equal(await r.text(), BROWSER_BUNDLE);
    assert.match(BROWSER_BUNDLE, /^\/\* gotalk for TypeScript [^\n]*browser bundle/);
    const fromText = await get(browserBundleRoute("export const é = 1;\n"));
    assert.deepEqual(await bodyOf(fromText), enc.encode("export const é = 1;\n"));
    assert.equal(
      (await get(browserBundleRoute())).headers.get("etag"),
      (await get(browserBundleRoute(enc.encode(BROWSER_BUNDLE)))).headers.get("etag"),
    );
  });

  test("as the routes hook of this runtime's WebSocket server, next to /gotalk/", async () => {
    const adapter = await wsAdapter();
    const listener = await adapter.serveWebSocket({
      hostname: "127.0.0.1",
      port: 0,
      routes: browserBundleRoute(BUNDLE),
    });
    const handlers = new Handlers().handle("upper", (s: string) => s.toUpperCase());
    const server = new Server(listener, { handlers, heartbeatIntervalMs: 0 });
    try {
      const url = `http://127.0.0.1:${listener.addr.port}/gotalk/gotalk.js`;
      const raw = await fetch(url, { headers: { "accept-encoding": "gzip" } });
      assert.equal(raw.status, 200);
      // fetch decodes the gzip body itself.
      assert.deepEqual(await bodyOf(raw), BUNDLE);
      const tag = raw.headers.get("etag")!;
      assert.ok(tag);
      const again = await fetch(url, { headers: { "if-none-match": tag } });
      assert.equal(again.status, 304);
      await again.arrayBuffer();
      const peer = new Peer(
        await adapter.connectWebSocket(listener.url, { signal: AbortSignal.timeout(5000) }),
      );
      try {
        assert.equal(
          await peer.request("upper", "still a gotalk endpoint"),
          "STILL A GOTALK ENDPOINT",
        );
      } finally {
        await peer.close({ timeoutMs: 1000 });
      }
    } finally {
      await server.close({ timeoutMs: 1000 });
    }
  });
});
