/**
 * One server of a test cluster, as a child process: a Gotalk server on a free loopback port
 * whose every connection joins the topic `room`, with a Hub on NATS. Prints `READY PORT`, then
 * runs until it is killed. Test-only.
 *
 * Run: `<runtime> _test_node_child.ts NATS_PORT`
 *
 * @module
 */

import process from "node:process";
import { connect } from "@nats-io/transport-node";
import { Handlers } from "../peer/handlers.ts";
import { Hub } from "../server/hub.ts";
import { Server } from "../server/server.ts";
import { listen } from "../transports/node.ts";
import { NatsBackplane } from "./mod.ts";

const natsPort = Number(process.argv[process.argv.length - 1]);
const nc = await connect({
  servers: `127.0.0.1:${natsPort}`,
  maxReconnectAttempts: -1,
  reconnectTimeWait: 50,
});
const hub = new Hub({ backplane: new NatsBackplane(nc) });
const handlers = new Handlers().handle("node", () => "child");
const server = new Server(await listen({ hostname: "127.0.0.1", port: 0 }), {
  handlers,
  onPeer: (peer) => void hub.topic("room").join(peer),
  logger: null,
});
await hub.flush();
process.stdout.write(`READY ${server.addr.port}\n`);
