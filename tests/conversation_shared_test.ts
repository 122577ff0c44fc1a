/**
 * Edits, deletes, reactions and typing across isolates (`--workers 2`) and
 * across server processes sharing Redis: what one member does reaches the
 * members on the other side, reactions aggregate in the shared store, and a
 * tutorial client sees none of it.
 *
 * @module
 */

import assert from "node:assert/strict";
import {
  SERVER,
  type ServerProcess,
  SHARED_ROOMS_ENV,
  startServerProcess,
} from "../testkit/process.ts";
import { ignoreWithoutRedis, startRedis } from "../testkit/redis.ts";
import { message, room, usingStores } from "../testkit/redis_store.ts";
import { RedisConnection } from "../adapters/redis/connection.ts";
import { conversationKeys } from "../adapters/redis/conversation.ts";
import { NOTES_SWEEP_EVERY } from "../adapters/redis/conversation_scripts.ts";
import { KEY_PREFIX } from "../adapters/redis/store.ts";
import { silentLogger } from "../chat/logger.ts";
import type { AppendResult } from "../chat/store.ts";
import type { ChangeResult, Reaction } from "../chat/conversation_store.ts";
import { uniqueRoom } from "../testkit/server.ts";
import { type Frame, TestClient } from "../testkit/test_client.ts";
import { joinPlaced, type Placed, withWorkers } from "../testkit/workers.ts";

/** A key of 16 or more characters for `name`. */
function keyOf(name: string): string {
  return `${name}-key-0123456789abcdef`;
}

function withId(id: number, type: string) {
  return (frame: Frame) => frame.type === type && frame.id === id;
}

/**
 * Alice (on one side) and Bob (on the other) edit, react, delete and type;
 * `late` joins on Bob's side at the end; `tutorial` must see messages only.
 */
async function converse(
  alice: TestClient,
  bob: TestClient,
  join: () => Promise<TestClient>,
  tutorial: TestClient,
): Promise<void> {
  // Everyone is live once this reached them.
  alice.send({ type: "message", message: "start" });
  await tutorial.waitForMatching((f) => f.message === "start", 1);
  alice.send({ type: "message", message: "helo" });
  const [sent] = await bob.waitForMatching((f) => f.message === "helo", 1);
  const id = Number(sent?.id);

  alice.send({ type: "react", id, emoji: "👍" });
  bob.send({ type: "react", id, emoji: "👍" });
  bob.send({ type: "react", id, emoji: "🎉" });
  const full = (frame: Frame) =>
    frame.type === "reactions" && frame.id === id &&
    JSON.stringify(frame.reactions).includes('"count":2') &&
    JSON.stringify(frame.reactions).includes("🎉");
  for (const client of [alice, bob]) {
    const [state] = await client.waitForMatching(full, 1);
    assert.ok(Array.isArray(state?.reactions));
    const thumbs = state.reactions.find((r: Frame) => r.emoji === "👍");
    assert.deepEqual([...thumbs.users].sort(), ["alice", "bob"]);
  }

  alice.send({ type: "edit", id, message: "hello" });
  const [edit] = await bob.waitForMatching(withId(id, "edit"), 1);
  assert.equal(edit?.message, "hello");

  bob.send({ type: "delete", id });
  const [refused] = await bob.waitForMatching(withId(id, "error"), 1);
  assert.equal(refused?.code, "not_owner");

  alice.send({ type: "typing" });
  const [typing] = await bob.waitForMatching(
    (f) => f.type === "typing" && Array.isArray(f.users) && f.users.length > 0,
    1,
  );
  assert.deepEqual(typing?.users, ["alice"]);

  await using late = await join();
  const history = late.ofType("history")[0];
  assert.ok(Array.isArray(history?.messages));
  const stored = history.messages.find((m: Frame) => m.id === id);
  assert.equal(stored?.message, "hello");
  assert.equal(stored?.edited, edit?.edited);
  assert.equal(stored?.reactions?.length, 2);

  alice.send({ type: "delete", id });
  await bob.waitForMatching(withId(id, "delete"), 1);

  alice.send({ type: "message", message: "marker" });
  await tutorial.waitForMatching((f) => f.message === "marker", 1);
  assert.deepEqual(
    [...new Set(tutorial.frames.map((f) => (f as Frame).type))],
    ["message"],
    "the tutorial client got messages only",
  );
}

Deno.test({
  name: "conversation across server processes sharing Redis",
  ignore: ignoreWithoutRedis,
  async fn() {
    await using redis = await startRedis();
    const env = { ...SHARED_ROOMS_ENV, REDIS_URL: redis.url };
    await using a = await startServerProcess({ args: SERVER.run(), env });
    await using b = await startServerProcess({ args: SERVER.run(), env });
    const room = uniqueRoom("shared");
    const url = (server: ServerProcess, name: string) =>
      server.wsUrl(`/ws/chat/${room}/?name=${name}&key=${keyOf(name)}`);
    await using alice = await TestClient.join(url(a, "alice"));
    await using bob = await TestClient.join(url(b, "bob"));
    await using tutorial = await TestClient.connect(
      b.wsUrl(`/ws/chat/${room}/`),
      [],
    );
    await converse(
      alice,
      bob,
      () => TestClient.join(url(b, "late")),
      tutorial,
    );
  },
});

Deno.test("conversation across the isolates of --workers 2", async () => {
  await withWorkers("conversation", {}, async (server) => {
    const room = uniqueRoom("workers");
    const placed: Placed[] = [];
    try {
      // Sockets land where the kernel puts them: join until both workers
      // hold one (bounded).
      for (let index = 0; index < 30; index++) {
        const name = `u${index}`;
        placed.push(
          await joinPlaced(server, room, name, `&key=${keyOf(name)}`),
        );
        const workers = new Set(placed.map((p) => p.worker));
        if (workers.size === 2) break;
      }
      const first = placed[0];
      const other = placed.find((p) => p.worker !== first?.worker);
      assert.ok(first && other, "sockets on both workers");
      await using tutorial = await TestClient.connect(
        server.wsUrl(`/ws/chat/${room}/`),
        [],
      );
      // Names in the scenario are alice and bob: rename them.
      first.client.send({ type: "rename", name: "alice" });
      other.client.send({ type: "rename", name: "bob" });
      await first.client.waitForType("presence", 2);
      await other.client.waitForType("presence", 2);
      await converse(
        first.client,
        other.client,
        () => TestClient.join(server.wsUrl(`/ws/chat/${room}/?name=late`)),
        tutorial,
      );
    } finally {
      await Promise.all(placed.map((p) => p.client.close()));
    }
  });
});

Deno.test({
  name: "the Redis store reads the notes of a page of thousands of messages",
  ignore: ignoreWithoutRedis,
  async fn() {
    await using redis = await startRedis();
    await usingStores(redis.url, 2, async ([writer, reader]) => {
      assert.ok(writer && reader);
      const lobby = room(uniqueRoom("long"));
      for (let index = 0; index < 4_500; index++) {
        await writer.messages.append(lobby, {
          ...message(`m${index}`),
          owner: "owner-1",
        });
      }
      const react = { owner: "o", user: "bob", emoji: "👍", maxDistinct: 20 };
      assert.equal((await writer.conversation.react(lobby, 7, react)).ok, true);
      assert.equal(
        (await writer.conversation.react(lobby, 4_450, react)).ok,
        true,
      );
      const edited = await writer.conversation.edit(lobby, 4_499, {
        owner: "owner-1",
        user: "ana",
        message: "changed",
        edited: new Date().toISOString(),
        sentSince: "1970-01-01T00:00:00.000Z",
      });
      assert.equal(edited.ok, true);
      const page = await reader.messages.after(lobby, 0, 4_500);
      assert.equal(page.length, 4_500);
      assert.deepEqual(
        page.filter((m) => m.reactions).map((m) => m.id),
        [7, 4_450],
      );
      assert.equal(page[4_498]?.message, "changed");
      assert.equal(typeof page[4_498]?.edited, "string");
      assert.equal(
        page.filter((m) => m.edited).length,
        1,
        "one edited message",
      );
    });
  },
});

Deno.test({
  name: "the Redis store's notes go with their messages",
  ignore: ignoreWithoutRedis,
  async fn(t) {
    await using redis = await startRedis();
    const raw = await RedisConnection.open(
      new URL(redis.url),
      "test",
      silentLogger,
    );
    try {
      const notes = conversationKeys(KEY_PREFIX);
      const react = { owner: "o", user: "bob", emoji: "👍", maxDistinct: 20 };
      await usingStores(redis.url, 1, async ([store]) => {
        assert.ok(store);
        await t.step("a deleted message's reactions and edit go", async () => {
          const lobby = room(uniqueRoom("deleted"));
          const { message: sent } = await store.messages.append(lobby, {
            ...message("mine"),
            owner: "owner-1",
          });
          await store.conversation.react(lobby, sent.id, react);
          await store.conversation.edit(lobby, sent.id, {
            owner: "owner-1",
            user: "ana",
            message: "edited",
            edited: new Date().toISOString(),
            sentSince: "1970-01-01T00:00:00.000Z",
          });
          const removed = await store.conversation.removeOwn(
            lobby,
            sent.id,
            "owner-1",
          );
          assert.equal(removed.ok, true);
          assert.equal(await raw.run(["HLEN", notes.reactions(lobby)]), 0);
          assert.equal(await raw.run(["HLEN", notes.edits(lobby)]), 0);
        });
      });
      await usingStores(redis.url, 1, async ([store]) => {
        assert.ok(store);
        await t.step(
          "the notes of messages trimmed from the stream are swept",
          async () => {
            const lobby = room(uniqueRoom("trimmed"));
            for (let index = 0; index < 3 * NOTES_SWEEP_EVERY; index++) {
              const appended: AppendResult = await store.messages.append(
                lobby,
                message(`m${index}`),
              );
              const reacted: ChangeResult<Reaction[]> = await store
                .conversation.react(lobby, appended.message.id, react);
              assert.equal(reacted.ok, true);
            }
            const kept = await raw.run(["XLEN", `${KEY_PREFIX}msgs:${lobby}`]);
            const size = Number(
              await raw.run(["HLEN", notes.reactions(lobby)]),
            );
            assert.ok(
              size <= NOTES_SWEEP_EVERY + Number(kept),
              `${size} reaction notes for ${kept} messages`,
            );
          },
        );
      }, { historyMax: 10 });
    } finally {
      await raw.close();
    }
  },
});
