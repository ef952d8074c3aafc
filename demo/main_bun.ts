/**
 * The chat demo of `demo/main.ts`, served by Bun: the same page, bundle, rooms and options
 * on Bun's own WebSocket server (`Bun.serve`) and TCP sockets.
 *
 * Run: `node_modules/.bin/bun demo/main_bun.ts [--port 1235] [--tcp-port 1236] …`
 *
 * @module
 */
import process from "node:process";
import { listen } from "../src/transports/bun.ts";
import { serveWebSocket } from "../src/transports/websocket/bun.ts";
import { runDemo } from "./server.ts";

const version = (process.versions as Record<string, string | undefined>).bun ?? "?";
await runDemo({ name: `Bun ${version}`, serveWebSocket, listen }, process.argv.slice(2));
