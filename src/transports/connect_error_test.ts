import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { ConnectError } from "../peer/errors.ts";
import { connectErrorCode, toConnectError } from "./_connect_error.ts";
import {
  nativeAdapter,
  runtimeName,
  type SocketAdapter,
  testCertificate,
} from "./_test_factories.ts";

const runtime = runtimeName();

/** This runtime's own adapter, and on Deno and Bun also the `node:net` one. */
async function adapters(): Promise<[string, SocketAdapter & { ConnectError?: unknown }][]> {
  const list: [string, SocketAdapter][] = [[runtime, await nativeAdapter()]];
  if (runtime !== "node") list.push(["node", await import("./node.ts")]);
  return list;
}

/** A port nothing listens on: listened on, noted, and closed again. */
async function refusedPort(adapter: SocketAdapter): Promise<number> {
  const listener = await adapter.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr;
  listener.close();
  return port;
}

function isConnectError(address: string, code: string | string[]) {
  const codes = typeof code === "string" ? [code] : code;
  return (error: unknown) => {
    assert.ok(error instanceof ConnectError, `a ConnectError, got ${String(error)}`);
    assert.equal(error.name, "ConnectError");
    assert.equal(error.address, address);
    assert.ok(codes.includes(error.code), `code ${error.code}, expected ${codes.join(" or ")}`);
    assert.ok(
      error.message.startsWith(`Could not connect to ${address} (${error.code}): `),
      error.message,
    );
    assert.ok(error.cause !== undefined, "the runtime's error is the cause");
    return true;
  };
}

for (const [name, adapter] of await adapters()) {
  describe(`connect errors: ${name} adapter (${runtime})`, () => {
    test("the entry point exports the one ConnectError class", () => {
      assert.equal(adapter.ConnectError, ConnectError);
    });

    test("a refused port: ECONNREFUSED, with the address and the runtime's error", async () => {
      const port = await refusedPort(adapter);
      await assert.rejects(
        adapter.connect({ hostname: "127.0.0.1", port }),
        isConnectError(`127.0.0.1:${port}`, "ECONNREFUSED"),
      );
      const error = await adapter.connect({ hostname: "127.0.0.1", port }).catch((e) => e);
      assert.equal(
        error.message,
        `Could not connect to 127.0.0.1:${port} (ECONNREFUSED): connection refused`,
      );
    });

    test("TLS to a server whose certificate is not trusted: ETLS", async () => {
      const listener = await adapter.listen({
        hostname: "127.0.0.1",
        port: 0,
        tls: testCertificate(),
      });
      // Deno's TLS listener handshakes on an accepted connection's first read: read each one.
      const serving = (async () => {
        for await (const transport of listener) {
          await transport.readable.getReader().read().catch(() => {});
          transport.close();
        }
      })();
      try {
        await assert.rejects(
          adapter.connect({ hostname: "127.0.0.1", port: listener.addr.port, tls: {} }),
          isConnectError(`127.0.0.1:${listener.addr.port}`, "ETLS"),
        );
      } finally {
        listener.close();
        await serving;
      }
    });

    test("a host name that does not resolve: ENOTFOUND (EAI_AGAIN without a resolver)", async () => {
      await assert.rejects(
        adapter.connect({ hostname: "nonexistent.invalid", port: 4000 }),
        isConnectError("nonexistent.invalid:4000", ["ENOTFOUND", "EAI_AGAIN"]),
      );
    });
  });
}

describe("connect error codes from each runtime's error shape", () => {
  // The shapes as each runtime really gives them (seen on Deno 2, Bun 1 and Node 20).
  const cases: [string, unknown, "tcp" | "tls" | "websocket", string][] = [
    [
      "Node: err.code",
      Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:1"), {
        code: "ECONNREFUSED",
        errno: -111,
        syscall: "connect",
      }),
      "tcp",
      "ECONNREFUSED",
    ],
    [
      "Bun: Failed to connect, with a code",
      Object.assign(new Error("Failed to connect"), {
        code: "ECONNREFUSED",
        errno: -111,
      }),
      "tcp",
      "ECONNREFUSED",
    ],
    [
      "Deno: a Deno.errors name without a code",
      namedError("ConnectionRefused", "Connection refused (os error 111)"),
      "tcp",
      "ECONNREFUSED",
    ],
    [
      "Deno: TimedOut",
      namedError("TimedOut", "Connection timed out (os error 110)"),
      "tcp",
      "ETIMEDOUT",
    ],
    [
      "Deno: ConnectionReset",
      namedError("ConnectionReset", "Connection reset by peer (os error 104)"),
      "tls",
      "ECONNRESET",
    ],
    ["Deno: no route to host", new Error("No route to host (os error 113)"), "tcp", "EHOSTUNREACH"],
    [
      "Deno: network unreachable",
      new Error("Network is unreachable (os error 101)"),
      "tcp",
      "ENETUNREACH",
    ],
    [
      "Deno: a failed lookup",
      new Error("failed to lookup address information: Name or service not known"),
      "tcp",
      "ENOTFOUND",
    ],
    [
      "Deno: a lookup failed for now",
      new Error("failed to lookup address information: Temporary failure in name resolution"),
      "tcp",
      "EAI_AGAIN",
    ],
    [
      "Node: ENOTFOUND",
      Object.assign(new Error("getaddrinfo ENOTFOUND nonexistent.invalid"), { code: "ENOTFOUND" }),
      "tcp",
      "ENOTFOUND",
    ],
    [
      "Deno: an untrusted certificate",
      namedError("InvalidData", "invalid peer certificate: UnknownIssuer"),
      "tls",
      "ETLS",
    ],
    [
      "Node: a self-signed certificate",
      Object.assign(new Error("self-signed certificate"), { code: "DEPTH_ZERO_SELF_SIGNED_CERT" }),
      "tls",
      "ETLS",
    ],
    [
      "Bun: not TLS (EPROTO)",
      Object.assign(
        new Error("error:100000f7:SSL routines:OPENSSL_internal:WRONG_VERSION_NUMBER"),
        { code: "EPROTO" },
      ),
      "tls",
      "ETLS",
    ],
    [
      "Deno WebSocket: dns error",
      domError("failed to connect to WebSocket: dns error"),
      "websocket",
      "ENOTFOUND",
    ],
    [
      "Deno WebSocket: tcp connect error",
      domError("failed to connect to WebSocket: tcp connect error"),
      "websocket",
      "ECONNECT",
    ],
    [
      "Deno WebSocket: 403",
      domError("failed to connect to WebSocket: Invalid status code: 403"),
      "websocket",
      "EUPGRADE",
    ],
    [
      "Bun WebSocket: 404",
      new Error(
        "WebSocket connection to 'ws://127.0.0.1:443/' failed: Expected 101 status code: 404",
      ),
      "websocket",
      "EUPGRADE",
    ],
    ["ws: 403", new Error("Unexpected server response: 403"), "websocket", "EUPGRADE"],
    [
      "ws: a self-signed certificate",
      Object.assign(new Error("self-signed certificate"), { code: "DEPTH_ZERO_SELF_SIGNED_CERT" }),
      "websocket",
      "ETLS",
    ],
    ["a browser: no error at all", undefined, "websocket", "ECONNECT"],
  ];
  for (const [what, error, phase, code] of cases) {
    test(`${what}: ${code}`, () => assert.equal(connectErrorCode(error, phase), code));
  }

  test("the message: the address, the code, and what happened", () => {
    const messages = [
      toConnectError("h:1", cases[0][1], "tcp").message,
      toConnectError("h:1", cases[10][1], "tls").message,
      toConnectError("ws://h:443/", cases[16][1], "websocket").message,
      toConnectError("ws://h/", undefined, "websocket", "the WebSocket closed (code 1006)").message,
    ];
    assert.deepEqual(messages, [
      "Could not connect to h:1 (ECONNREFUSED): connection refused",
      "Could not connect to h:1 (ETLS): the TLS handshake failed: invalid peer certificate: UnknownIssuer",
      "Could not connect to ws://h:443/ (EUPGRADE): the server answered the WebSocket upgrade with HTTP 404",
      "Could not connect to ws://h/ (ECONNECT): the WebSocket closed (code 1006)",
    ]);
    const cause = new Error("x");
    assert.equal(toConnectError("h:1", cause, "tcp").cause, cause);
    assert.equal(toConnectError("h:1", undefined, "websocket").cause, undefined);
  });
});

function namedError(name: string, message: string): Error {
  const error = new Error(message);
  error.name = name;
  return error;
}

function domError(message: string): Error {
  // Deno's WebSocket `error` event carries a DOMException whose `code` is a number.
  return Object.assign(new Error(message), { name: "NetworkError", code: 19 });
}
