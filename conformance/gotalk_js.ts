/**
 * The gotalk.js probe: runs the reference browser client, gotalk.js 1.2.1 (loaded from the Go
 * module cache, never copied into this repository), against a scripted WebSocket server, and
 * checks the client-side facts of `shared/interop-notes.md` that no server case can observe.
 *
 * ```sh
 * bun conformance/gotalk_js.ts             # gotalk.js runs on Bun (as in browsers)
 * deno run -A conformance/gotalk_js.ts     # and not on Deno: the probe expects it to fail
 * ```
 *
 * Probes (one JSON line each, like `check`: `{"id":…,"ok":…,"detail":…}`):
 *
 * - `js-heartbeat`: its first heartbeat is a 13-byte binary message with load 0.
 * - `js-e`, `js-s`, `js-p`: the server sends a RetryResult, a streaming request, a stream part
 *   (header and payload as separate messages, as gotalk.js reads them): gotalk.js has no handler
 *   for them, so it sends `f00000002` and closes the WebSocket with code 4002.
 * - `js-f3`: the server sends `f00000003`: gotalk.js closes with 4003 (4000 + the code).
 * - On Deno only, `js-deno`: gotalk.js fails (it relies on `__proto__`, which Deno lacks).
 *
 * Exit code 0 when every probe saw what the interop notes say, 1 otherwise, 2 when gotalk.js is
 * not in the Go module cache (`go build` in `conformance/go-peer` puts it there).
 *
 * @module
 */
// deno-lint-ignore-file no-console
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import process from "node:process";
// @ts-ignore: `ws` ships no types; the few APIs used are declared below.
import { WebSocketServer } from "ws";

interface WsLike {
  binaryType: string;
  send(data: Uint8Array): void;
  on(event: "message", fn: (data: Uint8Array, isBinary: boolean) => void): void;
  on(event: "close", fn: (code: number) => void): void;
}
interface WssLike {
  on(event: "listening", fn: () => void): void;
  on(event: "connection", fn: (ws: WsLike, req: { url?: string }) => void): void;
  address(): { port: number };
  close(): void;
}

const TIMEOUT_MS = 5000;
const isDeno = "Deno" in globalThis;

/** What the server saw on one connection. */
interface Seen {
  messages: { text: string; binary: boolean }[];
  code: number | undefined;
}

/** The messages the server sends after the handshake, per probe (header, then payload). */
const SCRIPTS: Record<string, string[]> = {
  heartbeat: [],
  e: ["e0000000003e800000004", "busy"],
  s: ["s0001003abc00000001", "x"],
  p: ["p000100000001", "x"],
  f3: ["f00000003"],
};

function gotalkJsSource(): string | null {
  let cache = "";
  try {
    cache = execFileSync("go", ["env", "GOMODCACHE"], { encoding: "utf8" }).trim();
  } catch {
    return null;
  }
  const path = join(cache, "github.com", "rsms", "gotalk@v1.3.7", "js", "gotalk.js");
  return existsSync(path) ? readFileSync(path, "utf8") : null;
}

const latin1 = (b: Uint8Array): string => String.fromCharCode(...b);
const bytes = (s: string): Uint8Array => Uint8Array.from(s, (c) => c.charCodeAt(0));

/** Runs one probe: gotalk.js connects, the server plays its script, and reports what it saw. */
function probe(
  // deno-lint-ignore no-explicit-any
  gotalk: any,
  port: number,
  name: string,
  seen: Map<string, Seen>,
): Promise<Seen> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      const s = seen.get(name);
      if (s && name === "heartbeat" && s.messages.length > 1) resolve(s);
      else reject(new Error(`no close within ${TIMEOUT_MS} ms (saw ${JSON.stringify(s)})`));
    }, name === "heartbeat" ? 1000 : TIMEOUT_MS);
    const poll = setInterval(() => {
      const s = seen.get(name);
      if (s && s.code !== undefined) {
        clearTimeout(timer);
        clearInterval(poll);
        resolve(s);
      }
    }, 10);
    try {
      gotalk.open(`ws://127.0.0.1:${port}/${name}`, (err: Error | null) => {
        if (err) {
          clearTimeout(timer);
          clearInterval(poll);
          reject(err);
        }
      });
    } catch (e) {
      clearTimeout(timer);
      clearInterval(poll);
      reject(e);
    }
  });
}

function judge(name: string, s: Seen): string | undefined {
  const after = s.messages.slice(1).filter((m) => !m.text.startsWith("h"));
  if (s.messages[0]?.text !== "01") return `first message ${JSON.stringify(s.messages[0])}`;
  if (s.messages.some((m) => !m.binary)) return "gotalk.js sent a text message";
  if (name === "heartbeat") {
    const h = s.messages.find((m) => m.text.startsWith("h"));
    if (!h) return "no heartbeat";
    return /^h0000[0-9a-f]{8}$/.test(h.text) ? undefined : `heartbeat ${JSON.stringify(h.text)}`;
  }
  if (name === "f3") {
    if (after.length) return `gotalk.js answered ${JSON.stringify(after.map((m) => m.text))}`;
    return s.code === 4003 ? undefined : `close code ${s.code}, want 4003`;
  }
  if (after.map((m) => m.text).join("|") !== "f00000002") {
    return `gotalk.js sent ${JSON.stringify(after.map((m) => m.text))}, want ["f00000002"]`;
  }
  return s.code === 4002 ? undefined : `close code ${s.code}, want 4002`;
}

async function main(): Promise<number> {
  const source = gotalkJsSource();
  if (source === null) {
    console.error("gotalk_js: gotalk.js is not in the Go module cache (build conformance/go-peer)");
    return 2;
  }
  const seen = new Map<string, Seen>();
  const wss = new WebSocketServer({ host: "127.0.0.1", port: 0 }) as WssLike;
  await new Promise<void>((r) => wss.on("listening", r));
  wss.on("connection", (ws, req) => {
    const name = (req.url ?? "/").slice(1);
    const s: Seen = { messages: [], code: undefined };
    seen.set(name, s);
    ws.binaryType = "nodebuffer";
    ws.send(bytes("01"));
    ws.on("message", (data, isBinary) => {
      s.messages.push({ text: latin1(new Uint8Array(data)), binary: isBinary });
      if (s.messages.length === 1) { for (const m of SCRIPTS[name] ?? []) ws.send(bytes(m)); }
    });
    ws.on("close", (code) => (s.code = code));
  });
  const port = wss.address().port;
  let failed = 0;
  const report = (id: string, ok: boolean, detail?: string): void => {
    if (!ok) failed++;
    console.log(
      JSON.stringify(ok ? { id, ok, ...(detail ? { detail } : {}) } : { id, ok, detail }),
    );
  };
  // deno-lint-ignore no-explicit-any
  let gotalk: any;
  try {
    gotalk = new Function("WebSocket", source + "\nreturn gotalk;")(globalThis.WebSocket);
  } catch (e) {
    gotalk = e;
  }
  if (isDeno) {
    // The notes: gotalk.js does not run on Deno. Any probe must fail; gotalk.js throws inside
    // the WebSocket's event handlers, so catch what is uncaught too.
    let uncaught: (e: unknown) => void = () => {};
    const failure = new Promise<never>((_, reject) => (uncaught = reject));
    globalThis.addEventListener("error", (ev) => {
      ev.preventDefault();
      uncaught(ev.error);
    });
    try {
      if (gotalk instanceof Error) throw gotalk;
      const s = await Promise.race([probe(gotalk, port, "e", seen), failure]);
      const why = judge("e", s);
      if (why) throw new Error(why);
      report("js-deno", false, "gotalk.js ran on Deno, which the interop notes say it cannot");
    } catch (e) {
      report("js-deno", true, `fails as expected: ${e instanceof Error ? e.message : e}`);
    }
  } else {
    for (const name of Object.keys(SCRIPTS)) {
      try {
        const why = judge(name, await probe(gotalk, port, name, seen));
        report(`js-${name}`, why === undefined, why);
      } catch (e) {
        report(`js-${name}`, false, e instanceof Error ? e.message : String(e));
      }
    }
  }
  wss.close();
  return failed === 0 ? 0 : 1;
}

main().then((code) => process.exit(code), (e) => {
  console.error(`gotalk_js: ${e instanceof Error ? e.stack : e}`);
  process.exit(1);
});
