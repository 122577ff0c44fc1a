import assert from "node:assert/strict";
import { nameKey, skeleton } from "../chat/name_key.ts";

/** Asserts that every name of `names` has one key. */
function alike(...names: string[]): void {
  const keys = names.map(nameKey);
  assert.deepEqual(keys, keys.map(() => keys[0]), names.join(" / "));
}

function unlike(a: string, b: string): void {
  assert.notEqual(nameKey(a), nameKey(b), `${a} / ${b}`);
}

Deno.test("name keys", async (t) => {
  await t.step("the skeleton is TR39's: look-alike letters map to one", () => {
    assert.equal(skeleton("\u0391lice"), "Alice"); // Greek Alpha
    assert.equal(skeleton("m"), "rn");
    assert.equal(skeleton("\u0131"), "i"); // dotless i
  });

  await t.step("case does not count", () => {
    alike("alice", "Alice", "ALICE", "aLiCe");
    alike("Straße", "STRASSE", "strasse");
  });

  await t.step("look-alike letters and digits do not count", () => {
    alike("alice", "\u0391lice", "\u13AAlice"); // Greek Alpha, Cherokee A
    alike("admin", "adm\u0131n", "ADMIN"); // dotless i
    alike("bob", "b0b", "B0B");
    alike("modern", "rnodern");
    alike("Ian", "lan", "1an"); // capital I, small l, one
  });

  await t.step("a name in another script that looks Latin is Latin", () => {
    // Cyrillic small letters: т and м look like small capitals.
    alike("system", "\u0455\u0443\u0455\u0442\u0435\u043C", "SYSTEM");
    alike("\u0405\u0423\u0405\u0422\u0415\u041C", "system");
    alike("server", "\u0455\u0435r\u0432\u0435r".replace("\u0432", "v"));
  });

  await t.step("punctuation, symbols and spaces do not count", () => {
    alike(
      "moderator",
      "moderator.",
      "mod erator",
      "-moderator-",
      "m.o.d.e.r.a.t.o.r",
    );
    alike("Alice", "Alice \u2605", "(Alice)");
  });

  await t.step("a name of symbols only keeps them", () => {
    unlike("\u{1F642}", "\u{1F431}");
    alike("...", "...");
    unlike("...", "..");
  });

  await t.step("names that look different stay apart", () => {
    unlike("alice", "alicia");
    unlike("José", "Jose"); // the accent shows
    unlike("민수", "민준");
    unlike("guest-1a2b", "guest-1a2c");
    alike("민수", "민수");
  });
});
