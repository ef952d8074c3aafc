// The value codec over every transport of this runtime (pipe, TCP, TLS, and node:net on Deno
// and Bun): MessagePack through the few-line adapter the README documents, with Uint8Array
// values carried natively, and JSON unchanged by default.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { decode, encode } from "@msgpack/msgpack";
import { jsonCodec, type ValueCodec } from "../peer/codec.ts";
import { Handlers } from "../peer/handlers.ts";
import { Peer } from "../peer/peer.ts";
import { factories } from "./_test_factories.ts";

// The adapter, as in the README.
const msgpack: ValueCodec = { name: "msgpack", encode: (v) => encode(v), decode: (b) => decode(b) };

type Files = {
  ops: {
    store: { input: { name: string; data: Uint8Array }; output: { size: number; sha: Uint8Array } };
    echo: { input: unknown; output: unknown };
    raw: { kind: "buffer" };
  };
  notifications: { chunk: Uint8Array; note: { at: number } };
};

function handlers(seen: unknown[]) {
  return new Handlers<Files>()
    .handle("store", ({ name, data }) => {
      assert.ok(data instanceof Uint8Array);
      seen.push(name);
      return { size: data.length, sha: data.slice(0, 2).reverse() };
    })
    .handle("echo", (value) => value)
    .handleBuffer("raw", (bytes) => bytes)
    .handleNotification("chunk", (bytes) => void seen.push(bytes))
    .handleNotification("note", (note) => void seen.push(note));
}

for (const factory of await factories()) {
  describe(`value codec over ${factory.name}`, () => {
    it("MessagePack: values, results and notifications round-trip, bytes natively", async () => {
      const pair = await factory.pair();
      const seen: unknown[] = [];
      const server = new Peer(pair.server, { handlers: handlers(seen), codec: msgpack });
      const client = new Peer<Files, Files>(pair.client, { codec: msgpack });
      try {
        const data = new Uint8Array([1, 2, 3, 4]);
        const stored = await client.request("store", { name: "a.bin", data });
        assert.equal(stored.size, 4);
        assert.ok(stored.sha instanceof Uint8Array);
        assert.deepEqual(stored.sha, new Uint8Array([2, 1]));
        const value = {
          n: 1.5,
          big: 2 ** 40,
          negative: -7,
          text: "héllo",
          list: [null, true, false, "x", { nested: new Uint8Array(300).fill(9) }],
          empty: new Uint8Array(0),
        };
        assert.deepEqual(await client.request("echo", value), value);
        assert.equal(await client.request("echo"), undefined); // no value: an empty payload
        assert.equal(await client.request("echo", null), null);
        // What crossed the wire is MessagePack, not JSON: the raw op sees the same bytes.
        const wire = msgpack.encode({ a: 1 });
        assert.deepEqual(await client.bufferRequest("raw", wire), wire);
        assert.deepEqual(decode(await client.bufferRequest("raw", wire)), { a: 1 });
        await client.notify("chunk", new Uint8Array([5, 6]));
        await client.notify("note", { at: 3 });
        await client.close();
        await server.closed;
        assert.deepEqual(seen, ["a.bin", new Uint8Array([5, 6]), { at: 3 }]);
      } finally {
        client.abort();
        server.abort();
        await pair.close();
      }
    });

    it("a value the codec cannot encode fails that request with a TypeError naming it", async () => {
      const pair = await factory.pair();
      const server = new Peer(pair.server, { handlers: handlers([]), codec: msgpack });
      const client = new Peer(pair.client, { codec: msgpack });
      try {
        await assert.rejects(client.request("echo", { f: Symbol("x") }), (e) => {
          return e instanceof TypeError &&
            /The request "echo" cannot be encoded as msgpack/.test(e.message);
        });
        assert.deepEqual(await client.request("echo", [1]), [1]); // the connection is fine
      } finally {
        client.abort();
        server.abort();
        await pair.close();
      }
    });

    it("JSON stays the default: an explicit jsonCodec speaks the same bytes", async () => {
      const pair = await factory.pair();
      const server = new Peer(pair.server, { handlers: handlers([]) });
      const client = new Peer(pair.client, { codec: jsonCodec });
      try {
        assert.deepEqual(await client.request("echo", { a: [1, "b"] }), { a: [1, "b"] });
        const raw = await client.bufferRequest("raw", new TextEncoder().encode('{"a":1}'));
        assert.equal(new TextDecoder().decode(raw), '{"a":1}');
        await assert.rejects(client.request("echo", new Map()), TypeError);
      } finally {
        client.abort();
        server.abort();
        await pair.close();
      }
    });
  });
}
