import assert from "node:assert/strict";
import { Webhook } from "standardwebhooks";
import { startServer, uniqueRoom, waitUntil } from "../testkit/server.ts";
import { TestClient } from "../testkit/test_client.ts";
import { startWebhookReceiver } from "../testkit/webhook_receiver.ts";
import {
  API_KEY,
  onSqliteAndRedis,
  SECRET,
  webhookSettings,
} from "../testkit/webhooks.ts";

async function everyEventType(
  t: Deno.TestContext,
  store: Record<string, string>,
): Promise<void> {
  await using receiver = await startWebhookReceiver({ secret: SECRET });
  await using server = await startServer({
    ...webhookSettings(receiver.url),
    CHAT_API_KEY: API_KEY,
    ...store,
  });
  const room = uniqueRoom("hooks");
  const alice = await TestClient.join(
    server.wsUrl(`/ws/chat/${room}?name=alice`),
  );
  alice.send({ type: "message", message: "hello", cid: "c1" });
  await alice.waitForType("message", 1);
  alice.send({ type: "rename", name: "alicia" });
  await receiver.waitFor(
    (events) => events.some((e) => e.type === "member.renamed"),
    "the rename event",
  );
  const [message] = alice.ofType("message");
  const deleted = await fetch(
    `${server.origin}/api/rooms/${room}/messages/${message?.id}`,
    { method: "DELETE", headers: { authorization: `Bearer ${API_KEY}` } },
  );
  assert.equal(deleted.status, 204);
  await alice.close();
  await receiver.waitFor(
    (events) => events.some((e) => e.type === "member.left"),
    "the leave event",
  );

  await t.step("each type arrives once, in the order it happened", () => {
    assert.deepEqual(receiver.events.map((e) => e.type), [
      "member.joined",
      "room.created",
      "message.created",
      "member.renamed",
      "message.deleted",
      "moderation.deleted",
      "member.left",
    ]);
    for (const event of receiver.events) {
      assert.equal(event.room, room);
      assert.match(event.id, /^evt_[0-9a-f]{32}$/);
      assert.ok(!Number.isNaN(Date.parse(event.ts)));
    }
  });

  await t.step(
    "payloads carry the message frame, the member or the actor",
    () => {
      const byType = new Map(receiver.events.map((e) => [e.type, e.data]));
      assert.deepEqual(byType.get("member.joined"), {
        name: "alice",
        verified: false,
      });
      assert.equal(byType.get("message.created")?.message, "hello");
      assert.equal(byType.get("message.created")?.cid, "c1");
      assert.equal(byType.get("message.created")?.type, "message");
      assert.deepEqual(
        byType.get("room.created"),
        byType.get("message.created"),
      );
      assert.deepEqual(byType.get("member.renamed"), {
        name: "alicia",
        from: "alice",
        verified: false,
      });
      assert.deepEqual(byType.get("message.deleted"), { id: message?.id });
      assert.deepEqual(byType.get("moderation.deleted"), {
        id: message?.id,
        actor: "api",
      });
      assert.deepEqual(byType.get("member.left"), {
        name: "alicia",
        verified: false,
      });
    },
  );

  await t.step("every attempt verifies with standardwebhooks", () => {
    assert.ok(receiver.attempts.length >= 7);
    assert.ok(receiver.attempts.every((a) => a.verified));
  });

  await t.step("a tampered body does not verify", () => {
    const attempt = receiver.attempts[0];
    assert.ok(attempt);
    const webhook = new Webhook(SECRET);
    assert.doesNotThrow(() => webhook.verify(attempt.body, attempt.headers));
    assert.throws(() =>
      webhook.verify(attempt.body.replace("alice", "mallory"), attempt.headers)
    );
  });

  await t.step(
    "health reports an empty backlog once all is delivered",
    async () => {
      await waitUntil(async () => {
        const health = await (await fetch(`${server.origin}/healthz`)).json();
        return health.webhooks?.pending === 0;
      }, "an empty backlog");
    },
  );
}

onSqliteAndRedis(
  "every event type reaches the receiver signed, and a tampered body fails verification",
  everyEventType,
);

Deno.test("without CHAT_WEBHOOK_URL nothing of webhooks runs or shows", async () => {
  await using server = await startServer({ CHAT_API_KEY: API_KEY });
  assert.equal(server.chat.store.outbox, undefined);
  const health = await (await fetch(`${server.origin}/healthz`)).json();
  assert.equal(health.webhooks, undefined);
  const metrics = await (await fetch(`${server.origin}/metrics`)).text();
  assert.ok(!metrics.includes("chat_webhook_"));
});
