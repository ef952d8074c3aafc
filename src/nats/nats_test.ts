import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { BackplanePayloadTooLargeError, NoRespondersError } from "../server/backplane.ts";
import { Hub } from "../server/hub.ts";
import { member, runHubSuite, until } from "../server/_test_hub_suite.ts";
import { NatsBackplane } from "./mod.ts";
import { NatsServer } from "./_test_nats_server.ts";

/** A client connection as the docs recommend: reconnect forever, quickly (loopback). */
export function natsConnect(server: NatsServer): Promise<NatsConnection> {
  return connect({
    servers: server.url,
    maxReconnectAttempts: -1,
    reconnectTimeWait: 50,
    reconnectJitter: 0,
  });
}

describe("NatsBackplane against a real nats-server", () => {
  runHubSuite(async () => {
    const server = await NatsServer.start();
    const conns = await Promise.all([0, 1, 2].map(() => natsConnect(server)));
    return {
      hubs: conns.map((nc) => new Hub({ backplane: new NatsBackplane(nc) })),
      async close() {
        await Promise.all(conns.map((nc) => nc.close()));
        await server.stop();
      },
    };
  });

  test("max_payload: a frame over it is refused with a typed error, before anything is sent", async () => {
    const server = await NatsServer.start({ maxPayload: 4096 });
    const [nc1, nc2] = await Promise.all([natsConnect(server), natsConnect(server)]);
    const bp = new NatsBackplane(nc1);
    assert.equal(bp.maxPayloadBytes, 4096);
    const [a, b] = [new Hub({ backplane: bp }), new Hub({ backplane: new NatsBackplane(nc2) })];
    const local = member();
    const remote = member();
    a.topic("t").join(local.server);
    b.topic("t").join(remote.server);
    await Promise.all([a.flush(), b.flush()]);
    assert.throws(() => a.topic("t").notify("n", "z".repeat(5000)), (e) => {
      return e instanceof BackplanePayloadTooLargeError && e.limit === 4096 && e.size > 5000 &&
        /max_payload/.test(e.message);
    });
    await assert.rejects(
      a.bufferNotifyPeer("x", "n", new Uint8Array(5000)),
      BackplanePayloadTooLargeError,
    );
    a.topic("t").notify("n", "fits");
    await until(() => local.got.length === 1 && remote.got.length === 1);
    assert.deepEqual([local.got, remote.got], [[["n", "fits"]], [["n", "fits"]]]);
    for (const m of [local, remote]) m.client.abort();
    await Promise.all([a.close(), b.close()]);
    await Promise.all([nc1.close(), nc2.close()]);
    await server.stop();
  });

  test("no responders: NATS says so at once, as a NoRespondersError", async () => {
    const server = await NatsServer.start();
    const nc = await natsConnect(server);
    const bp = new NatsBackplane(nc);
    const started = Date.now();
    await assert.rejects(bp.request("nobody.here", new Uint8Array([1]), { timeoutMs: 20_000 }), (
      e,
    ) => e instanceof NoRespondersError && e.subject === "nobody.here");
    // Promptly: far below the 20 s deadline (a hang guard, not a timing measurement).
    assert.ok(Date.now() - started < 15_000);
    await nc.close();
    await server.stop();
  });
});
