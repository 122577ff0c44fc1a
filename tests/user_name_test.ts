import assert from "node:assert/strict";
import { nameOwner, parseUserName } from "../chat/user_name.ts";
import { DEFAULTS } from "../testkit/defaults.ts";

const parse = (raw: string) => parseUserName(raw, DEFAULTS.reservedNames);

function refused(raw: string, reason: RegExp): void {
  const result = parse(raw);
  assert.ok(!result.ok, `${JSON.stringify(raw)} was accepted`);
  assert.match(result.error, reason, JSON.stringify(raw));
}

Deno.test("display names", async (t) => {
  await t.step("a refusal names the rule it broke, as a code", () => {
    const problems = [
      ["", "empty"],
      ["x".repeat(33), "too_long"],
      ["ali\u200Bce", "invisible"],
      ["\u0301\u0301", "nothing_visible"],
      ["\u0430lice", "mixed_scripts"],
      ["dee \u2714", "badge"],
      ["admin", "reserved"],
    ] as const;
    for (const [raw, problem] of problems) {
      const result = parse(raw);
      assert.ok(!result.ok, JSON.stringify(raw));
      assert.equal(result.problem, problem, JSON.stringify(raw));
    }
  });

  await t.step("are NFKC normalised, trimmed and spaces folded", () => {
    assert.deepEqual(parse("  ａｌｉｃｅ  "), { ok: true, name: "alice" });
    assert.deepEqual(parse("Zoe\u0301"), { ok: true, name: "Zoé" });
    assert.deepEqual(parse("a\u3000\u00A0  b"), { ok: true, name: "a b" });
    assert.deepEqual(parse("ﬁne"), { ok: true, name: "fine" });
  });

  await t.step("keep every script people write their names in", () => {
    for (
      const name of [
        "민수",
        "Kim 민수",
        "山田さん",
        "Σοφία",
        "Анна",
        "محمد",
        "🐱 cat",
        "d'Artagnan",
        "Ŝtefan",
      ]
    ) {
      assert.deepEqual(parse(name), { ok: true, name }, name);
    }
  });

  await t.step("refuse invisible, format and bidi-control characters", () => {
    refused("ali\u200Bce", /invisible/);
    refused("\u202Eecila", /invisible/);
    refused("alice\u2066", /invisible/);
    refused("al\uFEFFice", /invisible/);
    assert.deepEqual(parse("\uFEFFalice"), { ok: true, name: "alice" });
    refused("al\u00ADice", /invisible/);
    refused("a\u2028b", /invisible/);
    refused("tab\there", /invisible/);
  });

  await t.step("refuse names that show nothing", () => {
    refused("\u200B", /invisible/);
    refused("   ", /empty/);
    refused("\u0301\u0301", /no visible/);
  });

  await t.step("refuse lookalike scripts mixed in one name", () => {
    refused("\u0430lice", /Latin and Cyrillic|Cyrillic and Latin/);
    refused("p\u0430ypal", /Cyrillic/);
    refused("\u03BFscar", /Greek/);
  });

  await t.step(
    "refuse reserved names in any case, and the list is a setting",
    () => {
      refused("system", /reserved/);
      refused("Server", /reserved/);
      refused("ADMIN", /reserved/);
      refused("Moderator", /reserved/);
      assert.ok(parseUserName("system", []).ok);
      assert.ok(!parseUserName("Bot", ["bot"]).ok);
    },
  );

  await t.step("refuse names that look like a reserved one", () => {
    refused("adm\u0131n", /looks like "admin", which is reserved/);
    refused("moderator.", /looks like "moderator"/);
    refused("m o d e r a t o r", /looks like "moderator"/);
    refused("\u0455\u0443\u0455\u0442\u0435\u043C", /looks like "system"/);
    refused("S E R V E R", /looks like "server"/);
    assert.ok(parse("moderators").ok);
    assert.ok(parse("sys").ok);
  });

  await t.step("refuse check marks and other imitations of the badge", () => {
    for (
      const badge of [
        "\u2713",
        "\u2714",
        "\u2714\uFE0F",
        "\u2611",
        "\u2705",
        "\u{1F5F8}",
        "\u{1F5F9}",
        "\u221A",
        "\u{1FBB1}",
        "\u{10102}",
      ]
    ) {
      refused(`Alice ${badge}`, /imitates the mark of a verified user/);
    }
    assert.ok(parse("Alice \u2605").ok, "other symbols are names' business");
  });

  await t.step("refuse names over 32 characters", () => {
    refused("x".repeat(33), /longer than 32/);
    assert.ok(parse("x".repeat(32)).ok);
  });

  await t.step(
    "owners: one per browser key, hashed; one per keyless socket",
    async () => {
      const key = "a-browser-key-0123456789";
      assert.equal(await nameOwner(key), await nameOwner(key));
      assert.notEqual(await nameOwner(key), await nameOwner(`${key}x`));
      assert.ok(!(await nameOwner(key)).includes(key), "the key is not stored");
      assert.notEqual(await nameOwner(undefined), await nameOwner(undefined));
    },
  );
});
