/**
 * Moderation on real sockets, on SQLite and on Redis: a moderator's role
 * frame, mutes (refused frames, expiry on the server's clock), refusals of
 * moderator frames from others, a moderator's delete, the audit log, and
 * a muted tutorial client. Bans are in moderation_bans_test.ts.
 *
 * @module
 */

import assert from "node:assert/strict";
import { storedMessages, uniqueRoom } from "../testkit/server.ts";
import { type Frame, TestClient } from "../testkit/test_client.ts";
import { signedPath } from "../testkit/tokens.ts";
import { room as roomName } from "../testkit/sqlite_store.ts";
import {
  Clock,
  guestPath,
  moderated,
  onSqliteAndRedis,
  startModerationServer,
} from "../testkit/moderation_socket.ts";

/** Sends a message and waits for its echo; resolves its id. */
async function say(client: TestClient, message: string): Promise<number> {
  const seen = client.ofType("message").length;
  client.send({ type: "message", message });
  const frames = await client.waitForType("message", seen + 1);
  return Number(frames.at(-1)?.id);
}

async function errorCoded(client: TestClient, code: string, count = 1) {
  const frames = await client.waitForMatching(
    (f) => f.type === "error" && f.code === code,
    count,
  );
  return frames.at(-1) ?? assert.fail("no error frame");
}

/** Every step below, on a server with `env` (its store). */
async function moderationOnTheSocket(
  t: Deno.TestContext,
  env: Record<string, string>,
): Promise<void> {
  const clock = new Clock();
  await using server = await startModerationServer(env, clock);
  const moderation = server.chat.hub.moderation;

  await t.step(
    "a moderator's socket is told its role after presence; others' are not",
    async () => {
      const room = uniqueRoom("role");
      await using mod = await TestClient.join(
        server.wsUrl(await signedPath(room, { sub: "mod", role: "moderator" })),
      );
      await using local = await TestClient.join(
        server.wsUrl(await signedPath(room, { sub: "loc", moderates: [room] })),
      );
      const [role] = await mod.waitForType("role", 1);
      assert.equal(role?.role, "moderator");
      const types = mod.frames.map((f) => (f as Frame).type);
      assert.ok(types.indexOf("presence") < types.indexOf("role"));
      await local.waitForType("role", 1);
      await using elsewhere = await TestClient.join(
        server.wsUrl(
          await signedPath(uniqueRoom("role"), {
            sub: "loc",
            moderates: [room],
          }),
        ),
      );
      await using plain = await TestClient.join(
        server.wsUrl(await signedPath(room, { sub: "plain" })),
      );
      await using guest = await TestClient.join(
        server.wsUrl(guestPath(room, "guest")),
      );
      // A message sent after joining comes after any role frame would have.
      await say(plain, "hello");
      await say(elsewhere, "hello");
      await guest.waitForType("message", 1);
      for (const client of [plain, elsewhere, guest]) {
        assert.equal(client.ofType("role").length, 0);
      }
    },
  );

  await t.step(
    "a muted user is told, refused with muted for everything that speaks, and nothing is stored",
    async () => {
      const room = uniqueRoom("mute");
      await using mod = await TestClient.join(
        server.wsUrl(await signedPath(room, { sub: "mod", role: "admin" })),
      );
      await using bob = await TestClient.join(
        server.wsUrl(guestPath(room, "bob", "bob-key-0123456789ab")),
      );
      const own = await say(bob, "before");
      mod.send({ type: "mute", user: "bob", duration: 600, reason: "spam" });
      const [done] = await moderated(mod, "mute");
      assert.equal(done?.user, "bob");
      assert.equal(done?.reason, "spam");
      const until = String(done?.until);
      assert.equal(Date.parse(until) - Date.now() > 590_000, true);
      const [muted] = await bob.waitForType("muted", 1);
      assert.deepEqual(muted, { type: "muted", room, until, reason: "spam" });

      bob.send({ type: "message", message: "spam!", cid: "c1" });
      const refused = await errorCoded(bob, "muted");
      assert.equal(refused.cid, "c1");
      assert.equal(refused.until, until);
      assert.equal(refused.reason, "spam");
      assert.match(
        String(refused.error),
        new RegExp(`muted in this room until ${until}: spam`),
      );
      bob.send({ type: "edit", id: own, message: "changed" });
      bob.send({ type: "react", id: own, emoji: "👍" });
      bob.send({ type: "typing" });
      bob.send({ type: "delete", id: own });
      const all = await bob.waitForMatching(
        (f) => f.type === "error" && f.code === "muted",
        5,
      );
      assert.deepEqual(all.slice(1, 3).map((f) => f.id), [own, own]);
      assert.equal(all[4]?.id, own);
      const stored = await storedMessages(server, room);
      assert.deepEqual(stored.map((m) => m.message), ["before"]);
      assert.equal(mod.ofType("typing").length, 0);

      // Another tab of bob's is told at once, after its presence.
      await using tab = await TestClient.join(
        server.wsUrl(guestPath(room, "bob", "bob-key-0123456789ab")),
      );
      const [told] = await tab.waitForType("muted", 1);
      assert.deepEqual(told, muted);
      const order = tab.frames.map((f) => (f as Frame).type);
      assert.ok(order.indexOf("presence") < order.indexOf("muted"));

      mod.send({ type: "unmute", user: "bob" });
      await moderated(mod, "unmute");
      await tab.waitForType("unmuted", 1);
      assert.deepEqual((await bob.waitForType("unmuted", 1))[0], {
        type: "unmuted",
        room,
      });
      await say(bob, "after");
    },
  );

  await t.step(
    "a mute ends by itself at its until, on the server's clock",
    async () => {
      const room = uniqueRoom("expiry");
      await using mod = await TestClient.join(
        server.wsUrl(await signedPath(room, { sub: "mod", role: "moderator" })),
      );
      await using bob = await TestClient.join(
        server.wsUrl(guestPath(room, "bob", "bob-key-0123456789ab")),
      );
      mod.send({ type: "mute", user: "bob", duration: 600, reason: "" });
      await bob.waitForType("muted", 1);
      bob.send({ type: "message", message: "still muted" });
      const refused = await errorCoded(bob, "muted");
      assert.match(String(refused.error), /until [^:]+:\d\d:\d\d\.\d+Z$/);
      clock.offsetMs += 601_000;
      try {
        await say(bob, "free again");
      } finally {
        clock.offsetMs -= 601_000;
      }
    },
  );

  await t.step(
    "a guest and a plain signed user sending moderator frames get not_moderator, and nothing changes",
    async () => {
      const room = uniqueRoom("notmod");
      await using guest = await TestClient.join(
        server.wsUrl(guestPath(room, "guest", "guest-key-0123456789")),
      );
      await using plain = await TestClient.join(
        server.wsUrl(await signedPath(room, { sub: "plain" })),
      );
      await using other = await TestClient.join(
        server.wsUrl(
          await signedPath(uniqueRoom("x"), {
            sub: "m2",
            moderates: ["somewhere-else"],
          }),
        ),
      );
      const id = await say(plain, "mine");
      const frames = [
        { type: "mute", user: "plain", duration: 60, reason: "" },
        { type: "ban", user: "plain", duration: null, reason: "" },
        { type: "unmute", user: "plain" },
        { type: "unban", user: "plain" },
      ];
      for (const frame of frames) guest.send(frame);
      for (const frame of frames) plain.send({ ...frame, user: "guest" });
      await errorCoded(guest, "not_moderator", 4);
      await errorCoded(plain, "not_moderator", 4);
      other.send(frames[0]);
      await errorCoded(other, "not_moderator", 1);
      guest.send({ type: "delete", id });
      const refused = await errorCoded(guest, "not_owner");
      assert.equal(refused.id, id);
      assert.deepEqual(await moderation.list({ room: roomName(room) }), []);
      await say(guest, "still speaking");
      assert.deepEqual(
        (await storedMessages(server, room)).map((m) => m.message),
        ["mine", "still speaking"],
      );
    },
  );

  await t.step(
    "a moderator deletes anyone's message; unknown users and bad durations are refused",
    async () => {
      const room = uniqueRoom("delany");
      await using mod = await TestClient.join(
        server.wsUrl(
          await signedPath(room, { sub: "m", name: "Mo", moderates: [room] }),
        ),
      );
      await using bob = await TestClient.join(
        server.wsUrl(guestPath(room, "bob")),
      );
      const id = await say(bob, "rude");
      mod.send({ type: "delete", id });
      const [deleted] = await bob.waitForType("delete", 1);
      assert.equal(deleted?.id, id);
      assert.deepEqual(await storedMessages(server, room), []);
      mod.send({ type: "delete", id });
      assert.equal((await errorCoded(mod, "no_such_message")).id, id);
      mod.send({ type: "mute", user: "nobody", duration: 60, reason: "" });
      await errorCoded(mod, "no_such_user");
      mod.send({ type: "unban", user: "bob" });
      await errorCoded(mod, "no_such_user", 2);
      mod.send({ type: "mute", user: "bob", duration: 0, reason: "" });
      await errorCoded(mod, "bad_duration");
      const [entry] = await moderation.auditLog({
        room: roomName(room),
        limit: 10,
      });
      assert.equal(entry?.action, "delete");
      assert.equal(entry?.messageId, id);
      assert.equal(entry?.actor, "Mo (m)");
    },
  );

  await t.step(
    "every action is in the audit log: mute, unmute, ban, unban",
    async () => {
      const room = uniqueRoom("audit");
      await using mod = await TestClient.join(
        server.wsUrl(await signedPath(room, { sub: "mod", role: "moderator" })),
      );
      await using bob = await TestClient.join(
        server.wsUrl(guestPath(room, "bob", "bob-key-audit-0123456")),
      );
      mod.send({ type: "mute", user: "bob", duration: 60, reason: "one" });
      await moderated(mod, "mute");
      mod.send({ type: "unmute", user: "bob" });
      await moderated(mod, "unmute");
      mod.send({ type: "ban", user: "bob", duration: 60, reason: "two" });
      await moderated(mod, "ban");
      await bob.closed;
      mod.send({ type: "unban", user: "bob" });
      await moderated(mod, "unban");
      const entries = await moderation.auditLog({
        room: roomName(room),
        limit: 10,
      });
      assert.deepEqual(
        entries.map((e) => [e.action, e.actor, e.reason ?? ""]).reverse(),
        [
          ["mute", "mod", "one"],
          ["unmute", "mod", ""],
          ["ban", "mod", "two"],
          ["unban", "mod", ""],
        ],
      );
    },
  );

  await t.step(
    "a tutorial client that is muted gets the refusal with its text as message",
    async () => {
      const room = uniqueRoom("tutorial");
      await using mod = await TestClient.join(
        server.wsUrl(await signedPath(room, { sub: "mod", role: "moderator" })),
      );
      const tutorial = await TestClient.connect(
        server.wsUrl(guestPath(room, "old", "old-key-012345678901")),
        [],
      );
      await using _ = tutorial;
      await mod.waitForMatching(
        (f) => f.type === "join" && f.user === "old",
        1,
      );
      mod.send({ type: "mute", user: "old", duration: 60, reason: "quiet" });
      await moderated(mod, "mute");
      tutorial.send({ message: "hello?" });
      const [frame] = await tutorial.waitForMatching(
        (f) => f.code === "muted",
        1,
      );
      assert.match(
        String(frame?.message),
        /muted in this room until .*: quiet/,
      );
      assert.equal(tutorial.ofType("muted").length, 0);
    },
  );
}

onSqliteAndRedis("moderation on the socket", moderationOnTheSocket);
