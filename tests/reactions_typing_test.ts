/**
 * Reactions and typing on a real server over real sockets: reactions
 * toggle, aggregate, survive a restart and are refused with a code; typing
 * lists appear, expire and stay coalesced however many type.
 *
 * @module
 */

import assert from "node:assert/strict";
import { startServer, uniqueRoom, waitUntil } from "../testkit/server.ts";
import { type Frame, TestClient } from "../testkit/test_client.ts";
import { TYPING_FRAME_MS, TYPING_TTL_MS } from "../chat/typing.ts";

const ENV = { CHAT_RATE_LIMIT: "0", CHAT_CONNECT_RATE: "0" };

function path(room: string, name: string): string {
  return `/ws/chat/${room}/?name=${name}&key=${name}-key-0123456789`;
}

async function say(client: TestClient, message: string): Promise<number> {
  client.send({ type: "message", message });
  const [echo] = await client.waitForMatching((f) => f.message === message, 1);
  return Number(echo?.id);
}

/** The `count`-th reactions frame about `id`; resolves its reactions. */
async function reactionsOf(
  client: TestClient,
  id: number,
  count: number,
): Promise<unknown> {
  const frames = await client.waitForMatching(
    (f) => f.type === "reactions" && f.id === id,
    count,
  );
  return frames[count - 1]?.reactions;
}

Deno.test("reactions", async (t) => {
  const dir = await Deno.makeTempDir({ prefix: "reactions" });
  const env = { ...ENV, CHAT_DB: `${dir}/chat.db` };
  try {
    const room = uniqueRoom("react");
    let id = 0;
    {
      await using server = await startServer(env);
      await using alice = await TestClient.join(
        server.wsUrl(path(room, "alice")),
      );
      await using bob = await TestClient.join(server.wsUrl(path(room, "bob")));

      await t.step("a reaction toggles and aggregates per emoji", async () => {
        id = await say(alice, "react to me");
        bob.send({ type: "react", id, emoji: "👍" });
        assert.deepEqual(await reactionsOf(alice, id, 1), [
          { emoji: "👍", count: 1, users: ["bob"] },
        ]);
        alice.send({ type: "react", id, emoji: "👍" });
        alice.send({ type: "react", id, emoji: "👩‍💻" });
        alice.send({ type: "react", id, emoji: "🇰🇷" });
        assert.deepEqual(await reactionsOf(bob, id, 4), [
          { emoji: "👍", count: 2, users: ["bob", "alice"] },
          { emoji: "👩‍💻", count: 1, users: ["alice"] },
          { emoji: "🇰🇷", count: 1, users: ["alice"] },
        ]);
        alice.send({ type: "react", id, emoji: "🇰🇷" });
        assert.deepEqual(await reactionsOf(bob, id, 5), [
          { emoji: "👍", count: 2, users: ["bob", "alice"] },
          { emoji: "👩‍💻", count: 1, users: ["alice"] },
        ]);
      });

      await t.step(
        "refusals name the message and change nothing",
        async () => {
          for (const emoji of ["a", "👍👍", "", "👍 ", 42]) {
            bob.send({ type: "react", id, emoji });
          }
          bob.send({ type: "react", id: 999_999, emoji: "👍" });
          const errors = await bob.waitForType("error", 6);
          assert.deepEqual(errors.map((f) => [f.code, f.id]), [
            ["not_emoji", id],
            ["not_emoji", id],
            ["not_emoji", id],
            ["not_emoji", id],
            ["not_emoji", id],
            ["no_such_message", 999_999],
          ]);
          const full = await say(alice, "full");
          const emoji = [..."😀😁😂🤣😃😄😅😆😉😊😋😎😍😘🥰😗😙🥲😚🙂"];
          assert.equal(emoji.length, 20);
          for (const one of emoji) {
            alice.send({ type: "react", id: full, emoji: one });
          }
          await reactionsOf(bob, full, 20);
          bob.send({ type: "react", id: full, emoji: "🤔" });
          const [tooMany] = await bob.waitForMatching(
            (f) => f.type === "error" && f.id === full,
            1,
          );
          assert.equal(tooMany?.code, "too_many_reactions");
          // One of the twenty is still welcome.
          bob.send({ type: "react", id: full, emoji: "😀" });
          const state = await reactionsOf(bob, full, 21);
          assert.ok(Array.isArray(state));
          assert.equal(state.length, 20);
        },
      );
    }

    await t.step(
      "reactions are stored: history after a restart has them",
      async () => {
        await using server = await startServer(env);
        await using late = await TestClient.join(
          server.wsUrl(path(room, "carol")),
        );
        const history = late.ofType("history")[0];
        assert.ok(Array.isArray(history?.messages));
        const message = history.messages.find((m: Frame) => m.id === id);
        assert.deepEqual(message?.reactions, [
          { emoji: "👍", count: 2, users: ["bob", "alice"] },
          { emoji: "👩‍💻", count: 1, users: ["alice"] },
        ]);
      },
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("typing", async (t) => {
  await using server = await startServer(ENV);

  await t.step(
    "the list appears for the others, never the typist, and expires",
    async () => {
      const room = uniqueRoom("typing");
      await using alice = await TestClient.join(
        server.wsUrl(path(room, "alice")),
      );
      await using bob = await TestClient.join(server.wsUrl(path(room, "bob")));
      alice.send({ type: "typing" });
      const [shown] = await bob.waitForType("typing", 1);
      assert.deepEqual(shown?.users, ["alice"]);
      const [gone] = await bob.waitForMatching(
        (f) =>
          f.type === "typing" && Array.isArray(f.users) && f.users.length === 0,
        1,
        TYPING_TTL_MS + 5_000,
      );
      assert.ok(gone);
      assert.equal(alice.ofType("typing").length, 0);
      // The expired list took its room's entry and timer with it.
      assert.equal(server.chat.hub.conversation.typingRooms, 0);
    },
  );

  await t.step(
    "with 50 typists a member gets a few frames a second, then the whole list",
    async () => {
      const room = uniqueRoom("crowd");
      await using watcher = await TestClient.join(
        server.wsUrl(path(room, "watcher")),
      );
      const typists: TestClient[] = [];
      try {
        for (let index = 0; index < 50; index++) {
          typists.push(
            await TestClient.join(server.wsUrl(path(room, `t${index}`))),
          );
        }
        const started = Date.now();
        // One after another, each heard by the server before the next
        // (its answer to a bad frame comes after): not one burst that a
        // single turn would coalesce anyway.
        for (const typist of typists) {
          typist.send({ type: "typing" });
          typist.send({ type: "typing" });
          typist.send({});
          await typist.waitForType("error", 1);
        }
        await watcher.waitForMatching(
          (f) =>
            f.type === "typing" && Array.isArray(f.users) &&
            f.users.length === 50,
          1,
        );
        const elapsed = Date.now() - started;
        const frames = watcher.ofType("typing").length;
        assert.ok(
          frames <= Math.floor(elapsed / TYPING_FRAME_MS) + 2,
          `${frames} typing frames in ${elapsed} ms`,
        );
        assert.ok(frames < 50, `${frames} frames for 50 typists`);
        assert.equal(server.chat.hub.conversation.typingRooms, 1);
      } finally {
        await Promise.all(typists.map((typist) => typist.close()));
      }
      // The room closes with its last member, and its typists go with it.
      await watcher.close();
      await waitUntil(
        () => server.chat.hub.stats().rooms === 0,
        "every room closed",
      );
      assert.equal(server.chat.hub.conversation.typingRooms, 0);
    },
  );

  await t.step(
    "a member who arrives while someone types hears it at once, after the presence frame",
    async () => {
      const room = uniqueRoom("typing_late");
      await using alice = await TestClient.join(
        server.wsUrl(path(room, "alice")),
      );
      await using bob = await TestClient.join(server.wsUrl(path(room, "bob")));
      alice.send({ type: "typing" });
      await bob.waitForType("typing", 1);
      // Alice types on, listed all along: no change for the list to send.
      await using carol = await TestClient.join(
        server.wsUrl(path(room, "carol")),
      );
      const [told] = await carol.waitForType("typing", 1);
      assert.deepEqual(told?.users, ["alice"]);
      const types = carol.frames.map((f) => (f as Frame).type);
      assert.ok(
        types.indexOf("presence") < types.indexOf("typing"),
        `in order: ${types.join(", ")}`,
      );
      assert.equal(carol.ofType("typing").length, 1);
    },
  );

  await t.step("a tutorial client gets no typing frame", async () => {
    const room = uniqueRoom("tut");
    await using tutorial = await TestClient.connect(
      server.wsUrl(`/ws/chat/${room}/`),
      [],
    );
    await using alice = await TestClient.join(
      server.wsUrl(path(room, "alice")),
    );
    await using bob = await TestClient.join(server.wsUrl(path(room, "bob")));
    alice.send({ type: "typing" });
    await bob.waitForType("typing", 1);
    await say(alice, "marker");
    await tutorial.waitForMatching((f) => f.message === "marker", 1);
    assert.deepEqual(tutorial.frames.map((f) => (f as Frame).type), [
      "message",
    ]);
    tutorial.send({ type: "typing" });
    const [refused] = await tutorial.waitForType("error", 1);
    assert.equal(refused?.code, "bad_frame");
  });
});
