import assert from "node:assert/strict";
import { freePort, SERVER, startServerProcess } from "../testkit/process.ts";
import { uniqueRoom, waitUntil } from "../testkit/server.ts";
import { logRecords } from "../testkit/workers.ts";
import { ignoreWithoutRedis, startRedis } from "../testkit/redis.ts";
import {
  type ReceivedEvent,
  startWebhookReceiver,
} from "../testkit/webhook_receiver.ts";
import {
  messageIds,
  postMessages,
  SECRET,
  webhookEnv,
} from "../testkit/webhooks.ts";

Deno.test("a receiver that fails twice, then times out, then answers gets every event in order per room, with one webhook-id on every attempt", async (t) => {
  // The fifth and tenth message of each room are answered 500, 500, no
  // answer, then 200; the others at once.
  const flaky = (body: string) => /"message":"flaky /.test(body);
  const sequence = [500, 500, "hang", 200] as const;
  await using receiver = await startWebhookReceiver({
    secret: SECRET,
    answer: ({ attempt, body }) =>
      flaky(body) && body.includes('"type":"message.created"')
        ? sequence[attempt - 1] ?? 200
        : 200,
  });
  const dir = await Deno.makeTempDir({ prefix: "chat-hooks-retry-" });
  await using server = await startServerProcess({
    args: SERVER.run(),
    env: webhookEnv(`${dir}/chat.db`, receiver.url),
  });
  const rooms = [uniqueRoom("a"), uniqueRoom("b"), uniqueRoom("c")];
  const texts = Array.from(
    { length: 12 },
    (_, i) => i === 4 || i === 9 ? `flaky ${i}` : `m ${i}`,
  );
  await Promise.all(
    rooms.map((room) => postMessages(server.origin, room, texts)),
  );
  const created = (events: ReceivedEvent[], room: string) =>
    events.filter((e) => e.type === "message.created" && e.room === room);
  await receiver.waitFor(
    (events) => rooms.every((room) => created(events, room).length === 12),
    "every message.created",
  );

  await t.step("each room's events arrive in id order, each once", () => {
    for (const room of rooms) {
      const events = created(receiver.events, room);
      assert.deepEqual(messageIds(events), texts.map((_, i) => i + 1));
      assert.deepEqual(events.map((e) => e.data.message), texts);
    }
  });

  await t.step(
    "no later event of a room is tried before an earlier one got through",
    () => {
      for (const room of rooms) {
        const tried = receiver.attempts
          .map((a) => JSON.parse(a.body))
          .filter((p) => p.type === "message.created" && p.room === room)
          .map((p) => Number(p.data.id));
        assert.deepEqual(tried, [...tried].sort((a, b) => a - b));
      }
    },
  );

  await t.step(
    "every attempt at an event carries its id and the same body",
    () => {
      const flakyIds = receiver.events
        .filter((e) => e.type === "message.created" && flaky(JSON.stringify(e)))
        .map((e) => e.id);
      assert.equal(flakyIds.length, 6);
      for (const id of flakyIds) {
        const attempts = receiver.attempts.filter((a) => a.id === id);
        assert.deepEqual(attempts.map((a) => a.answer), [...sequence]);
        assert.equal(new Set(attempts.map((a) => a.body)).size, 1);
        assert.ok(attempts.every((a) => a.verified));
        assert.equal(JSON.parse(attempts[0]?.body ?? "{}").id, id);
      }
      for (const attempt of receiver.attempts) {
        assert.equal(
          JSON.parse(attempt.body).id,
          attempt.headers["webhook-id"],
        );
      }
    },
  );

  await t.step(
    "failures are logged per run of failures, not per attempt",
    async () => {
      await server.waitForOutput(/webhook\.receiver_recovered/);
      const records = logRecords(server.output());
      const failing = records.filter((r) =>
        r.event === "webhook.receiver_failing"
      );
      assert.ok(failing.length >= 1);
      // 18 attempts failed; each run of failures logs once.
      assert.ok(failing.length <= 6, `${failing.length} failure lines`);
      assert.ok(!server.output().includes(SECRET.slice(6)));
    },
  );

  await t.step("the metrics count the failures and retries", async () => {
    const text = await (await fetch(`${server.origin}/metrics`)).text();
    const value = (name: string) =>
      Number(text.match(new RegExp(`^${name} (\\d+)`, "m"))?.[1]);
    assert.equal(value("chat_webhook_failed_total"), 18);
    assert.equal(value("chat_webhook_retried_total"), 18);
    assert.ok(value("chat_webhook_delivered_total") >= 36);
  });
  await Deno.remove(dir, { recursive: true });
});

Deno.test("kill -9 with 200 events pending: after a restart every one is delivered", async () => {
  const dir = await Deno.makeTempDir({ prefix: "chat-hooks-kill-" });
  const port = freePort();
  const url = `http://127.0.0.1:${port}/hooks`;
  const env = webhookEnv(`${dir}/chat.db`, url);
  const room = uniqueRoom("kill");
  const texts = Array.from({ length: 200 }, (_, i) => `pending ${i}`);
  {
    // No receiver on the port yet: every attempt fails.
    await using server = await startServerProcess({
      args: SERVER.run(),
      env,
    });
    await postMessages(server.origin, room, texts);
    await waitUntil(async () => {
      const health = await (await fetch(`${server.origin}/healthz`)).json();
      return health.status === "ok" && health.webhooks?.pending >= 201;
    }, "a backlog of 201 events (the room and its 200 messages)");
    await server.waitForOutput(/webhook\.receiver_failing/);
    await server.stop("SIGKILL");
  }
  await using receiver = await startWebhookReceiver({ secret: SECRET, port });
  await using server = await startServerProcess({ args: SERVER.run(), env });
  await receiver.waitFor(
    (events) =>
      events.filter((e) => e.type === "message.created").length >= 200,
    "all 200 message.created events",
    60_000,
  );
  const created = receiver.events.filter((e) => e.type === "message.created");
  assert.deepEqual(messageIds(created), texts.map((_, i) => i + 1));
  assert.equal(new Set(created.map((e) => e.id)).size, 200);
  assert.equal(
    receiver.events.filter((e) => e.type === "room.created").length,
    1,
  );
  await waitUntil(async () => {
    const health = await (await fetch(`${server.origin}/healthz`)).json();
    return health.webhooks?.pending === 0;
  }, "an empty outbox");
  await server.stop();
  await Deno.remove(dir, { recursive: true });
});

Deno.test({
  name:
    "a process killed mid-delivery leaves its room to another process once the lease expires",
  ignore: ignoreWithoutRedis,
  async fn() {
    await using redis = await startRedis();
    let answering = false;
    await using receiver = await startWebhookReceiver({
      secret: SECRET,
      answer: () => answering ? 200 : "hang",
    });
    const env = webhookEnv(":memory:", receiver.url, {
      REDIS_URL: redis.url,
      // The first process dies well within its attempt's 5 s, holding the
      // room's lease (11 s: two timeouts and a second).
      CHAT_WEBHOOK_TIMEOUT_MS: "5000",
    });
    const room = uniqueRoom("lease");
    {
      await using first = await startServerProcess({ args: SERVER.run(), env });
      await postMessages(first.origin, room, ["held"]);
      await waitUntil(
        () => receiver.attempts.length >= 1,
        "the first attempt under way",
      );
      await first.stop("SIGKILL");
    }
    const held = receiver.attempts[0]?.id;
    answering = true;
    // Another process, with a short timeout of its own, gets the room
    // once the dead one's lease expires.
    await using second = await startServerProcess({
      args: SERVER.run(),
      env: { ...env, CHAT_WEBHOOK_TIMEOUT_MS: "300" },
    });
    await receiver.waitFor(
      (events) => events.some((e) => e.type === "message.created"),
      "the message.created event",
      30_000,
    );
    assert.equal(receiver.events[0]?.id, held);
    assert.deepEqual(receiver.events.map((e) => e.type), [
      "room.created",
      "message.created",
    ]);
    await second.stop();
  },
});
