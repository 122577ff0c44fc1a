import assert from "node:assert/strict";
import { SignJWT } from "jose";
import { startServer, uniqueRoom } from "../testkit/server.ts";
import { type Frame, TestClient } from "../testkit/test_client.ts";

const SECRET = "site-and-chat-share-this-32-byte-secret";

/** Presence frames of the raw stream naming `names`, other than renames. */
function joinsAndLeaves(client: TestClient, names: string[]): unknown[] {
  return client.rawFrames.filter((frame) => {
    const text = JSON.stringify(frame);
    return /"type":"(join|leave|presence_change)"/.test(text) &&
      names.some((name) => text.includes(`"${name}"`));
  });
}

/**
 * Whether the announcement of `name`'s join said it is verified, whether
 * it came alone (`join`) or with others (`presence_change`).
 */
async function joinedVerified(
  client: TestClient,
  name: string,
): Promise<boolean> {
  await client.waitForMatching((f) => f.type === "join" && f.user === name, 1);
  for (const frame of client.rawFrames) {
    if (typeof frame !== "object" || frame === null) continue;
    if ("type" in frame && frame.type === "join" && "user" in frame) {
      if (frame.user === name && "verified" in frame) {
        return frame.verified === true;
      }
    }
    if (
      "type" in frame && frame.type === "presence_change" &&
      "joined" in frame && Array.isArray(frame.joined) &&
      frame.joined.includes(name) && "verified" in frame &&
      Array.isArray(frame.verified)
    ) {
      return frame.verified.includes(name);
    }
  }
  throw new Error(`No announcement of ${name} with a verified field`);
}

/** Waits for the message `text` and returns its frame. */
async function messageNamed(client: TestClient, text: string): Promise<Frame> {
  const [frame] = await client.waitForMatching(
    (f) => f.type === "message" && f.message === text,
    1,
  );
  assert.ok(frame);
  return frame;
}

Deno.test("renaming in a room", async (t) => {
  // Two servers on one database file: the rename crosses isolates.
  const dir = await Deno.makeTempDir({ prefix: "chat-rename-" });
  try {
    const env = { CHAT_DB: `${dir}/chat.db` };
    await using a = await startServer(env);
    await using b = await startServer(env);

    await t.step(
      "a rename is one rename frame everywhere, and later messages carry the new name",
      async () => {
        const room = uniqueRoom("rename");
        await using watcher = await TestClient.join(
          b.wsUrl(`/ws/chat/${room}/?name=watcher`),
        );
        await using ana = await TestClient.join(
          a.wsUrl(`/ws/chat/${room}/?name=ana&key=ana-browser-key-00001`),
        );
        await watcher.waitForMatching(
          (f) => f.type === "join" && f.user === "ana",
          1,
        );
        ana.send({ type: "rename", name: "Anna Kim" });
        const [renamed] = await watcher.waitForType("rename", 1);
        assert.deepEqual(renamed, {
          type: "rename",
          from: "ana",
          to: "Anna Kim",
          verified: false,
        });
        // The renamer learns its new name from a fresh presence frame.
        const [, fresh] = await ana.waitForType("presence", 2);
        assert.equal(fresh?.you, "Anna Kim");
        const names = (fresh?.users as { name: string }[]).map((u) => u.name);
        assert.deepEqual(names.sort(), ["Anna Kim", "watcher"]);
        ana.send({ type: "message", message: "after the rename" });
        const message = await messageNamed(watcher, "after the rename");
        assert.equal(message.user, "Anna Kim");
        assert.deepEqual(
          joinsAndLeaves(watcher, ["Anna Kim"]),
          [],
          "no join or leave for a rename",
        );
        const listed = await fetch(
          `${a.origin}/api/rooms/${room}/presence`,
        ).then((response) => response.json());
        assert.deepEqual(
          listed.users.map((u: { name: string }) => u.name).sort(),
          ["Anna Kim", "watcher"],
        );
      },
    );

    await t.step(
      "a name another browser holds is refused and the old name kept",
      async () => {
        const room = uniqueRoom("rename-taken");
        await using holder = await TestClient.join(
          a.wsUrl(`/ws/chat/${room}/?name=bo&key=bo-browser-key-000001`),
        );
        await using other = await TestClient.join(
          b.wsUrl(`/ws/chat/${room}/?name=cy&key=cy-browser-key-000001`),
        );
        other.send({ type: "rename", name: "bo" });
        const [error] = await other.waitForType("error", 1);
        assert.equal(error?.code, "name_taken");
        other.send({ type: "message", message: "still cy" });
        const message = await messageNamed(holder, "still cy");
        assert.equal(message.user, "cy");
        assert.equal(holder.ofType("rename").length, 0);
      },
    );

    await t.step(
      "names are checked as ?name= is: reserved or like it, invisible, lookalike, badge",
      async () => {
        const room = uniqueRoom("rename-bad");
        await using guest = await TestClient.join(
          a.wsUrl(`/ws/chat/${room}/?name=dee`),
        );
        const bad = [
          "System",
          "adm\u0131n",
          "moderator.",
          "ali\u200Bce",
          "\u202Eecila",
          "\u0430lice",
          "dee \u2713",
          "",
        ];
        for (const name of bad) guest.send({ type: "rename", name });
        const errors = await guest.waitForType("error", bad.length);
        assert.deepEqual(
          errors.map((e) => e.code),
          bad.map(() => "bad_name"),
        );
        // Which rule each broke, for the page to say in its reader's words.
        assert.deepEqual(errors.map((e) => e.reason), [
          "reserved",
          "reserved",
          "reserved",
          "invisible",
          "invisible",
          "mixed_scripts",
          "badge",
          "empty",
        ]);
        guest.send({ type: "message", message: "marker" });
        assert.equal((await messageNamed(guest, "marker")).user, "dee");
        assert.equal(guest.ofType("rename").length, 0);
      },
    );

    await t.step(
      "full-width letters are the plain name after a rename",
      async () => {
        const room = uniqueRoom("rename-nfkc");
        await using guest = await TestClient.join(
          a.wsUrl(`/ws/chat/${room}/?name=eve`),
        );
        guest.send({ type: "rename", name: "ｅｖａ" });
        const [, fresh] = await guest.waitForType("presence", 2);
        assert.equal(fresh?.you, "eva");
      },
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a signed user cannot rename, and joins are marked verified", async () => {
  await using server = await startServer({
    CHAT_AUTH: "optional",
    CHAT_AUTH_SECRET: SECRET,
  });
  const room = uniqueRoom("signed-rename");
  await using watcher = await TestClient.join(
    server.wsUrl(`/ws/chat/${room}/?name=watcher`),
  );
  const token = await new SignJWT({
    sub: "u-42",
    name: "Signed Sam",
    exp: Math.floor(Date.now() / 1000) + 3600,
  }).setProtectedHeader({ alg: "HS256" }).sign(
    new TextEncoder().encode(SECRET),
  );
  await using signed = await TestClient.join(
    server.wsUrl(`/ws/chat/${room}/?token=${token}`),
  );
  assert.equal(await joinedVerified(watcher, "Signed Sam"), true);
  signed.send({ type: "rename", name: "Someone Else" });
  const [error] = await signed.waitForType("error", 1);
  assert.equal(error?.code, "name_fixed");
  await using guest = await TestClient.join(
    server.wsUrl(`/ws/chat/${room}/?name=guesty`),
  );
  assert.equal(await joinedVerified(watcher, "guesty"), false);
  await guest.close();
});
