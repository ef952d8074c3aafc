// A worker for the workers-and-topics test: on the port given as its last argument (shared with
// the other workers: reusePort; cluster on Node) it serves `pid`, `join` (a topic of a hub on
// the NATS server at $NATS_URL) and `say` (a notification to a topic), then tells the primary.
import process from "node:process";
import { connect } from "@nats-io/transport-node";
import { Handlers } from "../peer/handlers.ts";
import { Peer } from "../peer/peer.ts";
import type { Listener } from "../peer/transport.ts";
import { Hub } from "../server/hub.ts";
import type { ListenOptions } from "../transports/socket_options.ts";
import { runtimeName } from "../transports/_test_factories.ts";
import { NatsBackplane } from "./mod.ts";

const runtime = runtimeName();
const adapter: {
  listen(options: ListenOptions): Promise<Listener>;
  workerReady(): void;
} = runtime === "deno"
  ? await import("../transports/deno.ts")
  : runtime === "bun"
  ? await import("../transports/bun.ts")
  : await import("../transports/node.ts");

const nc = await connect({ servers: process.env.NATS_URL });
const hub = new Hub({ backplane: new NatsBackplane(nc) });
const handlers = new Handlers()
  .handle("pid", () => process.pid)
  .handle("join", async (topic: string, ctx) => {
    const joined = hub.topic(topic).join(ctx.peer as Peer);
    await hub.flush(); // subscribed on the NATS server: what is published next reaches it
    return joined;
  })
  .handle("say", ([topic, text]: string[]) => hub.topic(topic).notify("said", text));
const port = Number(process.argv.at(-1));
const listener = await adapter.listen({ hostname: "127.0.0.1", port, reusePort: true });
adapter.workerReady();
for (let transport; (transport = await listener.accept()) !== null;) {
  new Peer(transport, { handlers });
}
