import assert from "node:assert/strict";
import { CloseCode } from "../client/protocol.js";
import {
  startServer,
  storedMessages,
  type TestServer,
  uniqueRoom,
} from "../testkit/server.ts";
import { type Frame, TestClient } from "../testkit/test_client.ts";
import { OPTIONAL_SIGN_IN, signedPath } from "../testkit/tokens.ts";
import { room as roomName } from "../testkit/sqlite_store.ts";
import { ignoreWithoutRedis, startRedis } from "../testkit/redis.ts";

/** The server's clock, moved by the tests that need minutes to pass. */
class Clock {
  offsetMs = 0;
  readonly now = () => new Date(Date.now() + this.offsetMs);
}

const SETTINGS = {
  ...OPTIONAL_SIGN_IN,
  CHAT_RATE_LIMIT: "0",
  CHAT_EDIT_WINDOW_S: "3600",
  // Plain GETs with X-Forwarded-For stand for another address.
  CHAT_TRUSTED_PROXIES: "127.0.0.1",
};

function guestPath(room: string, name: string, key?: string): string {
  const query = new URLSearchParams({ name, ...(key ? { key } : {}) });
  return `/ws/chat/${room}/?${query}`;
}

/** What a plain GET of the socket URL answers (the client's way to ask). */
async function askWhy(
  server: TestServer,
  path: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(`${server.origin}${path}`, { headers });
  return { status: response.status, body: await response.json() };
}

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

function moderated(client: TestClient, action: string): Promise<Frame[]> {
  return client.waitForMatching(
    (f) => f.type === "moderated" && f.action === action,
    1,
  );
}

/** Every step below, on a server with `env` (its store). */
async function moderationOnTheSocket(
  t: Deno.TestContext,
  env: Record<string, string>,
): Promise<void> {
  const clock = new Clock();
  await using server = await startServer({ ...SETTINGS, ...env }, {
    now: clock.now,
  });
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
    "a ban closes the socket with 4003, and the same sub comes back to a 403 with the reason",
    async () => {
      const room = uniqueRoom("ban");
      await using mod = await TestClient.join(
        server.wsUrl(await signedPath(room, { sub: "mod", role: "moderator" })),
      );
      const carolPath = await signedPath(room, { sub: "carol" });
      const carol = await TestClient.join(server.wsUrl(carolPath));
      mod.send({ type: "ban", user: "carol", duration: null, reason: "abuse" });
      const closed = await carol.closed;
      assert.equal(closed.code, CloseCode.Banned);
      assert.equal(closed.reason, "Banned for good: abuse");
      const [done] = await moderated(mod, "ban");
      assert.equal(done?.until, null);
      // Another token of the same sub, with another name, from anywhere.
      const again = await signedPath(room, { sub: "carol", name: "Caroline" });
      const refused = await askWhy(server, again, {
        "X-Forwarded-For": "192.0.2.44",
      });
      assert.equal(refused.status, 403);
      assert.deepEqual(refused.body, {
        error: "You are banned from this room for good: abuse",
        code: "banned",
        until: null,
        reason: "abuse",
      });
      await assert.rejects(TestClient.connect(server.wsUrl(again)));
      // Another room is not this one.
      const other = await askWhy(
        server,
        await signedPath(uniqueRoom("ban"), { sub: "carol" }),
      );
      assert.equal(other.status, 426);

      mod.send({ type: "unban", user: "carol" });
      await moderated(mod, "unban");
      await using back = await TestClient.join(server.wsUrl(again));
      assert.equal(back.ofType("presence").length, 1);
    },
  );

  await t.step(
    "a banned guest cannot come back with a new name, nor with a new key from the same address",
    async () => {
      const room = uniqueRoom("guestban");
      await using mod = await TestClient.join(
        server.wsUrl(await signedPath(room, { sub: "mod", role: "moderator" })),
      );
      const dave = await TestClient.join(
        server.wsUrl(guestPath(room, "dave", "dave-key-0123456789a")),
      );
      mod.send({ type: "ban", user: "dave", duration: 3600, reason: "spam" });
      assert.equal((await dave.closed).code, CloseCode.Banned);
      const [done] = await moderated(mod, "ban");
      const until = String(done?.until);
      const cases = [
        guestPath(room, "dave", "dave-key-0123456789a"),
        guestPath(room, "someone-else", "dave-key-0123456789a"),
        guestPath(room, "someone-else", "a-brand-new-key-01234"),
        guestPath(room, "nokey"),
      ];
      for (const path of cases) {
        const answer = await askWhy(server, path);
        assert.equal(answer.status, 403, path);
        assert.equal(answer.body.until, until);
        assert.equal(answer.body.reason, "spam");
      }
      // The same key from another address is still dave's.
      const keyElsewhere = await askWhy(
        server,
        guestPath(room, "x", "dave-key-0123456789a"),
        { "X-Forwarded-For": "192.0.2.45" },
      );
      assert.equal(keyElsewhere.status, 403);
      // Another guest from another address is not dave.
      const stranger = await askWhy(
        server,
        guestPath(room, "stranger", "stranger-key-0123456"),
        { "X-Forwarded-For": "192.0.2.46" },
      );
      assert.equal(stranger.status, 426);
      // A signed user from dave's address is not dave.
      const signed = await askWhy(
        server,
        await signedPath(room, { sub: "erin" }),
      );
      assert.equal(signed.status, 426);
    },
  );

  await t.step(
    "a ban of every room (the API's) closes the user's sockets in every room and refuses every room",
    async () => {
      const [one, two] = [uniqueRoom("every"), uniqueRoom("every")];
      const path = (room: string) => signedPath(room, { sub: "frank" });
      const inOne = await TestClient.join(server.wsUrl(await path(one)));
      const inTwo = await TestClient.join(server.wsUrl(await path(two)));
      const result = await moderation.impose({
        kind: "ban",
        room: null,
        target: { user: "frank" },
        durationMs: 60_000,
        reason: "everywhere",
        actor: "api",
      });
      assert.ok(result.ok);
      assert.equal(result.sanction.target.owner, "signed:frank");
      assert.equal((await inOne.closed).code, CloseCode.Banned);
      assert.equal((await inTwo.closed).code, CloseCode.Banned);
      const elsewhere = await askWhy(server, await path(uniqueRoom("every")));
      assert.equal(elsewhere.status, 403);
      assert.equal(elsewhere.body.reason, "everywhere");
      const refused = await moderation.impose({
        kind: "mute",
        room: null,
        target: { sub: "frank" },
        durationMs: null,
        reason: "",
        actor: "api",
      });
      assert.equal(refused.ok ? "" : refused.code, "not_allowed");
      assert.ok(await moderation.lift("ban", result.sanction.id, "api"));
      assert.equal((await askWhy(server, await path(one))).status, 426);
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

Deno.test("moderation on the socket, SQLite", async (t) => {
  await moderationOnTheSocket(t, {});
});

Deno.test({
  name: "moderation on the socket, Redis",
  ignore: ignoreWithoutRedis,
  async fn(t) {
    await using redis = await startRedis();
    await moderationOnTheSocket(t, { REDIS_URL: redis.url });
  },
});
