import assert from "node:assert/strict";
import { SERVER, startServerProcess } from "../testkit/process.ts";
import { ignoreWithoutRedis, startRedis } from "../testkit/redis.ts";
import { uniqueRoom } from "../testkit/server.ts";
import { startWebhookReceiver } from "../testkit/webhook_receiver.ts";
import { postMessages, SECRET, webhookEnv } from "../testkit/webhooks.ts";

/** `total` messages over 10 rooms, each room's posted to `origins` in turn. */
async function postSpread(
  origins: readonly string[],
  total: number,
): Promise<string[]> {
  const rooms = Array.from({ length: 10 }, () => uniqueRoom("cluster"));
  const perRoom = total / rooms.length;
  await Promise.all(rooms.map(async (room, r) => {
    for (let i = 0; i < perRoom; i += 10) {
      const origin = origins[(r + i / 10) % origins.length] ?? "";
      const texts = Array.from({ length: 10 }, (_, k) => `m ${i + k}`);
      await postMessages(origin, room, texts);
    }
  }));
  return rooms;
}

async function exactlyOnce(
  t: Deno.TestContext,
  servers: number,
  env: Record<string, string>,
  total: number,
  args: readonly string[] = SERVER.run("--workers", "2"),
): Promise<void> {
  await using receiver = await startWebhookReceiver({
    secret: SECRET,
    workMs: 2,
  });
  const started = await Promise.all(
    Array.from({ length: servers }, () =>
      startServerProcess({
        args,
        env: {
          ...webhookEnv(env.CHAT_DB ?? ":memory:", receiver.url, env),
          CHAT_WEBHOOK_TIMEOUT_MS: "2000",
          LOG_LEVEL: "warn",
        },
      })),
  );
  try {
    const rooms = await postSpread(started.map((s) => s.origin), total);
    const created = () =>
      receiver.events.filter((e) => e.type === "message.created");
    await receiver.waitFor(
      () => created().length >= total,
      `${total} message.created events`,
      120_000,
    );
    await t.step(
      `${total} messages give ${total} distinct message.created ids`,
      () => {
        assert.equal(new Set(created().map((e) => e.id)).size, total);
        for (const room of rooms) {
          const ids = created().filter((e) => e.room === room).map((e) =>
            Number(e.data.id)
          );
          assert.deepEqual(ids, ids.map((_, i) => i + 1));
        }
      },
    );
    await t.step("no event was delivered by two senders at once", () => {
      assert.deepEqual([...receiver.overlapping], []);
    });
  } finally {
    await Promise.all(started.map((server) => server.stop()));
  }
}

Deno.test({
  name:
    "two processes of two workers each on one Redis deliver each event once at a time",
  ignore: ignoreWithoutRedis,
  async fn(t) {
    await using redis = await startRedis();
    await exactlyOnce(t, 2, { REDIS_URL: redis.url }, 1000);
  },
});

Deno.test("two workers on one SQLite file deliver each event once at a time", async (t) => {
  const dir = await Deno.makeTempDir({ prefix: "chat-hooks-workers-" });
  await exactlyOnce(t, 1, { CHAT_DB: `${dir}/chat.db` }, 400);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("deno serve --parallel on one SQLite file delivers each event once at a time", async (t) => {
  const dir = await Deno.makeTempDir({ prefix: "chat-hooks-parallel-" });
  await exactlyOnce(
    t,
    1,
    { CHAT_DB: `${dir}/chat.db`, DENO_JOBS: "2" },
    200,
    SERVER.parallel(),
  );
  await Deno.remove(dir, { recursive: true });
});
