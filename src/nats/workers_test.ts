// Workers and topics: two worker processes behind one port (startWorkers), each with a Hub on
// one nats-server; a topic spans them, so a member on one worker hears what is said on the other.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { Handlers } from "../peer/handlers.ts";
import { Peer } from "../peer/peer.ts";
import type { Listener, Transport } from "../peer/transport.ts";
import type { ConnectOptions, ListenOptions } from "../transports/socket_options.ts";
import type { StartWorkersOptions, Workers } from "../transports/workers_options.ts";
import { runtimeName } from "../transports/_test_factories.ts";
import { scriptPath } from "../transports/_test_stdio_util.ts";
import { NatsServer } from "./_test_nats_server.ts";
import { within } from "../peer/_test_within.ts";

const runtime = runtimeName();
const adapter: {
  connect(options: ConnectOptions): Promise<Transport>;
  listen(options: ListenOptions): Promise<Listener>;
  startWorkers(options?: StartWorkersOptions): Promise<Workers>;
} = runtime === "deno"
  ? await import("../transports/deno.ts")
  : runtime === "bun"
  ? await import("../transports/bun.ts")
  : await import("../transports/node.ts");

interface Client {
  peer: Peer;
  pid: number;
  said: string[];
  /** Resolves once `text` was said to this client (bounded). */
  heard(text: string): Promise<void>;
}

/** A client that records the `said` notifications it gets. */
async function client(port: number): Promise<Client> {
  const said: string[] = [];
  const waiters = new Map<string, () => void>();
  const handlers = new Handlers().handleNotification("said", (t: string) => {
    said.push(t);
    waiters.get(t)?.();
  });
  const peer = new Peer(await adapter.connect({ port }), { handlers });
  const heard = (text: string) =>
    within(
      new Promise<void>((resolve) => {
        if (said.includes(text)) resolve();
        else waiters.set(text, resolve);
      }),
      20_000,
      `hearing ${text}`,
    );
  return { peer, pid: await peer.request("pid") as number, said, heard };
}

describe(`workers share topics over NATS (${runtime})`, () => {
  test("a member on each of two workers: each hears both, once each, in order", async () => {
    const nats = await NatsServer.start();
    const probe = await adapter.listen({ hostname: "127.0.0.1", port: 0 });
    const port = probe.addr.port;
    probe.close();
    const workers = await within(
      adapter.startWorkers({
        count: 2,
        module: scriptPath("../nats/_test_hub_worker.ts"),
        args: [String(port)],
        env: { NATS_URL: nats.url },
      }),
      60_000,
      "startWorkers",
    );
    const clients: Client[] = [];
    try {
      // One client on each worker: connect until both pids answered (2^-63 to miss one in 64).
      const byPid = new Map<number, Client>();
      for (let i = 0; i < 64 && byPid.size < 2; i++) {
        const c = await within(client(port), 20_000, "a client");
        clients.push(c);
        if (!byPid.has(c.pid)) byPid.set(c.pid, c);
      }
      assert.equal(byPid.size, 2, "every connection went to one worker");
      const [a, b] = [...byPid.values()];
      assert.equal(await a.peer.request("join", "room"), true);
      assert.equal(await b.peer.request("join", "room"), true);
      await a.peer.request("say", ["room", "from a"]);
      await b.peer.request("say", ["room", "from b"]);
      await Promise.all([a, b].flatMap((c) => [c.heard("from a"), c.heard("from b")]));
      // A barrier: a third message, sent after both were heard, arrives last at both.
      await a.peer.request("say", ["room", "last"]);
      await Promise.all([a.heard("last"), b.heard("last")]);
      // a's own two are in order; b's one sits somewhere between (two publishers).
      for (const c of [a, b]) {
        assert.equal(c.said.length, 3, `${c.said}`);
        assert.deepEqual(c.said.filter((s) => s !== "from b"), ["from a", "last"]);
      }
    } finally {
      await Promise.all(clients.map((c) => c.peer.close()));
      await workers.close();
      await nats.stop();
    }
  });
});
