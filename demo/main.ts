/**
 * The demo (`npm start`): a multi-room chat in the spirit of rsms/gotalk's websocket-chat
 * example, served by Deno. Browsers load the page, import this library's browser bundle from
 * `/gotalk/gotalk.js` and talk Gotalk over a WebSocket at `/gotalk/` (with `ReconnectingPeer`);
 * terminals join the same rooms over TCP with `demo/chat_client.ts`. The server pushes
 * messages with notifications and asks every client who it is and how fast it answers with
 * requests. The chat itself is in `chat.ts` and `server.ts` beside this file.
 *
 * Run: `node_modules/.bin/deno run -A demo/main.ts [--port 1235] [--tcp-port 1236]
 * [--hostname 127.0.0.1] [--ping-interval 5000] [--quiet]`; it prints `Chat: http://…/`.
 * The same server on Bun: `node_modules/.bin/bun demo/main_bun.ts`.
 *
 * @module
 */
import { listen } from "../src/transports/deno.ts";
import { serveWebSocket } from "../src/transports/websocket/deno.ts";
import { runDemo } from "./server.ts";

await runDemo(
  { name: `Deno ${Deno.version.deno}`, serveWebSocket, listen },
  Deno.args,
);
