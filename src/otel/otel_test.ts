// The OpenTelemetry middleware and interceptor, checked with the SDK's in-memory exporter:
// names, kinds, RPC attributes, sizes, outcomes and statuses, both directions.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { SpanKind, SpanStatusCode } from "@opentelemetry/api";
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  type ReadableSpan,
  SimpleSpanProcessor,
} from "@opentelemetry/sdk-trace-base";
import { Handlers } from "../peer/handlers.ts";
import { RetryResult } from "../peer/middleware.ts";
import { Peer } from "../peer/peer.ts";
import { pipePair } from "../transports/pipe.ts";
import { gotalkTracing } from "./mod.ts";

function setup(service?: string) {
  const exporter = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
  const tracing = gotalkTracing({
    tracer: provider.getTracer("test"),
    service,
    attributes: (call) => ({ "app.user": String(call.peer.data ?? "none") }),
  });
  const got: string[] = [];
  const handlers = new Handlers()
    .use(tracing.middleware)
    .handle("upper", (s: string) => s.toUpperCase())
    .handle("fail", () => {
      throw new Error("Nope");
    })
    .handle("busy", () => {
      throw new RetryResult(1, "busy");
    })
    .handleNotification("note", (v: string) => void got.push(v));
  const [a, b] = pipePair();
  const server = new Peer(a, { handlers, logger: null, data: "ada" });
  const client = new Peer(b, { interceptors: [tracing.interceptor], maxRetries: 0 });
  const spans = (direction: SpanKind[]): ReadableSpan[] =>
    exporter.getFinishedSpans().filter((s) => direction.includes(s.kind));
  return { server, client, spans, got };
}

describe("OpenTelemetry tracing", () => {
  test("a span per request on each side, with the RPC attributes and sizes", async () => {
    const { server, client, spans } = setup("chat");
    assert.equal(await client.request("upper", "abc"), "ABC");
    const [incoming] = spans([SpanKind.SERVER]);
    const [outgoing] = spans([SpanKind.CLIENT]);
    for (const span of [incoming, outgoing]) {
      assert.equal(span.name, "chat/upper");
      assert.equal(span.attributes["rpc.system"], "gotalk");
      assert.equal(span.attributes["rpc.service"], "chat");
      assert.equal(span.attributes["rpc.method"], "upper");
      assert.equal(span.attributes["gotalk.kind"], "json");
      assert.equal(span.attributes["gotalk.request.size"], 5);
      assert.equal(span.attributes["gotalk.response.size"], 5);
      assert.equal(span.attributes["gotalk.outcome"], "ok");
      assert.equal(span.status.code, SpanStatusCode.UNSET);
    }
    assert.equal(incoming.attributes["app.user"], "ada");
    assert.equal(outgoing.attributes["app.user"], "none");
    assert.equal(String(incoming.attributes["gotalk.request.id"]).length, 4);
    // Separate traces: Gotalk frames carry no trace context.
    assert.notEqual(incoming.spanContext().traceId, outgoing.spanContext().traceId);
    client.abort();
    server.abort();
  });

  test("errors and RetryResults are ERROR spans with the outcome and the exception", async () => {
    const { server, client, spans } = setup();
    await assert.rejects(client.request("fail"));
    await assert.rejects(client.request("busy"));
    const byName = (list: ReadableSpan[]) => Object.fromEntries(list.map((s) => [s.name, s]));
    const incoming = byName(spans([SpanKind.SERVER]));
    const outgoing = byName(spans([SpanKind.CLIENT]));
    assert.equal(incoming.fail.status.code, SpanStatusCode.ERROR);
    assert.equal(incoming.fail.status.message, "Nope");
    assert.equal(incoming.fail.attributes["gotalk.outcome"], "error");
    assert.equal(incoming.fail.attributes["error.type"], "Error");
    assert.equal(incoming.fail.events[0].name, "exception");
    assert.equal(outgoing.fail.attributes["error.type"], "RemoteError");
    assert.equal(incoming.busy.attributes["gotalk.outcome"], "retry");
    assert.equal(outgoing.busy.attributes["gotalk.outcome"], "retry");
    assert.equal(outgoing.busy.attributes["error.type"], "RetryLimitError");
    client.abort();
    server.abort();
  });

  test("notifications are PRODUCER and CONSUMER spans", async () => {
    const { server, client, spans, got } = setup();
    await client.notify("note", "hi");
    // The notification's span ends once its handler has run; a bounded wait for it.
    for (let i = 0; i < 1000 && spans([SpanKind.CONSUMER]).length === 0; i++) {
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
    assert.deepEqual(got, ["hi"]);
    const [consumer] = spans([SpanKind.CONSUMER]);
    const [producer] = spans([SpanKind.PRODUCER]);
    assert.equal(consumer.name, "note");
    assert.equal(producer.name, "note");
    assert.equal(consumer.attributes["gotalk.kind"], "notification");
    assert.equal(producer.attributes["gotalk.request.size"], 4);
    client.abort();
    server.abort();
  });
});
