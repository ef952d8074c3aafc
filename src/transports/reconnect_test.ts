// A ReconnectingPeer over real TCP: the server is stopped and started again on the same port;
// the client comes back within its backoff and new requests succeed.
import { test } from "node:test";
import assert from "node:assert/strict";
import { Handlers } from "../peer/handlers.ts";
import { ReconnectingPeer } from "../peer/reconnecting.ts";
import { nativeAdapter, runtimeName } from "./_test_factories.ts";
import { Server } from "../server/server.ts";

test(`ReconnectingPeer survives a server restart over TCP on ${runtimeName()}`, async () => {
  const adapter = await nativeAdapter();
  const handlers = new Handlers().handle("ping", () => "pong");
  let server = new Server(await adapter.listen({ hostname: "127.0.0.1", port: 0 }), { handlers });
  const port = server.addr.port;
  let opened = 0;
  const client = new ReconnectingPeer({
    connect: () => adapter.connect({ hostname: "127.0.0.1", port }),
    minDelayMs: 10,
    maxDelayMs: 200,
    onOpen: () => opened++,
  });
  try {
    assert.equal(await client.request("ping"), "pong");
    // Kill the server: every connection drops, and connecting fails for a while.
    await server.close({ timeoutMs: 100 });
    for (let i = 0; i < 1000 && client.isOpen; i++) await new Promise((r) => setTimeout(r, 5));
    assert.equal(client.isOpen, false);
    // Made while disconnected: it waits in the queue for the next connection.
    const during = client.request("ping", null, { timeoutMs: 10_000 });
    server = new Server(await adapter.listen({ hostname: "127.0.0.1", port }), { handlers });
    assert.equal(await during, "pong");
    assert.equal(opened, 2);
    assert.equal(await client.request("ping"), "pong");
  } finally {
    await client.close();
    await server.close({ timeoutMs: 100 });
  }
});
