// The duplex's direct path (what a Peer reads and writes): against fake drivers, the same steps
// as the streams' tests, and the hand-over between the two.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { directOf } from "../peer/_direct.ts";
import { ConnectionClosedError } from "../peer/errors.ts";
import { READ_HIGH_WATER_MARK, SocketDuplex } from "./_duplex.ts";
import { FakePush, settle } from "./_test_fake_driver.ts";

function open(duplex: SocketDuplex) {
  const io = directOf(duplex);
  assert.ok(io, "a fresh duplex has a direct path");
  return io;
}

describe("SocketDuplex, direct", () => {
  test("opening resumes a push source; it pauses at 64 KiB unread and resumes when read", async () => {
    const driver = new FakePush();
    const duplex = new SocketDuplex(driver);
    const { reader } = open(duplex);
    assert.deepEqual(driver.log, ["pause", "resume"]);
    duplex.push(new Uint8Array(READ_HIGH_WATER_MARK - 1));
    assert.deepEqual(driver.log, ["pause", "resume"]);
    duplex.push(new Uint8Array(1));
    assert.deepEqual(driver.log, ["pause", "resume", "pause"]);
    assert.equal((await reader.read()).value?.byteLength, READ_HIGH_WATER_MARK - 1);
    assert.deepEqual(driver.log, ["pause", "resume", "pause", "resume"]);
    assert.equal((await reader.read()).value?.byteLength, 1);
    duplex.close();
  });

  test("chunks that came before the peer, and the end, are read in order", async () => {
    const duplex = new SocketDuplex({ write() {}, end() {}, destroy() {} });
    duplex.push(new Uint8Array([1]));
    duplex.push(new Uint8Array([2, 3]));
    duplex.pushEnd();
    const { reader } = open(duplex);
    assert.deepEqual((await reader.read()).value, new Uint8Array([1]));
    assert.deepEqual((await reader.read()).value, new Uint8Array([2, 3]));
    assert.equal((await reader.read()).done, true);
    duplex.close();
  });

  test("readEarly: the source reads from the start and pauses at 64 KiB until the peer reads", async () => {
    const driver = new FakePush();
    const duplex = new SocketDuplex(driver, { readEarly: true });
    assert.deepEqual(driver.log, [], "not paused: a TLS handshake needs the socket read");
    duplex.push(new Uint8Array(READ_HIGH_WATER_MARK - 1));
    assert.deepEqual(driver.log, []);
    duplex.push(new Uint8Array(1));
    assert.deepEqual(driver.log, ["pause"]);
    const { reader } = open(duplex);
    assert.equal((await reader.read()).value?.byteLength, READ_HIGH_WATER_MARK - 1);
    assert.equal((await reader.read()).value?.byteLength, 1);
    assert.deepEqual(driver.log, ["pause", "resume"]);
    duplex.close();
  });

  test("close(): a waiting read ends, queued bytes first; writes fail as closed", async () => {
    const driver = new FakePush();
    driver.blockWrites = true;
    const duplex = new SocketDuplex(driver);
    const { reader, writer } = open(duplex);
    duplex.push(new Uint8Array([1, 2]));
    const write = writer.write(new Uint8Array(3));
    const queued = writer.write(new Uint8Array(4));
    duplex.close();
    assert.equal(driver.log.filter((e) => e === "destroy").length, 1);
    assert.deepEqual((await reader.read()).value, new Uint8Array([1, 2]));
    assert.equal((await reader.read()).done, true);
    await assert.rejects(Promise.resolve(write), ConnectionClosedError);
    await assert.rejects(Promise.resolve(queued), ConnectionClosedError);
    await assert.rejects(Promise.resolve(writer.write(new Uint8Array(1))), ConnectionClosedError);
    // The second write never reached the socket.
    assert.deepEqual(driver.log.filter((e) => e.startsWith("write")), ["write 3"]);
  });

  test("finish(error): a waiting read rejects with it, queued bytes dropped, writes fail", async () => {
    const duplex = new SocketDuplex(new FakePush());
    const { reader, writer } = open(duplex);
    const read = reader.read();
    const reset = new Error("ECONNRESET");
    duplex.finish(reset);
    await assert.rejects(read, reset);
    await assert.rejects(reader.read(), reset);
    await assert.rejects(Promise.resolve(writer.write(new Uint8Array(1))), reset);
  });

  test("a parked reader tells its listener once, when a chunk arrives or the input ends", () => {
    const duplex = new SocketDuplex(new FakePush());
    const { reader } = open(duplex);
    let told = 0;
    const listener = { chunkArrived: () => told++ };
    assert.equal(reader.take!(), undefined, "nothing queued yet");
    reader.park!(listener);
    assert.throws(() => reader.park!(listener), TypeError, "parked once at a time");
    duplex.push(new Uint8Array([1]));
    duplex.push(new Uint8Array([2, 3]));
    assert.equal(told, 1, "told once, not per chunk");
    assert.deepEqual(reader.take!(), new Uint8Array([1]));
    assert.deepEqual(reader.take!(), new Uint8Array([2, 3]));
    assert.equal(reader.take!(), undefined);
    reader.park!(listener);
    duplex.pushEnd();
    assert.equal(told, 2);
    assert.equal(reader.take!(), null, "the end");
    reader.park!(listener);
    assert.equal(told, 3, "parking at the end tells at once");
  });

  test("what comes for a parked reader before it takes is handed over: no pause for it", () => {
    const driver = new FakePush();
    const duplex = new SocketDuplex(driver);
    const { reader } = open(duplex);
    const listener = { chunkArrived: () => {} };
    reader.park!(listener);
    // A header and a payload of the mark's size, in one task: as to a waiting read.
    duplex.push(new Uint8Array(13));
    duplex.push(new Uint8Array(READ_HIGH_WATER_MARK));
    assert.deepEqual(driver.log, ["pause", "resume"], "not paused");
    assert.equal(reader.take!()?.byteLength, 13);
    // Once the reader took, what comes next counts against the mark again.
    duplex.push(new Uint8Array(READ_HIGH_WATER_MARK));
    assert.deepEqual(driver.log, ["pause", "resume", "pause"], "paused at the mark");
    assert.equal(reader.take!()?.byteLength, READ_HIGH_WATER_MARK);
    assert.equal(reader.take!()?.byteLength, READ_HIGH_WATER_MARK);
    assert.deepEqual(driver.log, ["pause", "resume", "pause", "resume"], "resumed once read");
    duplex.close();
  });

  test("a parked reader is told of a failure (take throws it) and of a cancel", async () => {
    const failing = new SocketDuplex(new FakePush());
    const a = open(failing).reader;
    let told = 0;
    a.park!({ chunkArrived: () => told++ });
    const reset = new Error("ECONNRESET");
    failing.finish(reset);
    assert.equal(told, 1);
    assert.throws(() => a.take!(), reset);
    const cancelled = new SocketDuplex(new FakePush());
    const b = open(cancelled).reader;
    b.park!({ chunkArrived: () => told++ });
    await b.cancel();
    assert.equal(told, 2);
    assert.equal(b.take!(), null);
    cancelled.close();
  });

  test("writes reach the socket one at a time, in order; a taken write returns nothing", async () => {
    const driver = new FakePush();
    const duplex = new SocketDuplex(driver);
    const { writer } = open(duplex);
    assert.equal(writer.write(new Uint8Array(1)), undefined);
    driver.blockWrites = true;
    const blocked = writer.write(new Uint8Array(2));
    const after = writer.write(new Uint8Array(3));
    await settle();
    assert.deepEqual(driver.log.slice(-2), ["write 1", "write 2"]);
    driver.blockWrites = false;
    driver.waiting!.resolve();
    await blocked;
    await after;
    assert.deepEqual(driver.log.slice(-1), ["write 3"]);
    await writer.close();
    assert.deepEqual(driver.log.slice(-1), ["end"]);
    assert.equal(duplex.closed, false, "reading goes on after the half-close");
    duplex.pushEnd();
    assert.equal(duplex.closed, true);
  });

  test("a failing write fails it and every later one; abort tears down", async () => {
    const boom = new Error("EPIPE");
    const duplex = new SocketDuplex({
      write: () => {
        throw boom;
      },
      end() {},
      destroy() {},
    });
    const { writer } = open(duplex);
    await assert.rejects(Promise.resolve(writer.write(new Uint8Array(1))), boom);
    await assert.rejects(Promise.resolve(writer.write(new Uint8Array(1))), boom);
    await assert.rejects(writer.close(), boom);
    const other = new SocketDuplex(new FakePush());
    await open(other).writer.abort(new Error("give up"));
    assert.equal(other.closed, true);
    duplex.close();
  });

  test("cancel pauses the source, or (readAfterCancel) keeps it reading; reads end", async () => {
    const paused = new FakePush();
    const a = new SocketDuplex(paused);
    const { reader: readerA } = open(a);
    assert.equal(directOf(a), undefined, "a duplex opens once");
    const waiting = readerA.read();
    await readerA.cancel();
    assert.equal((await waiting).done, true);
    assert.deepEqual(paused.log, ["pause", "resume", "pause"]);
    const reading = new FakePush();
    const b = new SocketDuplex(reading, { readAfterCancel: true });
    const { reader } = open(b);
    b.push(new Uint8Array(READ_HIGH_WATER_MARK)); // pauses
    await reader.cancel();
    assert.deepEqual(reading.log, ["pause", "resume", "pause", "resume"]);
    b.push(new Uint8Array(1)); // dropped
    assert.equal((await reader.read()).done, true);
    a.close();
    b.close();
  });

  test("a pull source reads one chunk ahead, and no further while it is unread", async () => {
    let reads = 0;
    const duplex = new SocketDuplex({
      read(into) {
        reads++;
        into[0] = reads;
        return Promise.resolve(1);
      },
      write() {},
      end() {},
      destroy() {},
    });
    const { reader } = open(duplex);
    await settle();
    assert.equal(reads, 1, "one read ahead, before anyone reads");
    assert.deepEqual((await reader.read()).value, new Uint8Array([1]));
    await settle();
    assert.equal(reads, 2);
    assert.deepEqual((await reader.read()).value, new Uint8Array([2]));
    duplex.close();
  });

  test("the streams and the direct path exclude each other", () => {
    const direct = new SocketDuplex(new FakePush());
    open(direct);
    assert.equal(direct.readable.locked, true);
    assert.equal(direct.writable.locked, true);
    assert.throws(() => direct.readable.getReader(), TypeError);
    const streams = new SocketDuplex(new FakePush());
    assert.equal(streams.readable.locked, false);
    assert.equal(directOf(streams), undefined, "a duplex whose stream was made has no direct path");
    direct.close();
    streams.close();
  });
});
