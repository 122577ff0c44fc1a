import assert from "node:assert/strict";
import { isolates, recorder } from "../testkit/hub.ts";
import { room } from "../testkit/sqlite_store.ts";
import { waitUntil } from "../testkit/server.ts";

Deno.test("hub: delivery and the life of a room", async (t) => {
  await t.step(
    "stores a message, serialises it once and delivers the same text to all",
    async () => {
      await using world = await isolates(1);
      const { hub, lobby } = world;
      const a = recorder("a");
      const b = recorder("b");
      await hub.connect({ room: lobby, user: "alice", member: a }).ready;
      await hub.connect({ room: lobby, user: "bob", member: b }).ready;
      const { message: stored } = await hub.send({
        room: lobby,
        user: "alice",
        message: "hi",
      });
      assert.deepEqual(stored, {
        id: 1,
        room: lobby,
        user: "alice",
        message: "hi",
        ts: "2026-11-24T12:00:00.000Z",
      });
      const textA = a.texts.find((text) => text.includes('"message","id"'));
      const textB = b.texts.find((text) => text.includes('"message","id"'));
      assert.equal(
        textA,
        JSON.stringify({ type: "message", ...stored, verified: false }),
      );
      assert.equal(textA, textB);
    },
  );

  await t.step(
    "a connection gets history, then presence, then live messages",
    async () => {
      await using world = await isolates(1);
      const { hub, lobby } = world;
      await hub.send({ room: lobby, user: "early", message: "before anyone" });
      const member = recorder("m");
      await hub.connect({ room: lobby, user: "carol", member }).ready;
      await hub.send({ room: lobby, user: "carol", message: "live" });
      // Joins and leaves come in their own rhythm (presence_batch.ts).
      assert.deepEqual(
        member.frames().map((f) => f.type).filter((type) => type !== "join"),
        ["history", "presence", "message"],
      );
      const [history] = member.frames("history");
      assert.deepEqual(history?.recovered, false);
      assert.deepEqual(
        (history?.messages as { message: string }[]).map((m) => m.message),
        ["before anyone"],
      );
      assert.deepEqual(member.frames("presence")[0], {
        type: "presence",
        users: [{ name: "carol", connections: 1, verified: false }],
        count: 1,
        you: "carol",
      });
    },
  );

  await t.step(
    "a room closes with its last member, and leave is idempotent",
    async () => {
      await using world = await isolates(1);
      const { hub, lobby } = world;
      const one = hub.connect({
        room: lobby,
        user: "a",
        member: recorder("1"),
      });
      const two = hub.connect({
        room: lobby,
        user: "b",
        member: recorder("2"),
      });
      await Promise.all([one.ready, two.ready]);
      assert.deepEqual(hub.stats(), { rooms: 1, members: 2 });
      one.leave();
      one.leave();
      assert.deepEqual(hub.stats(), { rooms: 1, members: 1 });
      two.leave();
      assert.deepEqual(hub.stats(), { rooms: 0, members: 0 });
    },
  );
});

Deno.test("hub: across isolates", async (t) => {
  await t.step(
    "two hubs (two isolates) share a room over BroadcastChannel",
    async () => {
      await using world = await isolates(2);
      const [first, second] = world.hubs;
      assert.ok(first && second);
      const { lobby } = world;
      const here = recorder("here");
      const there = recorder("there");
      const elsewhere = recorder("elsewhere");
      await first.connect({ room: lobby, user: "h", member: here }).ready;
      await second.connect({ room: lobby, user: "t", member: there }).ready;
      await second.connect({
        room: room(`${lobby}_other`),
        user: "e",
        member: elsewhere,
      }).ready;
      await first.send({ room: lobby, user: "h", message: "across" });
      await waitUntil(
        () => there.frames("message").length === 1,
        "delivery across hubs",
      );
      // Then a marker in the other room, from the same hub: a leak of the
      // first message would have come before it.
      await first.send({
        room: room(`${lobby}_other`),
        user: "h",
        message: "marker",
      });
      await waitUntil(
        () => elsewhere.frames("message").length > 0,
        "the marker in the other room",
      );
      assert.equal(
        here.frames("message").length,
        1,
        "no echo from its own channel",
      );
      assert.equal(there.frames("message")[0]?.message, "across");
      assert.deepEqual(
        elsewhere.frames("message").map((f) => f.message),
        ["marker"],
      );
    },
  );

  await t.step(
    "repairs a gap from the store, in order and exactly once",
    async () => {
      await using world = await isolates(2);
      const [first, second] = world.hubs;
      const [store] = world.stores;
      assert.ok(first && second && store);
      const { lobby } = world;
      const member = recorder("m");
      await second.connect({ room: lobby, user: "m", member }).ready;
      // Two messages whose bus posts were lost: only the store has them.
      for (const text of ["lost 1", "lost 2"]) {
        await store.messages.append(lobby, {
          user: "x",
          message: text,
          ts: "t",
        });
      }
      await first.send({ room: lobby, user: "x", message: "arrives 3" });
      // A later message as the marker: once it is in, nothing before it
      // can still come, twice or otherwise.
      await first.send({ room: lobby, user: "x", message: "marker 4" });
      await waitUntil(
        () => member.frames("message").some((f) => f.message === "marker 4"),
        "the repaired gap and the marker",
      );
      assert.deepEqual(
        member.frames("message").map((f) => [f.id, f.message]),
        [[1, "lost 1"], [2, "lost 2"], [3, "arrives 3"], [4, "marker 4"]],
      );
    },
  );

  await t.step(
    "the periodic check delivers what the store has beyond the last id",
    async () => {
      await using world = await isolates(1);
      const [hub] = world.hubs;
      const [store] = world.stores;
      assert.ok(hub && store);
      const { lobby } = world;
      const member = recorder("m");
      await hub.connect({ room: lobby, user: "m", member }).ready;
      await store.messages.append(lobby, {
        user: "x",
        message: "silent",
        ts: "t",
      });
      assert.equal(member.frames("message").length, 0);
      await hub.repair();
      assert.deepEqual(member.frames("message").map((f) => f.message), [
        "silent",
      ]);
      await hub.repair();
      assert.equal(member.frames("message").length, 1, "not twice");
    },
  );

  await t.step("drops malformed data arriving from the channel", async () => {
    await using world = await isolates(1);
    const { hub, lobby } = world;
    const member = recorder("m");
    await hub.connect({ room: lobby, user: "m", member }).ready;
    const joins = () =>
      member.frames().flatMap((f) =>
        f.type === "join"
          ? [f.user]
          : f.type === "presence_change" && Array.isArray(f.joined)
          ? f.joined
          : []
      );
    await waitUntil(() => joins().includes("m"), "the member's own join");
    const before = member.texts.length;
    const intruder = new BroadcastChannel(`chat-room:${lobby}`);
    intruder.postMessage("not json");
    intruder.postMessage({ type: "message" });
    intruder.postMessage(
      JSON.stringify({
        type: "message",
        id: 1,
        room: "other",
        user: "u",
        message: "x",
        ts: "t",
      }),
    );
    intruder.postMessage(JSON.stringify({ type: "join", user: "zed" }));
    // A valid frame after the bad ones: once it is in, all of them are.
    intruder.postMessage(JSON.stringify({ type: "join", user: "marker" }));
    await waitUntil(() => joins().includes("marker"), "the marker");
    assert.deepEqual(joins(), ["m", "zed", "marker"]);
    assert.ok(
      member.frames().slice(before).every((f) =>
        f.type === "join" || f.type === "presence_change"
      ),
      "only the valid frames got through",
    );
    intruder.close();
  });
});
