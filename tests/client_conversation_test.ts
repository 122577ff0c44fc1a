/**
 * The client library's edit(), delete(), react() and typing() against the
 * real server on real sockets: each promise settles with the server's
 * answer for that message id, and the other members see the change.
 *
 * @module
 */

import assert from "node:assert/strict";
import { ChatError } from "../client/chat_client.js";
import { openClient, rejectsWith } from "../testkit/library_client.ts";
import { startServer, storedMessages, uniqueRoom } from "../testkit/server.ts";

const ENV = { CHAT_RATE_LIMIT: "0", CHAT_CONNECT_RATE: "0" };

Deno.test("the library edits, deletes and reacts", async (t) => {
  await using server = await startServer(ENV);
  const room = uniqueRoom("libconv");
  using alice = await openClient(server.origin, { room, name: "alice" });
  using bob = await openClient(server.origin, { room, name: "bob" });

  await t.step(
    "edit() resolves with the edit, and the others see it",
    async () => {
      const sent = await alice.client.send("helo");
      const edit = await alice.client.edit(sent.id, "hello");
      assert.equal(edit.id, sent.id);
      assert.equal(edit.message, "hello");
      assert.equal(typeof edit.edited, "string");
      const [seen] = await bob.log.waitFor("edit", (e) => e.id === sent.id);
      assert.deepEqual(seen, edit);
    },
  );

  await t.step("a refusal rejects with the message's id", async () => {
    const theirs = await alice.client.send("alice's");
    await rejectsWith(bob.client.edit(theirs.id, "mine now"), "not_owner");
    await rejectsWith(bob.client.delete(theirs.id), "not_owner");
    await assert.rejects(
      bob.client.react(theirs.id, "no"),
      (error: unknown) =>
        error instanceof ChatError && error.code === "not_emoji" &&
        error.id === theirs.id,
    );
    const held = await storedMessages(server, room);
    assert.equal(held.find((m) => m.id === theirs.id)?.message, "alice's");
  });

  await t.step(
    "react() toggles and resolves with the whole state",
    async () => {
      const sent = await alice.client.send("react to me");
      const first = await bob.client.react(sent.id, "👍");
      assert.deepEqual(first.reactions, [
        { emoji: "👍", count: 1, users: ["bob"] },
      ]);
      const both = await alice.client.react(sent.id, "👍");
      assert.deepEqual(both.reactions, [
        { emoji: "👍", count: 2, users: ["bob", "alice"] },
      ]);
      await bob.log.waitFor(
        "reactions",
        (r) => r.id === sent.id && r.reactions[0]?.count === 2,
      );
      const back = await bob.client.react(sent.id, "👍");
      assert.deepEqual(back.reactions, [
        { emoji: "👍", count: 1, users: ["alice"] },
      ]);
    },
  );

  await t.step("delete() resolves on the delete frame", async () => {
    const sent = await alice.client.send("oops");
    assert.deepEqual(await alice.client.delete(sent.id), { id: sent.id });
    await bob.log.waitFor("delete", (d) => d.id === sent.id);
    const held = await storedMessages(server, room);
    assert.equal(held.some((m) => m.id === sent.id), false);
  });

  await t.step(
    "typing() shows in the others' typing event, once per 3 s",
    async () => {
      alice.client.typing();
      alice.client.typing();
      const [users] = await bob.log.waitFor(
        "typing",
        (u) => u.includes("alice"),
      );
      assert.deepEqual(users, ["alice"]);
      await alice.client.send("done typing");
      await bob.log.waitFor("typing", (u) => u.length === 0);
      assert.equal(alice.log.of("typing").length, 0, "never told of itself");
    },
  );

  await t.step(
    "after a send, typing() goes out again once the server hears it, not 3 s later",
    async () => {
      const sentAt: number[] = [];
      /** Notes when each typing frame leaves, and sends it. */
      class NotingSocket extends WebSocket {
        override send(data: string | ArrayBufferLike | Blob | ArrayBufferView) {
          if (typeof data === "string" && data.includes('"typing"')) {
            sentAt.push(Date.now());
          }
          super.send(data);
        }
      }
      using carol = await openClient(server.origin, {
        room,
        name: "carol",
        WebSocket: NotingSocket,
      });
      carol.client.typing();
      await bob.log.waitFor("typing", (u) => u.includes("carol"));
      await carol.client.send("sent while typing");
      await bob.log.waitFor("typing", (u) => !u.includes("carol"));
      // Carol types on, a key every 50 ms, until Bob sees her again.
      const keys = setInterval(() => carol.client.typing(), 50);
      try {
        await bob.log.waitFor(
          "typing",
          (u) => u.includes("carol"),
          2,
        );
      } finally {
        clearInterval(keys);
      }
      assert.equal(sentAt.length, 2);
      const [first = 0, second = 0] = sentAt;
      assert.ok(
        second - first >= 1500 && second - first < 3000,
        `the second typing frame left ${second - first} ms after the first`,
      );
    },
  );

  await t.step("after close() the methods reject with closed", async () => {
    alice.client.close();
    await rejectsWith(alice.client.edit(1, "x"), "closed");
    await rejectsWith(alice.client.delete(1), "closed");
    await rejectsWith(alice.client.react(1, "👍"), "closed");
  });
});
