// deno-lint-ignore-file no-console
/**
 * A bare Gotalk echo server over WebSocket without the library: the ceiling of the WebSocket
 * server rows, what the runtime's WebSocket API itself reaches. It answers the handshake `01`
 * and each buffer request `r` + id(4) + op size(3 hex) + op + payload size(8 hex) + payload,
 * whatever its operation, with `R` + id + size + payload: the header and a non-empty payload as
 * two binary messages, as gotalk.js reads them. Incoming messages are one byte stream (header and
 * payload may come as one message or two); anything else closes the connection.
 *
 * APIs (`--api`): `ws` (`node:http` + the `ws` package, what our Deno and Node servers use; the
 * default on Deno and Node), `bun` (`Bun.serve`'s `websocket` handlers, the default on Bun),
 * `deno` (`Deno.serve` + `Deno.upgradeWebSocket`).
 * With `--cork` (`ws` only) the replies of one task leave in one socket write; with `--frames`
 * (`ws` only) they are framed here instead of by `ws`, into one buffer written once per task.
 *
 * Usage: `_bare_ws_echo.mjs [--api ws|bun|deno] [--cork] [HOST:PORT]`; prints
 * `READY ws://HOST:PORT/gotalk/`.
 *
 * @module
 */

const argv = globalThis.process?.argv ?? [];
const addrArg = argv.find((a) => /^[\w.]+:\d+$/.test(a)) ?? "127.0.0.1:0";
const host = addrArg.slice(0, addrArg.lastIndexOf(":"));
const port = Number(addrArg.slice(addrArg.lastIndexOf(":") + 1));
const apiAt = argv.indexOf("--api");
const api = apiAt >= 0 ? argv[apiAt + 1] : typeof globalThis.Bun !== "undefined" ? "bun" : "ws";
const cork = argv.includes("--cork");
const frames = argv.includes("--frames");

const ready = (p) => console.log(`READY ws://${host}:${p}/gotalk/`);

function hex(bytes, at, n) {
  let v = 0;
  for (let i = 0; i < n; i++) {
    const c = bytes[at + i];
    const d = c >= 48 && c <= 57 ? c - 48 : c >= 97 && c <= 102 ? c - 87 : -1;
    if (d < 0) return -1;
    v = v * 16 + d;
  }
  return v;
}

const HEX = "0123456789abcdef";

/**
 * The byte-stream side of one connection: `feed` takes each message's bytes; `send` sends one
 * message. Payloads within one message are answered with views, without a copy.
 */
class Echo {
  constructor(send, close) {
    this.send = send;
    this.close = close;
    this.handshake = true;
    /** Bytes of a header not complete yet. */
    this.rest = null;
    /** The payload being collected: its reply header, its pieces and what is still missing. */
    this.head = null;
    this.pieces = [];
    this.left = 0;
  }

  feed(chunk) {
    if (this.rest !== null) {
      const joined = new Uint8Array(this.rest.length + chunk.length);
      joined.set(this.rest);
      joined.set(chunk, this.rest.length);
      chunk = joined;
      this.rest = null;
    }
    let pos = 0;
    const end = chunk.length;
    while (pos < end) {
      if (this.head !== null) {
        const take = Math.min(this.left, end - pos);
        this.pieces.push(chunk.subarray(pos, pos + take));
        this.left -= take;
        pos += take;
        if (this.left === 0) this.#reply();
        continue;
      }
      if (this.handshake) {
        if (end - pos < 2) break;
        if (chunk[pos] !== 48 || chunk[pos + 1] !== 49) return this.close();
        this.send(chunk.subarray(pos, pos + 2));
        this.handshake = false;
        pos += 2;
        continue;
      }
      if (chunk[pos] !== 114 /* r */) return this.close();
      if (end - pos < 8) break;
      const opSize = hex(chunk, pos + 5, 3);
      if (opSize < 0) return this.close();
      const headLen = 8 + opSize + 8;
      if (end - pos < headLen) break;
      const size = hex(chunk, pos + 8 + opSize, 8);
      if (size < 0) return this.close();
      const head = new Uint8Array(13);
      head[0] = 82; // R
      head.set(chunk.subarray(pos + 1, pos + 5), 1);
      for (let i = 0, v = size; i < 8; i++, v >>>= 4) head[12 - i] = HEX.charCodeAt(v & 15);
      pos += headLen;
      this.head = head;
      this.left = size;
      if (size === 0) this.#reply();
    }
    if (pos < end) this.rest = chunk.slice(pos);
  }

  #reply() {
    this.send(this.head);
    const pieces = this.pieces;
    if (pieces.length === 1) this.send(pieces[0]);
    else if (pieces.length > 1) {
      const out = new Uint8Array(pieces.reduce((n, p) => n + p.length, 0));
      let at = 0;
      for (const p of pieces) {
        out.set(p, at);
        at += p.length;
      }
      this.send(out);
    }
    this.head = null;
    this.pieces = [];
  }
}

async function viaWs() {
  const { createServer } = await import("node:http");
  const { WebSocketServer } = await import("ws");
  const wss = new WebSocketServer({
    noServer: true,
    perMessageDeflate: false,
    clientTracking: false,
  });
  const server = createServer({ noDelay: true });
  server.on("upgrade", (req, socket, head) => {
    wss.handleUpgrade(req, socket, head, (ws) => {
      const sock = ws._socket;
      let corked = false;
      const uncork = () => {
        corked = false;
        sock.uncork();
      };
      // --frames: our own unmasked frames, one buffer and one write per task.
      let held = [];
      let heldBytes = 0;
      const flushFrames = () => {
        corked = false;
        const out = Buffer.allocUnsafe(heldBytes);
        let at = 0;
        for (const b of held) {
          const n = b.length;
          out[at++] = 0x82;
          if (n < 126) out[at++] = n;
          else if (n < 65536) {
            out[at++] = 126;
            out.writeUInt16BE(n, at);
            at += 2;
          } else {
            out[at++] = 127;
            out.writeBigUInt64BE(BigInt(n), at);
            at += 8;
          }
          out.set(b, at);
          at += n;
        }
        held = [];
        heldBytes = 0;
        sock.write(out);
      };
      const echo = new Echo((b) => {
        if (frames) {
          if (!corked) {
            corked = true;
            process.nextTick(flushFrames);
          }
          held.push(b);
          heldBytes += b.length + (b.length < 126 ? 2 : b.length < 65536 ? 4 : 10);
          return;
        }
        if (cork && !corked) {
          corked = true;
          sock.cork();
          process.nextTick(uncork);
        }
        ws.send(b);
      }, () => ws.terminate());
      ws.on("message", (data) => echo.feed(data));
    });
  });
  server.listen(port, host, () => ready(server.address().port));
}

function viaBun() {
  const server = Bun.serve({
    hostname: host,
    port,
    fetch(req, srv) {
      if (srv.upgrade(req, { data: {} })) return undefined;
      return new Response("Upgrade Required", { status: 426 });
    },
    websocket: {
      perMessageDeflate: false,
      open(ws) {
        ws.data.echo = new Echo((b) => ws.sendBinary(b), () => ws.terminate());
      },
      message(ws, data) {
        ws.cork(() => ws.data.echo.feed(data));
      },
    },
  });
  ready(server.port);
}

function viaDeno() {
  const server = Deno.serve({ hostname: host, port, onListen: (a) => ready(a.port) }, (req) => {
    const { socket, response } = Deno.upgradeWebSocket(req);
    socket.binaryType = "arraybuffer";
    const echo = new Echo((b) => socket.send(b), () => socket.close());
    socket.onmessage = (e) => echo.feed(new Uint8Array(e.data));
    return response;
  });
  void server;
}

if (api === "ws") await viaWs();
else if (api === "bun") viaBun();
else if (api === "deno") viaDeno();
else throw new Error(`unknown --api ${api}`);
