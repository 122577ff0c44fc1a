import assert from "node:assert/strict";
import { parseRoomName } from "../chat/room_name.ts";

Deno.test("room names", async (t) => {
  await t.step("accepts ASCII, Korean and accented names", () => {
    for (const name of ["room_1", "잡담", "café", "a-b.c", "x".repeat(100)]) {
      const parsed = parseRoomName(name);
      assert.ok(parsed.ok, `${name} should be valid`);
      assert.equal(parsed.name, name);
    }
  });

  await t.step("normalises to NFC before checking", () => {
    const decomposed = "cafe\u0301";
    const parsed = parseRoomName(decomposed);
    assert.ok(parsed.ok);
    assert.equal(parsed.name, "café");
    assert.equal(parsed.name.length, 4);
  });

  await t.step("counts characters, not UTF-16 units", () => {
    assert.ok(parseRoomName("잡".repeat(100)).ok);
    assert.ok(parseRoomName("𝒳".repeat(100)).ok);
    assert.ok(!parseRoomName("𝒳".repeat(101)).ok);
  });

  await t.step("refuses empty, whitespace, slashes, dots and 101 chars", () => {
    const cases: [string, RegExp][] = [
      ["", /empty/],
      [" ", /only contain/],
      ["a b", /only contain/],
      ["a/b", /only contain/],
      ["<script>", /only contain/],
      ["%41", /only contain/],
      [".", /only dots/],
      ["..", /only dots/],
      ["x".repeat(101), /longer than 100 characters \(101\)/],
    ];
    for (const [name, reason] of cases) {
      const parsed = parseRoomName(name);
      assert.ok(!parsed.ok, `${JSON.stringify(name)} should be invalid`);
      assert.match(parsed.error, reason);
    }
  });
});
