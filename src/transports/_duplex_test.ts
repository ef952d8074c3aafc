// The duplex core against fake drivers: no sockets, every step observed.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { ConnectionClosedError } from "../peer/errors.ts";
import { READ_HIGH_WATER_MARK, SocketDuplex } from "./_duplex.ts";
import { FakePush, settle } from "./_test_fake_driver.ts";

describe("SocketDuplex", () => {
  test("a push source starts paused, resumes when read, pauses at 64 KiB unread", async () => {
    const driver = new FakePush();
    const duplex = new SocketDuplex(driver);
    assert.deepEqual(driver.log, ["pause"]);
    await settle();
    assert.deepEqual(driver.log, ["pause"], "nothing flows before there is a readable");
    const readable = duplex.readable;
    await settle();
    assert.deepEqual(driver.log, ["pause", "resume"]);
    duplex.push(new Uint8Array(READ_HIGH_WATER_MARK - 1));
    assert.deepEqual(driver.log, ["pause", "resume"]);
    duplex.push(new Uint8Array(1));
    assert.deepEqual(driver.log, ["pause", "resume", "pause"]);
    const reader = readable.getReader();
    assert.equal((await reader.read()).value?.byteLength, READ_HIGH_WATER_MARK - 1);
    await settle();
    assert.deepEqual(driver.log, ["pause", "resume", "pause", "resume"]);
    duplex.close();
  });

  test("close(): readable ends, writable errors, then the driver is destroyed", async () => {
    const driver = new FakePush();
    driver.blockWrites = true;
    const duplex = new SocketDuplex(driver, { remoteAddr: "peer:1", localAddr: "me:2" });
    assert.equal(duplex.remoteAddr, "peer:1");
    assert.equal(duplex.localAddr, "me:2");
    duplex.push(new Uint8Array([1, 2]));
    const reader = duplex.readable.getReader();
    const writer = duplex.writable.getWriter();
    const write = writer.write(new Uint8Array(3));
    await settle();
    duplex.close();
    duplex.close(); // idempotent
    assert.equal(driver.log.filter((e) => e === "destroy").length, 1);
    // What was queued is still read, then the end; the blocked write fails as closed.
    assert.deepEqual((await reader.read()).value, new Uint8Array([1, 2]));
    assert.equal((await reader.read()).done, true);
    await assert.rejects(write, ConnectionClosedError);
    await assert.rejects(writer.write(new Uint8Array(1)), ConnectionClosedError);
    assert.equal(duplex.closed, true);
    assert.equal(duplex.error, undefined);
  });

  test("finish(error): both streams fail with that error, queued bytes dropped", async () => {
    const driver = new FakePush();
    const duplex = new SocketDuplex(driver);
    duplex.push(new Uint8Array(5));
    const reset = new Error("ECONNRESET");
    duplex.finish(reset);
    duplex.finish(new Error("later")); // ignored: already torn down
    assert.equal(duplex.error, reset);
    assert.deepEqual(driver.log.slice(-1), ["destroy"]);
    await assert.rejects(duplex.readable.getReader().read(), reset);
    await assert.rejects(duplex.writable.getWriter().write(new Uint8Array(1)), reset);
  });

  test("half-close: end() on close, reading goes on, both ends done release the socket", async () => {
    const driver = new FakePush();
    const duplex = new SocketDuplex(driver);
    const writer = duplex.writable.getWriter();
    await writer.write(new Uint8Array(4));
    await writer.close();
    assert.deepEqual(driver.log.slice(-2), ["write 4", "end"]);
    assert.equal(duplex.closed, false);
    const reader = duplex.readable.getReader();
    duplex.push(new Uint8Array([7]));
    assert.deepEqual((await reader.read()).value, new Uint8Array([7]));
    duplex.pushEnd();
    assert.equal((await reader.read()).done, true);
    assert.equal(duplex.closed, true);
    assert.deepEqual(driver.log.slice(-1), ["destroy"]);
  });

  test("aborting a blocked write settles the abort, fails the write, destroys", async () => {
    const driver = new FakePush();
    driver.blockWrites = true;
    const duplex = new SocketDuplex(driver);
    const writer = duplex.writable.getWriter();
    const write = writer.write(new Uint8Array(8));
    await settle();
    await writer.abort(new Error("give up"));
    await assert.rejects(write);
    assert.equal(duplex.closed, true);
    assert.ok(driver.log.includes("destroy"));
  });

  test("a failing write rejects with its error; a failing end too", async () => {
    const boom = new Error("EPIPE");
    const duplex = new SocketDuplex({
      write: () => {
        throw boom;
      },
      end: () => Promise.reject(boom),
      destroy: () => {},
    });
    await assert.rejects(duplex.writable.getWriter().write(new Uint8Array(1)), boom);
    const other = new SocketDuplex({
      write: () => {},
      end: () => Promise.reject(boom),
      destroy() {},
    });
    await assert.rejects(other.writable.close(), boom);
    duplex.close();
    other.close();
  });

  test("cancelling the readable pauses the source, or (readAfterCancel) keeps it reading", async () => {
    const paused = new FakePush();
    const a = new SocketDuplex(paused);
    const readableA = a.readable;
    await settle();
    await readableA.cancel();
    assert.deepEqual(paused.log, ["pause", "resume", "pause"]);
    const reading = new FakePush();
    const b = new SocketDuplex(reading, { readAfterCancel: true });
    const readableB = b.readable;
    await settle();
    b.push(new Uint8Array(READ_HIGH_WATER_MARK)); // pauses
    await readableB.cancel();
    assert.deepEqual(reading.log, ["pause", "resume", "pause", "resume"]);
    b.push(new Uint8Array(1)); // dropped
    a.close();
    b.close();
  });

  test("a source past maxQueuedBytes calls onOverflow", () => {
    let overflows = 0;
    const duplex = new SocketDuplex({ write() {}, end() {}, destroy() {} }, {
      maxQueuedBytes: 10,
      onOverflow: () => overflows++,
    });
    duplex.push(new Uint8Array(10));
    assert.equal(overflows, 0);
    duplex.push(new Uint8Array(1));
    assert.equal(overflows, 1);
    duplex.close();
  });

  /**
   * A pull source that returns `script`'s byte counts in turn (at most what fits; `null`: the
   * end), filling read k with the value k; reads it to the end. The read sizes asked for, and the
   * chunks read.
   */
  async function pullThrough(script: Array<number | null>) {
    const sizes: number[] = [];
    const duplex = new SocketDuplex({
      read(into) {
        sizes.push(into.byteLength);
        const wanted = script.shift() ?? null;
        const n = wanted === null ? null : Math.min(wanted, into.byteLength);
        if (n !== null) into.fill(sizes.length, 0, n);
        return Promise.resolve(n);
      },
      write() {},
      end() {},
      destroy() {},
    });
    const chunks: Uint8Array[] = [];
    const reader = duplex.readable.getReader();
    for (let r = await reader.read(); !r.done && chunks.length < 10; r = await reader.read()) {
      chunks.push(r.value);
    }
    duplex.close();
    return { sizes, chunks };
  }

  test("a pull source: reads double while full, small reads are copied, large ones views", async () => {
    const { sizes, chunks } = await pullThrough([64, 4096, 8192, 100, 16384, null]);
    assert.deepEqual(chunks.map((c) => c.byteLength), [64, 4096, 8192, 100, 16384]);
    // The first read is 64 B; once one fills its buffer the next is 4 KiB, and full reads grow
    // the next read; the 100-byte read is copied and its buffer read into again.
    assert.deepEqual(sizes, [64, 4096, 8192, 16384, 16384, 16384]);
    assert.notEqual(chunks[3].buffer, chunks[4].buffer);
    assert.equal(chunks[3].byteLength, chunks[3].buffer.byteLength);
    assert.ok(chunks.every((c, i) => c.every((b) => b === i + 1)), "no chunk was overwritten");
  });

  test("a pull source: after a tiny read the next is 64 B, after a larger one full size again", async () => {
    const { sizes, chunks } = await pullThrough([2, 10, 600, 30, 5000, null]);
    // The handshake (2 B) and a heartbeat-sized read leave an idle connection reading into 64 B;
    // a read that fills it (64 of 600) goes on at 4 KiB.
    assert.deepEqual(sizes, [64, 64, 64, 4096, 64, 4096]);
    assert.deepEqual(chunks.map((c) => c.byteLength), [2, 10, 64, 30, 64]);
    assert.ok(chunks.every((c, i) => c.every((b) => b === i + 1)), "no chunk was overwritten");
  });
});
