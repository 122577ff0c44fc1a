import assert from "node:assert/strict";
import { receiverLabel, retryDelay } from "../adapters/webhooks/sender.ts";
import { parseWebhookUrls, receiverKey } from "../adapters/webhooks/config.ts";
import { memberData, messageEvents } from "../chat/webhook_events.ts";
import { signedOwner } from "../chat/user_name.ts";
import { parseRoomName } from "../chat/room_name.ts";

Deno.test("retries wait a random time up to a doubling ceiling, capped", async (t) => {
  const limits = { baseMs: 100, maxMs: 1000 };
  await t.step("the ceiling doubles with each failed attempt", () => {
    const almostOne = () => 0.999999;
    assert.deepEqual(
      [1, 2, 3, 4, 5, 6].map((n) => retryDelay(n, limits, almostOne)),
      [99, 199, 399, 799, 999, 999],
    );
  });
  await t.step("full jitter: the wait may be anything from 0", () => {
    assert.equal(retryDelay(5, limits, () => 0), 0);
    assert.equal(retryDelay(3, limits, () => 0.5), 200);
  });
});

Deno.test("a receiver URL is logged and stored without what it carries", () => {
  assert.equal(
    receiverLabel("https://user:pass@site.example/hooks?token=secret"),
    "https://site.example/hooks",
  );
  const key = receiverKey("https://site.example/hooks?token=secret");
  assert.match(key, /^[0-9a-f]{24}$/);
  assert.ok(!key.includes("secret"));
});

Deno.test("webhook URLs are http(s), each once", () => {
  assert.deepEqual(parseWebhookUrls("https://a.example/x, http://b:8/y"), [
    "https://a.example/x",
    "http://b:8/y",
  ]);
  assert.equal(parseWebhookUrls("ftp://a.example/x"), undefined);
  assert.equal(parseWebhookUrls("https://a.example/x,"), undefined);
  assert.equal(
    parseWebhookUrls("https://a.example/x,https://a.example/x"),
    undefined,
  );
});

Deno.test("event payloads name a signed member's sub and never its key", () => {
  assert.deepEqual(memberData("ana", signedOwner("user-7")), {
    name: "ana",
    verified: true,
    sub: "user-7",
  });
  assert.deepEqual(memberData("guest-1", "key:0123abcd"), {
    name: "guest-1",
    verified: false,
  });
  const parsed = parseRoomName("lobby");
  assert.ok(parsed.ok);
  const at = new Date("2026-01-02T03:04:05Z");
  const message = {
    id: 1,
    room: parsed.name,
    user: "ana",
    message: "hi",
    ts: at.toISOString(),
  };
  assert.deepEqual(
    messageEvents(message, at).map((e) => e.type),
    ["room.created", "message.created"],
  );
  assert.deepEqual(
    messageEvents({ ...message, id: 2 }, at).map((e) => e.type),
    ["message.created"],
  );
});
