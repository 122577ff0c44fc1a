/**
 * The client library across connections: a server killed while a client
 * sends (every message stored and delivered exactly once, in id order),
 * and a history that is not recovered (the client starts over).
 *
 * @module
 */

import assert from "node:assert/strict";
import type { ChatClientEventMap, ChatMessage } from "../client/chat_client.js";
import { openClient } from "../testkit/library_client.ts";
import { CutProxy } from "../testkit/cut_proxy.ts";
import { freePort } from "../testkit/process.ts";
import { RestartableServer } from "../testkit/restartable_server.ts";
import {
  startServer,
  storedMessages,
  uniqueRoom,
  within,
} from "../testkit/server.ts";

const ENV = {
  CHAT_RATE_LIMIT: "0",
  CHAT_CONNECT_RATE: "0",
  LOG_LEVEL: "warn",
};

/** Asserts that `messages` hold `texts` each once, in strictly rising ids. */
function assertExactlyOnce(
  messages: readonly { id: number; message: string }[],
  texts: readonly string[],
  who: string,
) {
  assert.deepEqual(
    messages.map((m) => m.message).sort(),
    [...texts].sort(),
    `${who}: every message exactly once`,
  );
  for (const [index, message] of messages.entries()) {
    const before = messages[index - 1];
    if (before) assert.ok(message.id > before.id, `${who}: ids rise`);
  }
}

Deno.test("a server restarted while a client sends 50 messages loses and repeats none", async () => {
  const dir = await Deno.makeTempDir({ prefix: "chat-client-restart-" });
  try {
    await using server = new RestartableServer({
      port: freePort(),
      env: { ...ENV, CHAT_DB: `${dir}/chat.db` },
    });
    await server.start();
    const room = uniqueRoom("restart");
    using sender = await openClient(server.origin, { room, name: "sender" });
    using watcher1 = await openClient(server.origin, {
      room,
      name: "watcher-1",
    });
    using watcher2 = await openClient(server.origin, {
      room,
      name: "watcher-2",
    });
    const watchers = [watcher1, watcher2];
    const texts = Array.from({ length: 50 }, (_, n) => `m${n + 1}`);
    const sends = new Map<string, Promise<ChatMessage>>();
    const send = (text: string) => {
      const sent = sender.client.send(text);
      // A failure below would leave these to the closing client to reject.
      sent.catch(() => {});
      sends.set(text, sent);
      return sent;
    };
    // The first 20 go out as a busy app's would, each as an earlier one is
    // stored, so that two are always in flight when the server dies.
    let issued = 0;
    let confirmed = 0;
    const chain = () => {
      const text = texts[issued];
      if (issued >= 20 || text === undefined) return;
      issued += 1;
      send(text).then(() => (confirmed++, chain()), () => {});
    };
    chain();
    chain();
    let stopped: Promise<void> | undefined;
    let confirmedAtKill = 0;
    const kill = (event: ChatClientEventMap["message"]) => {
      if (event.detail.message !== "m10" || stopped) return;
      confirmedAtKill = confirmed;
      stopped = server.stop("SIGKILL");
    };
    watcher1.client.addEventListener("message", kill);
    await watcher1.log.waitFor("message", (m) => m.message === "m10");
    watcher1.client.removeEventListener("message", kill);
    await stopped;
    await sender.log.waitFor("state", (d) => d.state === "reconnecting");
    for (const text of texts.slice(20)) send(text);
    assert.ok(sender.client.pending >= 30, "the sends wait in the outbox");
    await server.start();

    // The chain goes on after the restart, up to m20.
    const all = () => new Set(sender.log.of("message").map((m) => m.message));
    await sender.log.waitFor("message", () => all().size === 50, 1, 30_000);
    assert.equal(sends.size, 50);
    const stored = await Promise.all(sends.values());
    assert.deepEqual(stored.map((m) => m.message).sort(), [...texts].sort());
    assert.equal(sender.client.pending, 0);
    const held = await storedMessages(server, room);
    assertExactlyOnce(held, texts, "the store");
    for (const [index, each] of [sender, ...watchers].entries()) {
      // Caught up: the history's messages come before the state says so.
      await each.log.waitFor("state", (d) => d.state === "open", 2, 30_000);
      await each.log.waitFor("message", (m) => m.message === "m50");
      assertExactlyOnce(each.log.of("message"), texts, `client ${index}`);
      assert.deepEqual(
        each.log.of("message").map((m) => m.id),
        held.map((m) => m.id),
      );
      assert.ok(each.log.of("history").at(-1)?.recovered, "with since=");
    }
    console.log(`${confirmedAtKill} sends were confirmed at the kill`);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("sends whose echo or frame was lost are each stored once", async () => {
  await using server = await startServer(ENV);
  await using proxy = new CutProxy(Number(new URL(server.origin).port));
  const room = uniqueRoom("echo");
  using sender = await openClient(proxy.origin, { room, name: "sender" });
  using watcher = await openClient(server.origin, { room, name: "watcher" });
  const texts = Array.from({ length: 15 }, (_, n) => `m${n + 1}`);
  const send = (from: number, to: number) =>
    texts.slice(from, to).map((text) => sender.client.send(text));
  const sends = send(0, 5);
  await Promise.all(sends);

  // m6 to m10 are stored, but their echoes never reach the sender.
  proxy.hold("replies");
  sends.push(...send(5, 10));
  await watcher.log.waitFor("message", (m) => m.message === "m10");
  // m11 to m15 never reach the server.
  proxy.hold("both");
  sends.push(...send(10, 15));
  assert.equal(sender.client.pending, 10);
  await proxy.cut();

  // The history confirms m6 to m10; m11 to m15 are sent again.
  const stored = await within(Promise.all(sends), 15_000, "every send");
  assert.deepEqual(stored.map((m) => m.message), texts);
  const held = await storedMessages(server, room);
  assertExactlyOnce(held, texts, "the store");
  assert.deepEqual(stored.map((m) => m.id), held.map((m) => m.id));
  // One more: anything repeated would come before it.
  await sender.client.send("after");
  for (
    const [who, each] of [["sender", sender], ["watcher", watcher]] as const
  ) {
    await each.log.waitFor("message", (m) => m.message === "after");
    assertExactlyOnce(each.log.of("message"), [...texts, "after"], who);
  }
  const [, history] = sender.log.of("history");
  assert.equal(history?.recovered, true, "the second history recovered");
});

Deno.test("a history that is not recovered resets what the client holds", async (t) => {
  await t.step("the server came back with another log", async () => {
    const dir = await Deno.makeTempDir({ prefix: "chat-client-forgot-" });
    try {
      await using server = new RestartableServer({
        port: freePort(),
        env: { ...ENV, CHAT_DB: `${dir}/chat.db` },
      });
      await server.start();
      const room = uniqueRoom("forgot");
      using alice = await openClient(server.origin, { room, name: "alice" });
      for (const text of ["old 1", "old 2", "old 3"]) {
        await alice.client.send(text);
      }
      const oldEpoch = alice.client.epoch;
      assert.ok(alice.client.lastId >= 3);

      await server.stop();
      for (const suffix of ["", "-wal", "-shm"]) {
        await Deno.remove(`${dir}/chat.db${suffix}`).catch((error) => {
          if (!(error instanceof Deno.errors.NotFound)) throw error;
        });
      }
      await server.start();

      const [history] = await alice.log.waitFor(
        "history",
        (h) => !h.recovered,
        2,
        30_000,
      ).then((found) => found.slice(1));
      assert.ok(history);
      assert.equal(history.missed, true, "it held messages: some are missed");
      assert.notEqual(history.epoch, oldEpoch);
      await alice.log.waitFor("state", (d) => d.state === "open", 2, 30_000);
      assert.equal(alice.client.epoch, history.epoch);
      assert.equal(alice.client.lastId, 0, "the new log is empty");

      // Id 1 of the new log is below what the client had seen: delivered.
      const fresh = await alice.client.send("new 1");
      assert.equal(fresh.id, 1);
      await alice.log.waitFor("message", (m) => m.message === "new 1");
      assert.equal(alice.client.lastId, 1);
      assert.deepEqual(
        alice.log.of("message").map((m) => m.message),
        ["old 1", "old 2", "old 3", "new 1"],
      );
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  });

  await t.step("since= from another epoch, or the same", async () => {
    await using server = await startServer(ENV);
    const room = uniqueRoom("epoch");
    const { epoch } = await (async () => {
      using writer = await openClient(server.origin, { room, name: "writer" });
      for (const text of ["a", "b", "c"]) await writer.client.send(text);
      return { epoch: writer.client.epoch };
    })();
    using other = await openClient(server.origin, {
      room,
      since: 2,
      epoch: "another-log-0000",
    });
    assert.equal(other.log.of("history")[0]?.recovered, false);
    assert.deepEqual(other.log.of("message").map((m) => m.message), [
      "a",
      "b",
      "c",
    ]);
    assert.equal(other.client.epoch, epoch);
    using same = await openClient(server.origin, { room, since: 2, epoch });
    assert.equal(same.log.of("history")[0]?.recovered, true);
    assert.deepEqual(same.log.of("message").map((m) => m.message), ["c"]);
    assert.equal(same.client.lastId, other.client.lastId);
  });
});
