import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { RemoteError } from "../peer/errors.ts";
import { Handlers } from "../peer/handlers.ts";
import { Peer } from "../peer/peer.ts";
import { pipePair } from "../transports/pipe.ts";
import { BackplanePayloadTooLargeError } from "./backplane.ts";
import { Hub } from "./hub.ts";
import { InProcessBackplane } from "./in_process_backplane.ts";
import { runHubSuite, until } from "./_test_hub_suite.ts";

describe("Hub on an InProcessBackplane", () => {
  runHubSuite(() => {
    const bus = new InProcessBackplane();
    return Promise.resolve({
      hubs: [0, 1, 2].map(() => new Hub({ backplane: bus })),
      close: () => Promise.resolve(),
    });
  });

  test("a frame over the backplane's limit is refused before anything is sent", async () => {
    const bus = new InProcessBackplane({ maxPayloadBytes: 1000 });
    const hub = new Hub({ backplane: bus });
    const [a, b] = pipePair();
    const got: unknown[] = [];
    const client = new Peer(b, {
      handlers: new Handlers().handleNotification("n", (v) => void got.push(v)),
    });
    hub.topic("t").join(new Peer(a));
    assert.throws(() => hub.topic("t").notify("n", "z".repeat(2000)), (e) => {
      return e instanceof BackplanePayloadTooLargeError && e.limit === 1000 && e.size > 2000;
    });
    assert.equal(hub.topic("t").notify("n", "small"), 1);
    await until(() => got.length === 1);
    await client.close();
    assert.deepEqual(got, ["small"], "the refused notification reached nobody, not even here");
    await hub.close();
  });

  test("a forwarded op's handler error comes back as the same ErrorResult", async () => {
    const bus = new InProcessBackplane();
    const [a, b] = [new Hub({ backplane: bus }), new Hub({ backplane: bus })];
    b.serve(
      new Handlers().handle("fail", () => {
        throw new RemoteError("fail", "custom text");
      }),
      ["fail"],
    );
    const [s, c] = pipePair();
    const server = new Peer(s, {
      handlers: new Handlers().handleFallback(a.forward),
      logger: null,
    });
    const client = new Peer(c);
    await assert.rejects(client.request("fail"), { name: "RemoteError", message: "custom text" });
    client.abort();
    server.abort();
    await Promise.all([a.close(), b.close()]);
  });

  test("options are checked", () => {
    assert.throws(() => new Hub({ requestTimeoutMs: 0 }), RangeError);
    assert.throws(() => new Hub({ maxBacklogBytes: -1 }), RangeError);
  });
});
