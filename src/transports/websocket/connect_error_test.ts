import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { createServer } from "node:http";
import { ConnectError } from "../../peer/errors.ts";
import { nativeAdapter, runtimeName } from "../_test_factories.ts";
import { type WebSocketAdapter, wsAdapter } from "./_test_factories.ts";

const runtime = runtimeName();

/** This runtime's WebSocket module, and on Deno and Bun also the `ws`-based one. */
async function adapters(): Promise<[string, WebSocketAdapter & { ConnectError?: unknown }][]> {
  const list: [string, WebSocketAdapter][] = [[runtime, await wsAdapter()]];
  if (runtime !== "node") list.push(["ws", await import("./node.ts")]);
  return list;
}

function isConnectError(address: string, codes: string[], detail?: RegExp) {
  return (error: unknown) => {
    assert.ok(error instanceof ConnectError, `a ConnectError, got ${String(error)}`);
    assert.equal(error.address, address);
    assert.ok(codes.includes(error.code), `code ${error.code}, expected ${codes.join(" or ")}`);
    assert.ok(
      error.message.startsWith(`Could not connect to ${address} (${error.code}): `),
      error.message,
    );
    if (detail) assert.match(error.message, detail);
    assert.ok(error.cause !== undefined, "the runtime's error is the cause");
    return true;
  };
}

for (const [name, adapter] of await adapters()) {
  describe(`WebSocket connect errors: ${name} client (${runtime})`, () => {
    test("the entry point exports the one ConnectError class", () => {
      assert.equal(adapter.ConnectError, ConnectError);
    });

    test("a refused port: ECONNREFUSED (Deno's own client says only ECONNECT)", async () => {
      const listener = await (await nativeAdapter()).listen({ hostname: "127.0.0.1", port: 0 });
      const { port } = listener.addr;
      listener.close();
      const url = `ws://127.0.0.1:${port}/gotalk/`;
      // Deno's WebSocket reports a refused port as "tcp connect error", with no OS code.
      const code = runtime === "deno" && name === "deno" ? "ECONNECT" : "ECONNREFUSED";
      await assert.rejects(adapter.connectWebSocket(url), isConnectError(url, [code]));
    });

    test("an HTTP server that refuses the upgrade: EUPGRADE, naming the status", async () => {
      const server = createServer((_request, response) => {
        response.writeHead(403, { connection: "close" });
        response.end("no");
      });
      await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
      const address = server.address();
      assert.ok(typeof address === "object" && address !== null);
      const url = `ws://127.0.0.1:${address.port}/gotalk/`;
      try {
        await assert.rejects(
          adapter.connectWebSocket(url),
          isConnectError(
            url,
            ["EUPGRADE"],
            /the server answered the WebSocket upgrade with HTTP 403$/,
          ),
        );
      } finally {
        server.closeAllConnections?.();
        await new Promise((resolve) => server.close(resolve));
      }
    });

    test("a host name that does not resolve: ENOTFOUND (EAI_AGAIN without a resolver)", async () => {
      const url = "ws://nonexistent.invalid:4000/gotalk/";
      await assert.rejects(
        adapter.connectWebSocket(url),
        isConnectError(url, ["ENOTFOUND", "EAI_AGAIN"]),
      );
    });
  });
}
