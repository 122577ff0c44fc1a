/**
 * A moderator's `sanctions` frame on real sockets, on SQLite and on Redis:
 * the room's mutes and bans in force (bans from every room marked), never
 * an address or a browser key, bounded in size, current after an unban;
 * refused to guests, plain signed users and tutorial clients.
 *
 * @module
 */

import assert from "node:assert/strict";
import { MAX_AUDIT_PAGE } from "../chat/moderation_store.ts";
import { uniqueRoom } from "../testkit/server.ts";
import { type Frame, TestClient } from "../testkit/test_client.ts";
import { signedPath } from "../testkit/tokens.ts";
import { room as roomName } from "../testkit/sqlite_store.ts";
import {
  Clock,
  guestPath,
  onSqliteAndRedis,
  startModerationServer,
} from "../testkit/moderation_socket.ts";

const BOB_KEY = "bob-key-0123456789abcdef";
const EVE_KEY = "eve-key-0123456789abcdef";

/** Sends `frame` and waits for the answer `type` (or an error), in turn. */
async function ask(
  client: TestClient,
  frame: Record<string, unknown>,
  type: string,
): Promise<Frame> {
  const seen = client.ofType(type).length + client.ofType("error").length;
  client.send(frame);
  const frames = await client.waitForMatching(
    (f) => isAnswer(f, type),
    seen + 1,
  );
  return frames.at(-1) ?? assert.fail(`no answer to ${frame.type}`);
}

function isAnswer(frame: Frame, type: string): boolean {
  return frame.type === type || frame.type === "error";
}

/** The names a list of a `sanctions` frame holds, in its order. */
function users(list: unknown): string[] {
  assert.ok(Array.isArray(list));
  return list.map((entry) => String(entry?.target?.user));
}

async function sanctionsOnTheSocket(
  t: Deno.TestContext,
  env: Record<string, string>,
): Promise<void> {
  const clock = new Clock();
  await using server = await startModerationServer(env, clock);
  const moderation = server.chat.hub.moderation;
  const room = uniqueRoom("sanctions");
  await using mod = await TestClient.join(
    server.wsUrl(await signedPath(room, { sub: "mod", role: "moderator" })),
  );

  await t.step(
    "a moderator lists the room's mutes and bans, every-room bans marked, with no address or key",
    async () => {
      await using bob = await TestClient.join(
        server.wsUrl(guestPath(room, "bob", BOB_KEY)),
      );
      await using eve = await TestClient.join(
        server.wsUrl(guestPath(room, "eve", EVE_KEY)),
      );
      await using sam = await TestClient.join(
        server.wsUrl(await signedPath(room, { sub: "sam" })),
      );
      const muted = await ask(
        mod,
        { type: "mute", user: "bob", duration: 600, reason: "spam" },
        "moderated",
      );
      assert.equal(muted.action, "mute");
      clock.offsetMs += 1;
      await ask(
        mod,
        { type: "ban", user: "eve", duration: null, reason: "abuse" },
        "moderated",
      );
      clock.offsetMs += 1;
      const everywhere = await ask(mod, {
        type: "ban",
        user: "sam",
        duration: 3600,
        reason: "troll",
        everywhere: true,
      }, "moderated");
      assert.equal(everywhere.everywhere, true);
      await eve.closed;
      await sam.closed;
      // Another room's mute is not this room's business.
      const elsewhere = await moderation.impose({
        kind: "mute",
        room: roomName(uniqueRoom("elsewhere")),
        target: { sub: "bob-elsewhere" },
        durationMs: 60_000,
        reason: "",
        actor: "api",
      });
      assert.ok(elsewhere.ok);

      const listed = await ask(mod, { type: "sanctions" }, "sanctions");
      assert.equal(listed.type, "sanctions");
      assert.equal(listed.more, undefined);
      assert.deepEqual(users(listed.mutes), ["bob"]);
      assert.deepEqual(users(listed.bans), ["eve", "sam"]);
      const [mute] = listed.mutes as Frame[];
      assert.equal(mute?.until, muted.until);
      assert.equal(mute?.reason, "spam");
      assert.equal(mute?.by, "mod");
      assert.equal(mute?.room, room);
      assert.equal(typeof mute?.at, "string");
      assert.equal(mute?.everywhere, undefined);
      const [roomBan, allBan] = listed.bans as Frame[];
      assert.equal(roomBan?.until, null);
      assert.equal(roomBan?.reason, "abuse");
      assert.equal(roomBan?.everywhere, undefined);
      assert.equal(allBan?.room, null);
      assert.equal(allBan?.everywhere, true);
      assert.equal(allBan?.until, everywhere.until);
      assert.deepEqual(allBan?.target, { user: "sam", sub: "sam" });
      const text = JSON.stringify(listed);
      for (const secret of ["127.0.0.1", BOB_KEY, EVE_KEY, "key:", "addr"]) {
        assert.ok(!text.includes(secret), `${secret} in ${text}`);
      }
      // The store does hold an address for the banned guest.
      const stored = await moderation.list({
        kind: "ban",
        room: roomName(room),
      });
      assert.ok(stored.some((s) => s.target.addresses.includes("127.0.0.1")));
      assert.equal(bob.ofType("sanctions").length, 0);
    },
  );

  await t.step(
    "an unban or an unmute takes the entry off the next list",
    async () => {
      await ask(mod, { type: "unban", user: "eve" }, "moderated");
      const afterUnban = await ask(mod, { type: "sanctions" }, "sanctions");
      assert.deepEqual(users(afterUnban.bans), ["sam"]);
      assert.deepEqual(users(afterUnban.mutes), ["bob"]);
      await ask(mod, { type: "unmute", user: "bob" }, "moderated");
      const afterUnmute = await ask(mod, { type: "sanctions" }, "sanctions");
      assert.deepEqual(users(afterUnmute.mutes), []);
      assert.deepEqual(users(afterUnmute.bans), ["sam"]);
    },
  );

  await t.step(
    "a guest, a plain signed user and another room's moderator are refused with not_moderator and learn nothing",
    async () => {
      await using guest = await TestClient.join(
        server.wsUrl(guestPath(room, "guest", "guest-key-0123456789")),
      );
      await using plain = await TestClient.join(
        server.wsUrl(await signedPath(room, { sub: "plain" })),
      );
      await using other = await TestClient.join(
        server.wsUrl(
          await signedPath(room, { sub: "m2", moderates: ["somewhere-else"] }),
        ),
      );
      for (const client of [guest, plain, other]) {
        const refused = await ask(client, { type: "sanctions" }, "sanctions");
        assert.equal(refused.type, "error");
        assert.equal(refused.code, "not_moderator");
        assert.match(String(refused.error), /Only a moderator of this room/);
        assert.ok(!JSON.stringify(client.frames).includes("troll"));
        assert.equal(client.ofType("sanctions").length, 0);
      }
    },
  );

  await t.step(
    "a tutorial client asking for sanctions gets the tutorial's refusal",
    async () => {
      await using tutorial = await TestClient.connect(
        server.wsUrl(guestPath(room, "old", "old-key-012345678901")),
        [],
      );
      tutorial.send({ type: "sanctions" });
      const [refused] = await tutorial.waitForMatching(
        (f) => f.code === "bad_frame",
        1,
      );
      assert.match(String(refused?.message), /expected "message" or "rename"/);
      assert.ok(!JSON.stringify(tutorial.frames).includes("troll"));
    },
  );

  await t.step(
    `each list holds the newest ${MAX_AUDIT_PAGE}, and says more were left out`,
    async () => {
      const crowded = roomName(uniqueRoom("crowded"));
      for (let i = 0; i <= MAX_AUDIT_PAGE; i++) {
        clock.offsetMs += 1;
        const done = await moderation.impose({
          kind: "mute",
          room: crowded,
          target: { sub: `user-${i}` },
          durationMs: 600_000,
          reason: "",
          actor: "api",
        });
        assert.ok(done.ok);
      }
      await using crowdMod = await TestClient.join(
        server.wsUrl(await signedPath(crowded, { sub: "mod", role: "admin" })),
      );
      const listed = await ask(crowdMod, { type: "sanctions" }, "sanctions");
      const names = users(listed.mutes);
      assert.equal(names.length, MAX_AUDIT_PAGE);
      assert.equal(names[0], "user-1");
      assert.equal(names.at(-1), `user-${MAX_AUDIT_PAGE}`);
      assert.deepEqual(users(listed.bans), ["sam"]);
      assert.equal(listed.more, true);
    },
  );
}

onSqliteAndRedis(
  "a moderator lists sanctions on the socket",
  sanctionsOnTheSocket,
);
