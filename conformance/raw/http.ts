/**
 * A plain HTTP client for what a Gotalk WebSocket server serves besides upgrades (the catalogue's
 * `http` steps), on `node:http`.
 *
 * @module
 */

import { request as httpRequest } from "node:http";
import type { HttpResponse } from "../catalogue/mod.ts";

/** How to send an HTTP GET. */
export interface HttpGetOptions {
  /** Request headers (`connection: close` is sent unless overridden). @default {{}} */
  headers?: Record<string, string>;
  /** The bound on the response, in ms. */
  timeoutMs: number;
}

/**
 * A plain HTTP GET of `path` from the server of `url` (a `ws:` URL).
 *
 * @param url The server URL; only its host and port are used.
 * @param path The request path.
 * @param options Headers and the timeout.
 * @returns The response, headers in lower case.
 * @throws {Error} If the request fails or no response comes within `timeoutMs`.
 */
export function httpGet(url: string, path: string, options: HttpGetOptions): Promise<HttpResponse> {
  const { headers = {}, timeoutMs } = options;
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const r = httpRequest({
      host: u.hostname.replace(/^\[|\]$/g, ""),
      port: Number(u.port || 80),
      path,
      method: "GET",
      headers: { connection: "close", ...headers },
      timeout: timeoutMs,
    }, (res) => {
      const chunks: Uint8Array[] = [];
      res.on("data", (c: Uint8Array) => chunks.push(new Uint8Array(c)));
      res.on("end", () => {
        const hs: Record<string, string> = {};
        for (const [k, v] of Object.entries(res.headers)) {
          if (v !== undefined) hs[k.toLowerCase()] = Array.isArray(v) ? v.join(", ") : v;
        }
        resolve({ status: res.statusCode ?? 0, headers: hs, body: concat(chunks) });
      });
      res.on("error", reject);
    });
    r.on("timeout", () => r.destroy(new Error(`No HTTP response within ${timeoutMs} ms`)));
    r.on("error", reject);
    r.end();
  });
}

function concat(chunks: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let o = 0;
  for (const c of chunks) {
    out.set(c, o);
    o += c.length;
  }
  return out;
}
