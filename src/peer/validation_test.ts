// Validation through Standard Schema, with real zod and valibot schemas: incoming values are
// checked before their handlers run, a failure answers a structured ErrorResult that the caller
// surfaces as a ValidationError, and remote() checks results.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import * as v from "valibot";
import { z } from "zod";
import { type Contract, defineContract } from "./contract.ts";
import { RemoteError } from "./errors.ts";
import { Handlers } from "./handlers.ts";
import { Peer } from "./peer.ts";
import { remote } from "./remote.ts";
import { ResultValidationError, ValidationError } from "./validation.ts";
import { pipePair } from "../transports/pipe.ts";

const zodApi = defineContract({
  ops: {
    join: {
      input: z.object({ room: z.string().min(1), limit: z.number().int().optional() }),
      output: z.object({ members: z.array(z.string()) }),
    },
    slow: { input: z.string().refine(async (s) => await Promise.resolve(s !== "no")) },
    // Its output schema is only used by the caller: the handler may answer anything.
    liar: { output: z.string() },
  },
  notifications: { typing: z.object({ room: z.string() }) },
});

const valibotApi = defineContract({
  ops: {
    join: {
      input: v.object({ room: v.pipe(v.string(), v.minLength(1)), tags: v.array(v.string()) }),
      output: v.object({ members: v.array(v.string()) }),
    },
  },
});

function connect<C extends Contract>(handlers: Handlers<C>) {
  const [a, b] = pipePair();
  const errors: unknown[] = [];
  const handlerErrors: string[] = [];
  const server = new Peer(a, {
    handlers,
    logger: null,
    onError: (e) => void errors.push(e),
    onHandlerError: (_e, info) => void handlerErrors.push(info.op),
  });
  const client = new Peer<Contract, C>(b);
  return { server, client, errors, handlerErrors };
}

function zodHandlers(calls: unknown[]) {
  return new Handlers({ contract: zodApi })
    .handle("join", (value) => {
      calls.push(value);
      return { members: [value.room] };
    })
    .handle("slow", (s) => void calls.push(s))
    .handle("liar", () => 42 as unknown as string)
    .handleNotification("typing", (value) => void calls.push(value));
}

describe("validation (zod)", () => {
  it("a valid value reaches the handler", async () => {
    const calls: unknown[] = [];
    const { server, client } = connect(zodHandlers(calls));
    assert.deepEqual(await client.request("join", { room: "general", limit: 3 }), {
      members: ["general"],
    });
    assert.deepEqual(calls, [{ room: "general", limit: 3 }]);
    client.abort();
    server.abort();
  });

  it("an invalid value is refused before the handler with the issues and their paths", async () => {
    const calls: unknown[] = [];
    const { server, client, handlerErrors } = connect(zodHandlers(calls));
    const bad = { room: "", limit: 1.5 } as unknown as { room: string };
    const error = await client.request("join", bad).then(() => assert.fail("answered"), (e) => e);
    assert.ok(error instanceof ValidationError);
    assert.ok(error instanceof RemoteError);
    assert.equal(error.name, "ValidationError");
    assert.equal(error.op, "join");
    assert.deepEqual(error.issues.map((i) => i.path), [["room"], ["limit"]]);
    assert.ok(error.issues.every((i) => typeof i.message === "string" && i.message.length > 0));
    assert.match(error.message, /^Invalid request value for "join": room: .+ \(and 1 more\)$/);
    // The ErrorResult's body, as any implementation sees it:
    const body = JSON.parse(new TextDecoder().decode(error.payload));
    assert.deepEqual(Object.keys(body), ["error", "message", "issues"]);
    assert.equal(body.error, "ValidationError");
    assert.deepEqual(body.issues, error.issues);
    assert.deepEqual(calls, []);
    assert.deepEqual(handlerErrors, ["join"]);
    client.abort();
    server.abort();
  });

  it("an asynchronous schema is awaited", async () => {
    const calls: unknown[] = [];
    const { server, client } = connect(zodHandlers(calls));
    assert.equal(await client.request("slow", "yes"), undefined);
    await assert.rejects(client.request("slow", "no"), (e) => {
      return e instanceof ValidationError && e.issues.length === 1 && e.issues[0].path.length === 0;
    });
    assert.deepEqual(calls, ["yes"]);
    client.abort();
    server.abort();
  });

  it("an invalid notification is dropped and reported", async () => {
    const calls: unknown[] = [];
    const { server, client, errors } = connect(zodHandlers(calls));
    await client.notify("typing", { room: 7 } as unknown as { room: string });
    await client.notify("typing", { room: "general" });
    await client.close();
    await server.closed;
    assert.deepEqual(calls, [{ room: "general" }]);
    assert.equal(errors.length, 1);
    const e = errors[0];
    assert.ok(e instanceof ValidationError);
    assert.equal(e.op, "typing");
    assert.deepEqual(e.issues.map((i) => i.path), [["room"]]);
  });

  it("remote() with the contract validates results", async () => {
    const calls: unknown[] = [];
    const { server, client } = connect(zodHandlers(calls));
    const api = remote(client, zodApi);
    assert.deepEqual(await api.join({ room: "r" }), { members: ["r"] });
    await assert.rejects(api.liar(), (e) => {
      return e instanceof ResultValidationError && e.op === "liar" && e.value === 42 &&
        e.issues.length === 1 && /^The result of "liar" is invalid: /.test(e.message);
    });
    // Without the contract value the same proxy passes the result through.
    assert.equal(await remote(client).liar(), 42);
    client.abort();
    server.abort();
  });

  it("a child set validates with its parent's contract", async () => {
    const base = new Handlers({ contract: zodApi });
    const child = new Handlers<typeof zodApi>(base).handle("join", ({ room }) => ({
      members: [room],
    }));
    const { server, client } = connect(child);
    await assert.rejects(client.request("join", { room: "" }), ValidationError);
    client.abort();
    server.abort();
  });
});

describe("validation (valibot)", () => {
  it("valid values pass, invalid ones answer nested paths", async () => {
    const handlers = new Handlers({ contract: valibotApi }).handle("join", ({ room, tags }) => ({
      members: [room, ...tags],
    }));
    const { server, client } = connect(handlers);
    assert.deepEqual(await client.request("join", { room: "a", tags: ["b"] }), {
      members: ["a", "b"],
    });
    const bad = { room: "a", tags: ["b", 3] } as unknown as { room: string; tags: string[] };
    await assert.rejects(client.request("join", bad), (e) => {
      return e instanceof ValidationError && e.issues.length === 1 &&
        JSON.stringify(e.issues[0].path) === '["tags",1]';
    });
    client.abort();
    server.abort();
  });
});

describe("validation errors on the wire", () => {
  it("a handler may throw a ValidationError of its own; other JSON error texts stay RemoteError", async () => {
    const handlers = new Handlers()
      .handle("check", () => {
        throw new ValidationError("check", "Not today", [{ message: "Too late", path: ["at"] }]);
      })
      .handle("json-text", () => {
        throw new Error('{"error":"Other","message":"x","issues":[]}');
      })
      .handle("almost", () => {
        throw new Error('{"error":"ValidationError","message":1,"issues":[]}');
      });
    const { server, client } = connect(handlers);
    await assert.rejects(client.request("check"), (e) => {
      return e instanceof ValidationError && e.message === "Not today" &&
        e.issues[0].path[0] === "at";
    });
    for (const op of ["json-text", "almost"]) {
      await assert.rejects(client.request(op), (e) => {
        return e instanceof RemoteError && !(e instanceof ValidationError) && e.message[0] === "{";
      });
    }
    client.abort();
    server.abort();
  });
});
