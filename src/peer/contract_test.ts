// Typed contracts: the `// @ts-expect-error` lines are the type-level tests (a line that
// compiles fails `deno check` and the Node build's `tsc`); the runtime assertions check that the
// typed calls send what they say.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { z } from "zod";
import { type Contract, defineContract, type OpResult } from "./contract.ts";
import { Handlers } from "./handlers.ts";
import { Peer } from "./peer.ts";
import { remote } from "./remote.ts";
import type { Session } from "./session.ts";
import { pipePair } from "../transports/pipe.ts";

/** `true` only when `A` and `B` are the same type. */
type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends (<T>() => T extends B ? 1 : 2) ? true
  : false;
const same = <A, B>(ok: Equal<A, B>): boolean => ok;

type ChatServer = {
  ops: {
    join: { input: { room: string }; output: { members: string[] } };
    rooms: { output: string[] };
    leave: { input: { room: string } };
    blob: { kind: "buffer" };
    upload: { kind: "stream" };
  };
  notifications: { typing: { room: string }; ping: undefined; raw: Uint8Array };
};
type ChatClient = {
  ops: { whoami: { output: string } };
  notifications: { message: { room: string; text: string } };
};

function chatServerHandlers(seen: unknown[]) {
  return new Handlers<ChatServer, ChatClient>()
    .handle("join", async ({ room }, ctx) => {
      const name = await ctx.peer.request("whoami"); // typed by ChatClient: a string
      return { members: [`${name}@${room}`] };
    })
    .handle("rooms", () => ["general", "random"])
    .handle("leave", ({ room }) => void seen.push(`leave ${room}`))
    .handleBuffer("blob", (bytes) => bytes.slice().reverse())
    .handleStream("upload", (parts) => parts)
    .handleNotification("typing", ({ room }, ctx) => {
      seen.push(`typing ${room}`);
      return ctx.peer.notify("message", { room, text: "someone is typing" });
    })
    .handleNotification("ping", (value) => void seen.push(value))
    .handleBufferNotification("raw", (bytes) => void seen.push(bytes.length));
}

function chat() {
  const seen: unknown[] = [];
  const [a, b] = pipePair();
  const messages: string[] = [];
  const server = new Peer(a, { handlers: chatServerHandlers(seen), logger: null });
  const clientHandlers = new Handlers<ChatClient, ChatServer>()
    .handle("whoami", () => "ada")
    .handleNotification("message", ({ text }) => void messages.push(text));
  const client = new Peer(b, { handlers: clientHandlers, logger: null });
  return { server, client, seen, messages };
}

describe("typed contracts", () => {
  it("Peer infers its contracts from its handlers and types requests by the remote's", async () => {
    const { server, client, seen } = await chat();
    assert.ok(same<typeof client, Peer<ChatClient, ChatServer>>(true));
    const joined = await client.request("join", { room: "general" });
    assert.ok(same<typeof joined, { members: string[] }>(true));
    assert.deepEqual(joined, { members: ["ada@general"] });
    const rooms = await client.request("rooms");
    assert.ok(same<typeof rooms, string[]>(true));
    assert.deepEqual(rooms, ["general", "random"]);
    assert.equal(
      await client.request("leave", { room: "general" }, { timeoutMs: 5000 }),
      undefined,
    );
    assert.deepEqual(seen, ["leave general"]);
    client.abort();
    server.abort();
  });

  it("a wrong value, a misspelt op, a missing value or a wrong kind do not compile", async () => {
    const { server, client } = await chat();
    const refused: Promise<unknown>[] = [];
    const expect = (p: Promise<unknown>) => void refused.push(p.catch((e) => e));
    // @ts-expect-error: room is a string
    expect(client.request("join", { room: 1 }));
    // @ts-expect-error: the server has no op "jion"
    expect(client.request("jion", { room: "general" }));
    // @ts-expect-error: join needs its value
    expect(client.request("join"));
    // @ts-expect-error: rooms takes no value
    expect(client.request("rooms", { room: "general" }));
    // @ts-expect-error: blob is a buffer op, not a JSON one
    expect(client.request("blob", new Uint8Array(1)));
    // @ts-expect-error: join is a JSON op, not a buffer one
    expect(client.bufferRequest("join", new Uint8Array(1)));
    // @ts-expect-error: an untyped result type does not apply to a typed peer
    expect(client.request<number>("anything"));
    // The server's runtime still answers what the types refused (it has no schemas): the
    // misspelt op is the one that fails there.
    const results = await Promise.all(refused);
    assert.equal(results.length, 7);
    assert.match(String(results[1]), /jion/);
    client.abort();
    server.abort();
  });

  it("buffer and stream ops and notifications are typed by name", async () => {
    const { server, client, seen, messages } = await chat();
    const reversed = await client.bufferRequest("blob", new Uint8Array([1, 2]));
    assert.deepEqual(reversed, new Uint8Array([2, 1]));
    const { writable, readable } = client.streamRequest("upload");
    const writer = writable.getWriter();
    await writer.write(new Uint8Array([7]));
    await writer.close();
    const reader = readable.getReader();
    assert.deepEqual(await reader.read(), { done: false, value: new Uint8Array([7]) });
    assert.deepEqual(await reader.read(), { done: true, value: undefined });
    const pong = new Promise<void>((resolve) => {
      const poll = () => messages.length > 0 ? resolve() : setTimeout(poll, 1);
      poll();
    });
    await client.notify("typing", { room: "general" });
    await client.notify("ping");
    await client.bufferNotify("raw", new Uint8Array(3));
    // @ts-expect-error: typing needs a room
    await client.notify("typing", { rom: "general" });
    // @ts-expect-error: no such notification
    await client.notify("typnig", { room: "general" });
    // @ts-expect-error: typing is not a notification of bytes
    await client.bufferNotify("typing", new Uint8Array(1));
    await pong;
    assert.deepEqual(messages, ["someone is typing"]);
    await client.close();
    await server.closed;
    assert.deepEqual(seen.slice(0, 3), ["typing general", undefined, 3]);
  });

  it("a handler's input is typed and a wrong result does not compile", () => {
    const h = new Handlers<ChatServer>();
    h.handle("join", ({ room }) => {
      assert.ok(same<typeof room, string>(true));
      return { members: [room] };
    });
    // @ts-expect-error: join answers members, not a number
    h.handle("join", () => 42);
    // @ts-expect-error: join's input has no field "rom"
    h.handle("join", ({ rom }) => ({ members: [rom] }));
    // @ts-expect-error: the contract has no op "jion"
    h.handle("jion", () => ({ members: [] }));
    // @ts-expect-error: blob is a buffer op
    h.handle("blob", () => new Uint8Array());
    // @ts-expect-error: join is not a stream op
    h.handleStream("join", (parts) => parts);
    // @ts-expect-error: typing carries a room
    h.handleNotification("typing", (v: number) => void v);
    h.handle("rooms", () => Promise.resolve(["a"])); // promised results type-check too
    assert.equal(h.handles("join"), true);
    assert.equal(h.handles("jion"), true); // the misspelt registration above ran anyway
  });

  it("the untyped API is unchanged: any op, an explicit result type", async () => {
    const [a, b] = pipePair();
    const handlers = new Handlers()
      .handle("add", ([x, y]: [number, number]) => x + y)
      .handle<string, string>("upper", (s) => s.toUpperCase());
    const server = new Peer(a, { handlers });
    const client = new Peer(b);
    const sum = await client.request<number>("add", [1, 2]);
    assert.ok(same<typeof sum, number>(true));
    assert.equal(sum, 3);
    const unknownResult = await client.request("upper", "x");
    assert.ok(same<typeof unknownResult, unknown>(true));
    assert.equal(unknownResult, "X");
    assert.ok(same<typeof client, Peer<Contract, Contract>>(true));
    client.abort();
    server.abort();
  });

  it("a contract may type only its notifications, leaving its ops open", async () => {
    type Events = { notifications: { tick: number } };
    const [a, b] = pipePair();
    const ticks: number[] = [];
    const handlers = new Handlers<Events>()
      .handle("anything", (v: string) => v)
      .handleNotification("tick", (n) => void ticks.push(n));
    const server = new Peer(a, { handlers });
    const client = new Peer<Contract, Events>(b);
    assert.equal(await client.request<string>("anything", "ok"), "ok");
    await client.notify("tick", 1);
    // @ts-expect-error: tick carries a number
    await client.notify("tick", "one");
    await client.close();
    await server.closed;
    assert.deepEqual(ticks, [1, "one"]);
  });

  it("remote() is a typed proxy, on a typed peer or given the contract", async () => {
    const { server, client } = await chat();
    const api = remote(client);
    const joined = await api.join({ room: "x" });
    assert.deepEqual(joined, { members: ["ada@x"] });
    assert.deepEqual(await api.rooms(), ["general", "random"]);
    // @ts-expect-error: room is a string (the server has no schema: it answers anyway)
    assert.deepEqual(await api.join({ room: 1 }), { members: ["ada@1"] });
    // @ts-expect-error: no op "jion"
    assert.equal(typeof api.jion, "function");
    const untyped: Session = client as Session;
    const typed = remote<ChatServer>(untyped);
    assert.deepEqual(await typed.rooms(undefined, { timeoutMs: 5000 }), ["general", "random"]);
    assert.equal((api as unknown as { then?: unknown }).then, undefined); // not a thenable
    client.abort();
    server.abort();
  });

  it("a contract of zod schemas types both sides from the schemas", async () => {
    const api = defineContract({
      ops: {
        count: {
          input: z.object({ text: z.string(), upper: z.boolean().default(false) }),
          output: z.number().int(),
        },
      },
      notifications: { seen: z.string().transform((s) => s.length) },
    });
    type Count = OpResult<typeof api, "count">;
    assert.ok(same<Count, number>(true));
    const lengths: number[] = [];
    const handlers = new Handlers({ contract: api })
      .handle("count", ({ text, upper }) => {
        // The handler gets the schema's output: `upper` is filled in by the default.
        assert.ok(same<typeof upper, boolean>(true));
        return upper ? text.toUpperCase().length : text.length;
      })
      .handleNotification("seen", (n) => {
        assert.ok(same<typeof n, number>(true));
        lengths.push(n);
      });
    const [a, b] = pipePair();
    const server = new Peer(a, { handlers, logger: null });
    const client = new Peer<Contract, typeof api>(b);
    // The caller sends the schema's input: `upper` may be left out.
    assert.equal(await client.request("count", { text: "abc" }), 3);
    // @ts-expect-error: text is a string
    await assert.rejects(client.request("count", { text: 3 }));
    await client.notify("seen", "four");
    await client.close();
    await server.closed;
    assert.deepEqual(lengths, [4]);
  });
});
