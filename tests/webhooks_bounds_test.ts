import assert from "node:assert/strict";
import { SERVER, startServerProcess } from "../testkit/process.ts";
import { storedMessages, uniqueRoom, waitUntil } from "../testkit/server.ts";
import { logRecords } from "../testkit/workers.ts";
import { startWebhookReceiver } from "../testkit/webhook_receiver.ts";
import {
  onSqliteAndRedis,
  postMessages,
  SECRET,
  webhookEnv,
} from "../testkit/webhooks.ts";

/** The value of the unlabelled series `name` in `/metrics` of `origin`. */
async function metric(origin: string, name: string): Promise<number> {
  const text = await (await fetch(`${origin}/metrics`)).text();
  const line = text.split("\n").find((l) => l.startsWith(`${name} `));
  return Number(line?.split(" ")[1]);
}

async function health(origin: string) {
  const response = await fetch(`${origin}/healthz`);
  return { status: response.status, body: await response.json() };
}

async function neverAnswers(
  t: Deno.TestContext,
  store: Record<string, string>,
): Promise<void> {
  await using receiver = await startWebhookReceiver({
    secret: SECRET,
    answer: () => "hang",
  });
  const dir = await Deno.makeTempDir({ prefix: "chat-hooks-bounds-" });
  await using server = await startServerProcess({
    args: SERVER.run(),
    env: webhookEnv(`${dir}/chat.db`, receiver.url, {
      CHAT_WEBHOOK_MAX_EVENTS: "50",
      ...store,
    }),
  });
  const room = uniqueRoom("bounds");
  const texts = Array.from({ length: 120 }, (_, i) => `m ${i}`);
  await postMessages(server.origin, room, texts);

  await t.step("the oldest events past the maximum are dropped", async () => {
    // 121 events: the room's and its 120 messages'.
    await waitUntil(
      async () =>
        await metric(server.origin, "chat_webhook_dropped_total") === 71,
      "71 dropped events",
    );
    assert.equal(await metric(server.origin, "chat_webhook_pending"), 50);
    assert.equal(
      await metric(server.origin, "chat_webhook_delivered_total"),
      0,
    );
    assert.ok(await metric(server.origin, "chat_webhook_failed_total") >= 1);
  });

  await t.step("/healthz answers 200 and reports the backlog", async () => {
    const { status, body } = await health(server.origin);
    assert.equal(status, 200);
    assert.equal(body.status, "ok");
    assert.equal(body.webhooks.pending, 50);
    assert.deepEqual(body.webhooks.failing, [receiver.url]);
  });

  await t.step("the chat keeps every message", async () => {
    const stored = await storedMessages(server, room);
    assert.equal(stored.length, 120);
  });

  await t.step("the drop is one log line, the failure another", async () => {
    await server.waitForOutput(/webhook\.events_dropped/);
    const records = logRecords(server.output());
    const dropped = records.filter((r) => r.event === "webhook.events_dropped");
    assert.equal(dropped.length, 1);
    assert.equal(
      records.filter((r) => r.event === "webhook.receiver_failing").length,
      1,
    );
  });
  await server.stop();
  await Deno.remove(dir, { recursive: true });
}

onSqliteAndRedis(
  "a receiver that never answers: the outbox stays within its bounds, the chat stays healthy, the metrics show the backlog",
  neverAnswers,
);

Deno.test("events older than CHAT_WEBHOOK_MAX_AGE are dropped; the messages stay", async () => {
  const dir = await Deno.makeTempDir({ prefix: "chat-hooks-age-" });
  await using server = await startServerProcess({
    args: SERVER.run(),
    // Nothing listens at this address: every attempt fails at once.
    env: webhookEnv(`${dir}/chat.db`, "http://127.0.0.1:9/hooks", {
      CHAT_WEBHOOK_MAX_AGE: "1s",
    }),
  });
  const room = uniqueRoom("age");
  await postMessages(server.origin, room, ["one", "two", "three"]);
  await waitUntil(
    async () => await metric(server.origin, "chat_webhook_dropped_total") === 4,
    "4 events dropped for age",
  );
  assert.equal((await health(server.origin)).body.webhooks.pending, 0);
  assert.equal((await storedMessages(server, room)).length, 3);
  await server.stop();
  await Deno.remove(dir, { recursive: true });
});
