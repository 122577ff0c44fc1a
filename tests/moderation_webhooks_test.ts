/**
 * The webhook events of the moderation actions that are not sanctions, on a
 * real server: a delete through the server API is reported as
 * `message.deleted` and then `moderation.deleted` (who did it), a
 * disconnect as `moderation.disconnected`, each signed. (The store writes
 * them with the audit entry: tests/moderation_audit_test.ts.)
 *
 * @module
 */

import assert from "node:assert/strict";
import { apiExpect, MODERATION_API_KEY } from "../testkit/moderation_api.ts";
import { startServer, uniqueRoom } from "../testkit/server.ts";
import { TestClient } from "../testkit/test_client.ts";
import { startWebhookReceiver } from "../testkit/webhook_receiver.ts";
import {
  assertAttemptsVerify,
  SECRET,
  webhookSettings,
} from "../testkit/webhooks.ts";

Deno.test("an API delete and a disconnect reach the webhook receiver as moderation events, signed", async (t) => {
  await using receiver = await startWebhookReceiver({ secret: SECRET });
  await using server = await startServer({
    ...webhookSettings(receiver.url),
    CHAT_API_KEY: MODERATION_API_KEY,
  });
  const room = uniqueRoom("mod-hooks");
  const troll = await TestClient.join(
    server.wsUrl(`/ws/chat/${room}/?name=troll&key=troll-browser-key-01`),
  );
  troll.send({ type: "message", message: "spam" });
  const [sent] = await troll.waitForType("message", 1);
  const id = Number(sent?.id);
  assert.ok(id > 0);

  await apiExpect(server, 204, "DELETE", `/api/rooms/${room}/messages/${id}`);
  const disconnected = await apiExpect(
    server,
    200,
    "POST",
    `/api/rooms/${room}/disconnect`,
    { user: "troll" },
  );
  assert.equal(disconnected.closed, 1);
  await troll.closed;
  await receiver.waitFor(
    (events) =>
      events.some((e) =>
        e.room === room && e.type === "moderation.disconnected"
      ),
    "the disconnect event",
  );
  const events = receiver.events.filter((e) =>
    e.room === room &&
    (e.type === "message.deleted" || e.type.startsWith("moderation."))
  );

  await t.step(
    "the delete is message.deleted then moderation.deleted by api, the disconnect moderation.disconnected",
    () => {
      assert.deepEqual(events.map((e) => [e.type, e.data]), [
        ["message.deleted", { id }],
        ["moderation.deleted", { id, actor: "api" }],
        ["moderation.disconnected", { user: "troll", actor: "api" }],
      ]);
    },
  );

  await t.step(
    "each of them verifies with standardwebhooks",
    () => assertAttemptsVerify(receiver.attempts, events),
  );
});
