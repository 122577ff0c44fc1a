import assert from "node:assert/strict";
import { openSqliteStore } from "../adapters/sqlite/store.ts";
import type { Store } from "../chat/store.ts";
import { RECENT_ROOMS } from "../routes/api.ts";
import { sqliteOptions } from "../testkit/defaults.ts";
import { ignoreWithoutRedis, startRedis } from "../testkit/redis.ts";
import { openRedisStore } from "../adapters/redis/store.ts";
import { options, room } from "../testkit/redis_store.ts";
import { buildServer } from "../testkit/server.ts";

const at = (minute: number) =>
  new Date(Date.UTC(2026, 11, 7, 9, minute)).toISOString();

const say = (store: Store, name: string, ts: string) =>
  store.messages.append(room(name), { user: "alice", message: "hi", ts });

/** The steps every store passes. */
async function listsRecentRooms(
  t: Deno.TestContext,
  open: () => Promise<Store>,
): Promise<void> {
  await t.step(
    "lists the rooms with the newest messages first, with their times",
    async () => {
      const store = await open();
      try {
        await say(store, "lobby", at(1));
        await say(store, "잡담", at(2));
        await say(store, "design", at(3));
        await say(store, "lobby", at(4));
        assert.deepEqual(await store.messages.recent(10), [
          { name: room("lobby"), lastMessageAt: at(4) },
          { name: room("design"), lastMessageAt: at(3) },
          { name: room("잡담"), lastMessageAt: at(2) },
        ]);
        assert.deepEqual(
          (await store.messages.recent(2)).map(({ name }) => name),
          ["lobby", "design"],
        );
      } finally {
        await store.close();
      }
    },
  );

  await t.step("forgets a room whose messages have all expired", async () => {
    const store = await open();
    try {
      await store.messages.expire(at(3));
      assert.deepEqual(
        (await store.messages.recent(10)).map(({ name }) => name),
        ["lobby", "design"],
      );
    } finally {
      await store.close();
    }
  });
}

Deno.test("sqlite store: recently active rooms", async (t) => {
  const dir = await Deno.makeTempDir();
  try {
    const path = `${dir}/chat.db`;
    await listsRecentRooms(
      t,
      () => Promise.resolve(openSqliteStore(sqliteOptions(path))),
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test({
  name: "redis store: recently active rooms",
  ignore: ignoreWithoutRedis,
  async fn(t) {
    await using redis = await startRedis();
    await listsRecentRooms(t, () => openRedisStore(options(redis.url)));
  },
});

Deno.test(
  "GET /api/rooms lists the recently active rooms beside those with someone online",
  async (t) => {
    await using server = await buildServer();
    const { store } = server;
    for (let minute = 0; minute < RECENT_ROOMS + 5; minute++) {
      await say(store, `room-${minute}`, at(minute));
    }
    const response = await server.app.request("/api/rooms");
    assert.equal(response.status, 200);
    const body = await response.json();

    await t.step("nobody is online: no room is online", () => {
      assert.deepEqual(body.rooms, []);
    });

    await t.step(
      `the ${RECENT_ROOMS} newest rooms are listed, newest first, with the time of their last message`,
      () => {
        assert.equal(body.recent.length, RECENT_ROOMS);
        assert.deepEqual(body.recent[0], {
          name: `room-${RECENT_ROOMS + 4}`,
          lastMessageAt: at(RECENT_ROOMS + 4),
        });
        assert.equal(body.recent.at(-1).name, "room-5");
      },
    );
  },
);
