/**
 * The chat demo on two nodes (`--nodes 2`: a nats-server and two chat servers on it) in headless
 * Chromium, on Deno and on Bun: one page on each node, and they chat — messages both ways, the
 * room's members and the people on both nodes, a room made on one node seen on the other, the
 * history a late page on the other node gets, typing across nodes — and stopping the demo stops
 * nats-server too.
 *
 * @module
 */
// deno-lint-ignore-file no-explicit-any
import assert from "node:assert/strict";
import type { Page } from "playwright-core";
import { bin, launch, newPage, Proc, TEST } from "./_test_browser.ts";

interface Nodes {
  proc: Proc;
  urls: string[];
  natsPid: number;
}

async function startNodes(runtime: "deno" | "bun"): Promise<Nodes> {
  const args = ["--nodes", "2", "--port", "0", "--tcp-port", "0", "--ping-interval", "1000"];
  const proc = runtime === "deno"
    ? new Proc(bin("deno"), ["run", "-A", "demo/main.ts", ...args])
    : new Proc(bin("bun"), ["demo/main_bun.ts", ...args]);
  try {
    const [, pid] = await proc.waitFor(/^NATS: \S+ \(.*pid (\d+)\)$/m, 30_000, "nats-server");
    const urls: string[] = [];
    for (const node of [1, 2]) {
      const re = new RegExp(`^node ${node} \\| Chat: (http\\S+)$`, "m");
      urls.push((await proc.waitFor(re, 60_000, `node ${node}`))[1]);
    }
    return { proc, urls, natsPid: Number(pid) };
  } catch (error) {
    await proc.stop("SIGKILL").catch(() => {});
    throw error;
  }
}

function alive(pid: number): boolean {
  try {
    Deno.kill(pid, "SIGCONT");
    return true;
  } catch {
    return false;
  }
}

async function chatReady(page: Page, room: string): Promise<void> {
  await page.waitForFunction(
    (room) => {
      const chat = (globalThis as any).chat;
      return (globalThis as any).document.body.dataset.status === "connected" &&
        chat?.state.current === room && chat.state.stats.welcomes > 0;
    },
    room,
    { timeout: 15_000 },
  );
}

function waitForText(page: Page, text: string): Promise<unknown> {
  return page.waitForFunction(
    (text) =>
      [...(globalThis as any).document.querySelectorAll("#messages li .text")].some((e: any) =>
        e.textContent === text
      ),
    text,
    { timeout: 15_000 },
  );
}

async function say(page: Page, text: string): Promise<void> {
  await page.fill("#text", text);
  await page.press("#text", "Enter");
  await waitForText(page, text);
}

/** Waits until the page holds `room`'s members as exactly `names`. */
function waitForMembers(page: Page, room: string, names: string[]): Promise<unknown> {
  return page.waitForFunction(
    ([room, names]) => {
      const members = (globalThis as any).chat.state.joined.get(room)?.members ?? [];
      return JSON.stringify([...members].sort()) === JSON.stringify(names);
    },
    [room, names] as const,
    { timeout: 15_000 },
  );
}

for (const runtime of ["deno", "bun"] as const) {
  Deno.test(`chat demo on two nodes over NATS (${runtime}): a page on each`, TEST, async (t) => {
    const nodes = await startNodes(runtime);
    const browser = await launch();
    const errors: string[] = [];
    try {
      assert.notEqual(new URL(nodes.urls[0]).port, new URL(nodes.urls[1]).port);
      const context = await browser.newContext();
      context.setDefaultTimeout(15_000);
      const alice = await newPage(context, errors);
      const bob = await newPage(context, errors);
      await alice.goto(`${nodes.urls[0]}?name=alice&room=general`);
      await bob.goto(`${nodes.urls[1]}?name=bob&room=general`);
      await chatReady(alice, "general");
      await chatReady(bob, "general");

      await t.step("each page is on its own node", async () => {
        assert.match((await alice.textContent("#server")) ?? "", /node 1 on NATS/);
        assert.match((await bob.textContent("#server")) ?? "", /node 2 on NATS/);
      });

      await t.step("they chat: a message on one node reaches the other, both ways", async () => {
        await say(alice, "hello from node 1");
        await waitForText(bob, "hello from node 1");
        await say(bob, "hi from node 2");
        await waitForText(alice, "hi from node 2");
        // Each message once, in the order sent.
        const texts = await alice.$$eval(
          "#messages li.msg .text",
          (els) => els.map((e: any) => e.textContent).filter((s: string) => /node \d$/.test(s)),
        );
        assert.deepEqual(texts, ["hello from node 1", "hi from node 2"]);
      });

      await t.step("the room's members and the people: both nodes' on both pages", async () => {
        await waitForMembers(alice, "general", ["alice", "bob"]);
        await waitForMembers(bob, "general", ["alice", "bob"]);
        await alice.waitForSelector('#users li[data-name="bob"]');
        await bob.waitForSelector('#users li[data-name="alice"]');
        // A presence line made on a node that had not yet heard of the other's members (a join
        // on each node at once) is put right by the next rooms list, which carries them all.
        await alice.evaluate(() =>
          (globalThis as any).chat.state.joined.get("general").members = []
        );
        await waitForMembers(alice, "general", ["alice", "bob"]);
      });

      await t.step("typing on node 2 shows on node 1", async () => {
        await bob.fill("#text", "typing…");
        await alice.waitForFunction(() =>
          /bob is typing/.test((globalThis as any).document.getElementById("typing").textContent)
        );
        await bob.fill("#text", "");
      });

      await t.step("a room made on node 2 is listed on node 1, and joins span nodes", async () => {
        await bob.evaluate(() => (globalThis as any).chat.join("nodes"));
        await alice.waitForFunction(() =>
          (globalThis as any).chat.state.rooms.some((r: any) => r.name === "nodes")
        );
        await alice.evaluate(() => (globalThis as any).chat.join("nodes"));
        await say(alice, "in #nodes from node 1");
        await waitForText(bob, "in #nodes from node 1");
        await waitForMembers(bob, "nodes", ["alice", "bob"]);
      });

      await t.step("a page that comes later to node 2 gets node 1's messages", async () => {
        const carol = await newPage(context, errors);
        await carol.goto(`${nodes.urls[1]}?name=carol&room=general`);
        await chatReady(carol, "general");
        await waitForText(carol, "hello from node 1");
        await waitForText(carol, "hi from node 2");
      });

      assert.deepEqual(errors, []);
    } finally {
      await browser.close();
      await nodes.proc.stop("SIGTERM", 15_000);
    }
    // Stopping the demo stopped its nats-server.
    assert.equal(alive(nodes.natsPid), false, "nats-server outlived the demo");
  });
}
