import assert from "node:assert/strict";
import { checkOrigin } from "../routes/origin.ts";

const open = { allowedOrigins: [], requireOrigin: false };

Deno.test("origin check", async (t) => {
  await t.step("allows the page's own host", () => {
    assert.deepEqual(
      checkOrigin("http://chat.example:8000", "chat.example:8000", open),
      { ok: true },
    );
    assert.deepEqual(
      checkOrigin("https://Chat.Example", "chat.example", open),
      { ok: true },
    );
  });

  await t.step("refuses other origins with a reason", () => {
    const decision = checkOrigin("https://evil.example", "chat.example", open);
    assert.ok(!decision.ok);
    assert.match(
      decision.reason,
      /https:\/\/evil\.example is neither this host \(chat\.example\) nor in ALLOWED_ORIGINS/,
    );
    assert.ok(
      !checkOrigin("http://chat.example:9999", "chat.example:8000", open).ok,
      "another port",
    );
    assert.ok(!checkOrigin("null", "chat.example", open).ok, "opaque origin");
  });

  await t.step("allows listed origins, or all with *", () => {
    const listed = {
      allowedOrigins: ["https://app.example"],
      requireOrigin: false,
    };
    assert.ok(checkOrigin("https://app.example", "chat.example", listed).ok);
    assert.ok(!checkOrigin("https://other.example", "chat.example", listed).ok);
    const all = { allowedOrigins: ["*"], requireOrigin: false };
    assert.ok(checkOrigin("https://anything.example", "chat.example", all).ok);
  });

  await t.step("allows a missing Origin unless it is required", () => {
    assert.ok(checkOrigin(undefined, "chat.example", open).ok);
    const strict = { allowedOrigins: [], requireOrigin: true };
    const decision = checkOrigin(undefined, "chat.example", strict);
    assert.ok(!decision.ok);
    assert.match(decision.reason, /CHAT_REQUIRE_ORIGIN/);
  });
});
