import assert from "node:assert/strict";
import { checkOrigin } from "../http/origin.ts";

const open = { allowedOrigins: [], requireOrigin: false };

Deno.test("origin check", async (t) => {
  await t.step("allows the page's own origin", () => {
    assert.deepEqual(
      checkOrigin("http://chat.example:8000", "http://chat.example:8000", open),
      { ok: true },
    );
    assert.deepEqual(
      checkOrigin("https://Chat.Example", "https://chat.example", open),
      { ok: true },
    );
  });

  await t.step("compares scheme, host and port", () => {
    const page = "http://chat.example:8000";
    assert.ok(!checkOrigin("https://chat.example:8000", page, open).ok);
    assert.ok(!checkOrigin("ftp://chat.example:8000", page, open).ok);
    assert.ok(!checkOrigin("http://chat.example:9999", page, open).ok);
    assert.ok(!checkOrigin("http://chat.example", page, open).ok);
  });

  await t.step("refuses other origins with a reason", () => {
    const decision = checkOrigin(
      "https://evil.example",
      "https://chat.example",
      open,
    );
    assert.ok(!decision.ok);
    assert.match(
      decision.reason,
      /https:\/\/evil\.example is neither this page's origin \(https:\/\/chat\.example\) nor in ALLOWED_ORIGINS/,
    );
    assert.ok(
      !checkOrigin("null", "https://chat.example", open).ok,
      "opaque origin",
    );
  });

  await t.step("allows listed origins, or all with *", () => {
    const listed = {
      allowedOrigins: ["https://app.example"],
      requireOrigin: false,
    };
    const page = "https://chat.example";
    assert.ok(checkOrigin("https://app.example", page, listed).ok);
    assert.ok(!checkOrigin("https://other.example", page, listed).ok);
    const all = { allowedOrigins: ["*"], requireOrigin: false };
    assert.ok(checkOrigin("https://anything.example", page, all).ok);
  });

  await t.step("allows a missing Origin unless it is required", () => {
    assert.ok(checkOrigin(undefined, "https://chat.example", open).ok);
    const strict = { allowedOrigins: [], requireOrigin: true };
    const decision = checkOrigin(undefined, "https://chat.example", strict);
    assert.ok(!decision.ok);
    assert.match(decision.reason, /CHAT_REQUIRE_ORIGIN/);
  });
});
