// This module is browser compatible.

/**
 * Serves a JavaScript bundle, by default this library's prebuilt browser bundle
 * (`@gotalk/gotalk/browser-bundle`, shipped in the package), the way Gotalk's Go server serves
 * gotalk.js: an `ETag`, gzip when the client accepts it, `304 Not Modified` on a matching
 * `If-None-Match`, and `Cache-Control: public, max-age=300`. Web APIs only (`crypto.subtle`,
 * `CompressionStream`), so the route runs on Deno, Bun, Node 20+ and in service workers, and
 * plugs into the `routes` hook of every WebSocket server of this library.
 *
 * @example The browser bundle at /gotalk/gotalk.js, next to the WebSocket endpoint
 * ```ts
 * import { Server } from "@gotalk/gotalk";
 * import { browserBundleRoute } from "@gotalk/gotalk/bundle-route";
 * import { serveWebSocket } from "@gotalk/gotalk/websocket-deno";
 * import assert from "node:assert/strict";
 *
 * const listener = await serveWebSocket({ hostname: "127.0.0.1", port: 0, routes: browserBundleRoute() });
 * const server = new Server(listener);
 * const response = await fetch(`http://127.0.0.1:${server.addr.port}/gotalk/gotalk.js`);
 * assert.equal(response.headers.get("content-type"), "text/javascript; charset=utf-8");
 * assert.match(await response.text(), /\bconnectWebSocket\b/);
 * await server.close();
 * ```
 *
 * @module
 */

/**
 * Options for {@linkcode browserBundleRoute}.
 *
 * @example Another path and cache lifetime
 * ```ts
 * import { browserBundleRoute, type BrowserBundleRouteOptions } from "@gotalk/gotalk/bundle-route";
 * import assert from "node:assert/strict";
 *
 * const options: BrowserBundleRouteOptions = { path: "/static/gotalk.js", maxAgeSeconds: 60 };
 * const route = browserBundleRoute(undefined, options);
 * const response = (await route(new Request("http://localhost/static/gotalk.js")))!;
 * assert.equal(response.headers.get("cache-control"), "public, max-age=60");
 * assert.equal(await route(new Request("http://localhost/gotalk/gotalk.js")), undefined);
 * ```
 */
export interface BrowserBundleRouteOptions {
  /**
   * The path the bundle is served at (matched exactly; the query string is ignored).
   *
   * @default {"/gotalk/gotalk.js"}
   */
  path?: string;
  /**
   * How long browsers may use their copy without revalidating it, in seconds (the `max-age` of
   * `Cache-Control`). Revalidation is cheap: a `304` with no body. Go's server uses 300.
   *
   * @default {300}
   */
  maxAgeSeconds?: number;
  /**
   * The `Content-Type` of the bundle.
   *
   * @default {"text/javascript; charset=utf-8"}
   */
  contentType?: string;
}

/**
 * A `routes` hook that answers requests for a JavaScript bundle at one path, and passes every
 * other request on (resolves with `undefined`).
 *
 * - `GET` answers `200` with the bundle, gzipped when `Accept-Encoding` allows gzip (compressed
 *   once, on first demand, with `CompressionStream`), `ETag` (a SHA-256 of the bundle),
 *   `Cache-Control: public, max-age=…` and `Vary: Accept-Encoding`.
 * - A matching `If-None-Match` (strong or weak, a list, or `*`) answers `304` with no body.
 * - `HEAD` answers like `GET` without the body; other methods get `405`.
 *
 * The bundle is copied: changing `bundle` later changes nothing served. Without one, the route
 * serves this library's browser bundle (`BROWSER_BUNDLE` of `@gotalk/gotalk/browser-bundle`),
 * loaded on the first request.
 *
 * @param bundle The bundle's bytes or text; by default this library's browser bundle.
 * @param options The path, the cache lifetime and the content type.
 * @returns The route, for a server's `routes` option (or to call from your own routing).
 * @throws {TypeError} If `bundle` is neither a `Uint8Array` nor a string, `path` does not start with `/`, or
 * `contentType` is not a string.
 * @throws {RangeError} If `maxAgeSeconds` is not a non-negative integer.
 *
 * @example ETag, gzip and 304
 * ```ts
 * import { browserBundleRoute } from "@gotalk/gotalk/bundle-route";
 * import assert from "node:assert/strict";
 *
 * const route = browserBundleRoute(new TextEncoder().encode("export const x = 1;\n"));
 * const url = "http://localhost/gotalk/gotalk.js";
 * const first = (await route(new Request(url, { headers: { "accept-encoding": "gzip" } })))!;
 * assert.equal(first.status, 200);
 * assert.equal(first.headers.get("content-encoding"), "gzip");
 * assert.equal(first.headers.get("cache-control"), "public, max-age=300");
 * const etag = first.headers.get("etag")!;
 * const again = (await route(new Request(url, { headers: { "if-none-match": etag } })))!;
 * assert.equal(again.status, 304);
 * assert.equal(await route(new Request("http://localhost/other")), undefined);
 * ```
 *
 * @example This library's browser bundle, with no build step
 * ```ts
 * import { browserBundleRoute } from "@gotalk/gotalk/bundle-route";
 * import assert from "node:assert/strict";
 *
 * const response = (await browserBundleRoute()(new Request("http://localhost/gotalk/gotalk.js")))!;
 * assert.equal(response.status, 200);
 * assert.match(await response.text(), /^\/\* gotalk for TypeScript /);
 * ```
 */
export function browserBundleRoute(
  bundle?: Uint8Array | string,
  options?: BrowserBundleRouteOptions,
): (request: Request) => Promise<Response | undefined> {
  if (options === undefined) options = {};
  if (bundle !== undefined && !(bundle instanceof Uint8Array) && typeof bundle !== "string") {
    throw new TypeError("bundle must be a Uint8Array or a string");
  }
  if (typeof options !== "object" || options === null) {
    throw new TypeError("options must be an object");
  }
  const {
    path = "/gotalk/gotalk.js",
    maxAgeSeconds = 300,
    contentType = "text/javascript; charset=utf-8",
  } = options;
  if (typeof path !== "string" || !path.startsWith("/")) {
    throw new TypeError(`path must be a string starting with "/", got ${String(path)}`);
  }
  if (typeof maxAgeSeconds !== "number") throw new TypeError("maxAgeSeconds must be a number");
  if (!Number.isInteger(maxAgeSeconds) || maxAgeSeconds < 0) {
    throw new RangeError(`maxAgeSeconds must be a non-negative integer, got ${maxAgeSeconds}`);
  }
  if (typeof contentType !== "string") throw new TypeError("contentType must be a string");

  // Loaded on first use, so that importing this module costs nothing when a bundle is given.
  let body: Promise<Uint8Array<ArrayBuffer>> | undefined = bundle === undefined
    ? undefined
    : Promise.resolve(bytesOf(bundle));
  let etag: Promise<string> | undefined;
  let gzipped: Promise<Uint8Array<ArrayBuffer>> | undefined;
  const cacheControl = `public, max-age=${maxAgeSeconds}`;

  return async (request: Request): Promise<Response | undefined> => {
    if (new URL(request.url).pathname !== path) return undefined;
    const method = request.method;
    if (method !== "GET" && method !== "HEAD") {
      return new Response("Method Not Allowed\n", {
        status: 405,
        headers: { "allow": "GET, HEAD", "content-type": "text/plain; charset=utf-8" },
      });
    }
    body ??= import("./browser_bundle.ts").then((m) => bytesOf(m.BROWSER_BUNDLE));
    const bytes = await body;
    etag ??= sha256Tag(bytes);
    const tag = await etag;
    const headers: Record<string, string> = {
      "etag": tag,
      "cache-control": cacheControl,
      "vary": "Accept-Encoding",
    };
    if (matchesIfNoneMatch(request.headers.get("if-none-match"), tag)) {
      return new Response(null, { status: 304, headers });
    }
    let payload = bytes;
    if (acceptsGzip(request.headers.get("accept-encoding"))) {
      gzipped ??= gzip(bytes);
      payload = await gzipped;
      headers["content-encoding"] = "gzip";
    }
    headers["content-type"] = contentType;
    headers["content-length"] = String(payload.byteLength);
    return new Response(method === "HEAD" ? null : payload, { status: 200, headers });
  };
}

/** A copy of the bundle's bytes, or its text encoded as UTF-8. */
function bytesOf(bundle: Uint8Array | string): Uint8Array<ArrayBuffer> {
  return typeof bundle === "string" ? new TextEncoder().encode(bundle) : new Uint8Array(bundle);
}

/** A strong ETag: the base64 SHA-256 of the bytes, quoted. */
async function sha256Tag(bytes: Uint8Array<ArrayBuffer>): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  let binary = "";
  for (const b of digest) binary += String.fromCharCode(b);
  return `"${btoa(binary).replace(/=+$/, "")}"`;
}

/** Compresses with the `CompressionStream` Web API. */
async function gzip(bytes: Uint8Array<ArrayBuffer>): Promise<Uint8Array<ArrayBuffer>> {
  const stream = new Blob([bytes]).stream().pipeThrough(new CompressionStream("gzip"));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

/**
 * Whether an `If-None-Match` header matches `tag`, by the weak comparison RFC 9110 prescribes
 * for it: `*`, or any listed tag equal to `tag` once `W/` prefixes are dropped.
 */
function matchesIfNoneMatch(header: string | null, tag: string): boolean {
  if (header === null) return false;
  const value = header.trim();
  if (value === "*") return true;
  const opaque = (t: string) => t.trim().replace(/^W\//, "");
  return value.split(",").some((t) => opaque(t) === tag);
}

/**
 * Whether an `Accept-Encoding` header allows gzip: `gzip` (or `x-gzip`) with a non-zero
 * quality, or else `*` with a non-zero quality.
 */
function acceptsGzip(header: string | null): boolean {
  if (header === null) return false;
  let gzipQ: number | undefined;
  let anyQ: number | undefined;
  for (const item of header.split(",")) {
    const [name, ...params] = item.split(";").map((s) => s.trim().toLowerCase());
    let q = 1;
    for (const p of params) {
      const m = /^q=([0-9.]+)$/.exec(p);
      if (m) q = Number(m[1]);
    }
    if (!Number.isFinite(q)) q = 0;
    if (name === "gzip" || name === "x-gzip") gzipQ = Math.max(gzipQ ?? 0, q);
    else if (name === "*") anyQ = q;
  }
  return gzipQ !== undefined ? gzipQ > 0 : anyQ !== undefined && anyQ > 0;
}
