/**
 * The moderation routes of the server API on a real server: mutes and bans
 * imposed, enforced on the sockets (a ban closes with 4003 and refuses the
 * way back, a mute refuses with `muted`), listed and lifted; the audit log
 * with its pages; and the same routes mounted elsewhere with another
 * `authorise`, as the admin console does. Refusals (400, 401, 404, 503)
 * are in moderation_api_refusals_test.ts.
 *
 * @module
 */

import assert from "node:assert/strict";
import { Hono } from "hono";
import { HTTPException } from "hono/http-exception";
import { CloseCode } from "../client/protocol.js";
import { moderationRoutes } from "../routes/moderation_api.ts";
import {
  apiExpect,
  idOf,
  listedIds,
  MODERATION_API_KEY,
  refusedUpgrade,
} from "../testkit/moderation_api.ts";
import {
  buildServer,
  startServer,
  storedMessages,
  uniqueRoom,
} from "../testkit/server.ts";
import { TestClient } from "../testkit/test_client.ts";
import {
  OPTIONAL_SIGN_IN,
  signedPath,
  signedToken,
} from "../testkit/tokens.ts";

Deno.test("moderation through the server API", async (t) => {
  await using server = await startServer({
    CHAT_API_KEY: MODERATION_API_KEY,
    ...OPTIONAL_SIGN_IN,
  });

  await t.step(
    "a ban closes the user's socket with 4003 and keeps them out, under a new name or key too, until it is lifted",
    async () => {
      const room = uniqueRoom("ban");
      const troll = await TestClient.join(
        server.wsUrl(`/ws/chat/${room}/?name=troll&key=troll-browser-key-01`),
      );
      await using stays = await TestClient.join(
        server.wsUrl(`/ws/chat/${room}/?name=nice&token=${await signedToken({
          sub: "u-nice",
        })}`),
      );
      const before = Date.now();
      const ban = await apiExpect(
        server,
        201,
        "POST",
        `/api/rooms/${room}/bans`,
        { user: "troll", duration: 600, reason: "spam links" },
      );
      assert.equal(ban.kind, "ban");
      assert.equal(ban.room, room);
      assert.equal(ban.by, "api");
      assert.equal(ban.reason, "spam links");
      assert.deepEqual(
        { user: (ban.target as { user: string }).user },
        { user: "troll" },
      );
      const until = Date.parse(String(ban.until));
      assert.ok(until >= before + 600_000 && until <= Date.now() + 600_000);

      const closed = await troll.closed;
      assert.equal(closed.code, CloseCode.Banned);
      assert.equal(closed.code, 4003);
      assert.match(closed.reason, /^Banned until .*: spam links$/);
      await stays.waitForMatching(
        (f) => f.type === "leave" && f.user === "troll",
        1,
      );

      for (
        const path of [
          `/ws/chat/${room}/?name=troll&key=troll-browser-key-01`,
          `/ws/chat/${room}/?name=other&key=troll-browser-key-01`,
          `/ws/chat/${room}/?name=fresh&key=a-brand-new-key-0001`,
        ]
      ) {
        const refused = await refusedUpgrade(server, path);
        assert.equal(refused.status, 403, path);
        assert.equal(refused.body.code, "banned");
        assert.equal(refused.body.reason, "spam links");
        assert.equal(refused.body.until, ban.until);
        assert.match(String(refused.body.error), /banned .*spam links/);
      }
      assert.equal(stays.socket.readyState, WebSocket.OPEN);

      const id = idOf(ban);
      assert.deepEqual(await listedIds(server, `/api/rooms/${room}/bans`), [
        id,
      ]);
      assert.ok((await listedIds(server, "/api/bans")).includes(id));
      assert.deepEqual(await listedIds(server, `/api/rooms/${room}/mutes`), []);
      const [shown] = (await apiExpect(
        server,
        200,
        "GET",
        `/api/rooms/${room}/bans`,
      )).sanctions as { target: { addresses: string[] } }[];
      assert.deepEqual(shown?.target.addresses, ["127.0.0.1"]);

      await apiExpect(server, 204, "DELETE", `/api/bans/${id}`);
      await apiExpect(server, 404, "DELETE", `/api/bans/${id}`);
      assert.deepEqual(await listedIds(server, `/api/rooms/${room}/bans`), []);
      await using back = await TestClient.join(
        server.wsUrl(`/ws/chat/${room}/?name=troll&key=troll-browser-key-01`),
      );
      assert.equal(back.socket.readyState, WebSocket.OPEN);
    },
  );

  await t.step(
    "a ban of every room closes a signed user's sockets in each room and refuses them anywhere",
    async () => {
      const rooms = [uniqueRoom("all"), uniqueRoom("all"), uniqueRoom("all")];
      const token = await signedToken({ sub: "u-banned-everywhere" });
      const sockets = await Promise.all(
        rooms.slice(0, 2).map((room) =>
          TestClient.join(server.wsUrl(`/ws/chat/${room}/?token=${token}`))
        ),
      );
      const ban = await apiExpect(server, 201, "POST", "/api/bans", {
        sub: "u-banned-everywhere",
        duration: null,
        reason: "threats",
      });
      assert.equal(ban.room, null);
      assert.equal(ban.until, null);
      assert.equal(
        (ban.target as { sub?: string }).sub,
        "u-banned-everywhere",
      );
      for (const socket of sockets) {
        assert.equal((await socket.closed).code, CloseCode.Banned);
      }
      const refused = await refusedUpgrade(
        server,
        `/ws/chat/${rooms[2]}/?token=${token}`,
      );
      assert.equal(refused.status, 403);
      assert.equal(refused.body.code, "banned");
      assert.equal(refused.body.until, null);
      // A room's list holds the bans of every room too.
      const id = idOf(ban);
      assert.ok(
        (await listedIds(server, `/api/rooms/${rooms[2]}/bans`)).includes(id),
      );
      await apiExpect(server, 204, "DELETE", `/api/bans/${id}`);
      await using back = await TestClient.join(
        server.wsUrl(`/ws/chat/${rooms[2]}/?token=${token}`),
      );
      assert.equal(back.socket.readyState, WebSocket.OPEN);
    },
  );

  await t.step(
    "a mute refuses the user's messages with muted and stores nothing, until it is lifted",
    async () => {
      const room = uniqueRoom("mute");
      await using bob = await TestClient.join(
        server.wsUrl(`/ws/chat/${room}/?name=bob&key=bob-browser-key-0001`),
      );
      // Signed: a guest's mute holds for every guest of its address.
      await using ann = await TestClient.join(
        server.wsUrl(await signedPath(room, { sub: "u-ann", name: "ann" })),
      );
      const mute = await apiExpect(
        server,
        201,
        "POST",
        `/api/rooms/${room}/mutes`,
        { user: "bob", duration: 60, reason: "calm down" },
      );
      assert.equal(mute.kind, "mute");
      const [told] = await bob.waitForType("muted", 1);
      assert.equal(told?.room, room);
      assert.equal(told?.until, mute.until);
      assert.equal(told?.reason, "calm down");

      bob.send({ message: "still here", cid: "c1" });
      const [refused] = await bob.waitForMatching(
        (f) => f.type === "error" && f.code === "muted",
        1,
      );
      assert.equal(refused?.until, mute.until);
      assert.equal(refused?.reason, "calm down");
      assert.match(String(refused?.error), /muted .*calm down/);
      // Bob still reads: Ann's message reaches him.
      ann.send({ message: "hello bob" });
      await bob.waitForMatching((f) => f.message === "hello bob", 1);
      assert.deepEqual(
        (await storedMessages(server, room)).map((m) => m.message),
        ["hello bob"],
      );

      const id = idOf(mute);
      assert.deepEqual(await listedIds(server, `/api/rooms/${room}/mutes`), [
        id,
      ]);
      assert.ok((await listedIds(server, "/api/mutes")).includes(id));
      await apiExpect(server, 204, "DELETE", `/api/mutes/${id}`);
      await bob.waitForType("unmuted", 1);
      bob.send({ message: "sorry" });
      await ann.waitForMatching((f) => f.message === "sorry", 1);
      await apiExpect(server, 404, "DELETE", `/api/mutes/${id}`);
    },
  );

  await t.step(
    "a name nobody holds in the room is 404 no_such_user, and nothing is imposed",
    async () => {
      const room = uniqueRoom("nobody");
      for (const kind of ["mutes", "bans"]) {
        const answer = await apiExpect(
          server,
          404,
          "POST",
          `/api/rooms/${room}/${kind}`,
          { user: "ghost", duration: 60 },
        );
        assert.equal(answer.code, "no_such_user");
        assert.deepEqual(
          await listedIds(server, `/api/rooms/${room}/${kind}`),
          [],
        );
      }
    },
  );

  await t.step(
    "the audit log holds each action, by api, newest first, by room, in pages",
    async () => {
      const room = uniqueRoom("audit");
      await using carl = await TestClient.join(
        server.wsUrl(`/ws/chat/${room}/?name=carl&key=carl-browser-key-001`),
      );
      carl.send({ message: "to delete" });
      await carl.waitForType("message", 1);
      await apiExpect(server, 204, "DELETE", `/api/rooms/${room}/messages/1`);
      const mute = idOf(
        await apiExpect(server, 201, "POST", `/api/rooms/${room}/mutes`, {
          user: "carl",
          duration: 30,
          reason: "r1",
        }),
      );
      await apiExpect(server, 204, "DELETE", `/api/mutes/${mute}`);
      const ban = idOf(
        await apiExpect(server, 201, "POST", `/api/rooms/${room}/bans`, {
          sub: "u-audited",
          duration: 3600,
          reason: "r2",
        }),
      );
      await apiExpect(server, 204, "DELETE", `/api/bans/${ban}`);
      await apiExpect(server, 200, "POST", `/api/rooms/${room}/disconnect`, {
        user: "carl",
      });

      const first = await apiExpect(
        server,
        200,
        "GET",
        `/api/audit?room=${room}&limit=4`,
      );
      const second = await apiExpect(
        server,
        200,
        "GET",
        `/api/audit?room=${room}&limit=4&before=${first.next}`,
      );
      assert.equal(second.next, null);
      const entries = [
        ...first.entries as Record<string, unknown>[],
        ...second.entries as Record<string, unknown>[],
      ];
      assert.deepEqual(
        entries.map((e) => [e.action, e.actor, e.room]),
        [
          ["disconnect", "api", room],
          ["unban", "api", room],
          ["ban", "api", room],
          ["unmute", "api", room],
          ["mute", "api", room],
          ["delete", "api", room],
        ],
      );
      assert.equal(first.next, entries[3]?.id);
      const ids = entries.map((e) => Number(e.id));
      assert.deepEqual(ids, [...ids].sort((a, b) => b - a));
      const byAction = new Map(entries.map((e) => [e.action, e]));
      assert.equal(byAction.get("delete")?.messageId, 1);
      assert.equal(byAction.get("mute")?.sanctionId, mute);
      assert.equal(byAction.get("mute")?.reason, "r1");
      assert.equal(byAction.get("mute")?.user, "carl");
      assert.equal(byAction.get("unban")?.sanctionId, ban);
      assert.equal(byAction.get("disconnect")?.user, "carl");

      // Unfiltered, the newest entries of every room; a limit of one pages.
      const newest = await apiExpect(server, 200, "GET", "/api/audit?limit=1");
      assert.deepEqual(
        (newest.entries as Record<string, unknown>[]).map((e) => e.id),
        [entries[0]?.id],
      );
      assert.equal(newest.next, entries[0]?.id);
      const all = await apiExpect(server, 200, "GET", "/api/audit");
      assert.ok((all.entries as unknown[]).length <= 50);
    },
  );
});

Deno.test(
  "mounted elsewhere with another authorise, the routes act as its actor and hide addresses",
  async () => {
    await using chat = await buildServer();
    const app = new Hono();
    app.route(
      "/admin/api",
      moderationRoutes({
        hub: chat.hub,
        log: chat.log,
        maxBodyBytes: 4096,
        authorise: async (c, next) => {
          if (c.req.header("X-Session") !== "ok") {
            throw new HTTPException(401, { message: "Sign in first" });
          }
          c.set("actor", "Mina (u-admin)");
          await next();
        },
      }),
    );
    const refused = await app.request("/admin/api/bans");
    assert.equal(refused.status, 401);
    await refused.body?.cancel();
    const session = { "X-Session": "ok", "Content-Type": "application/json" };
    const room = uniqueRoom("console");
    const banned = await app.request(`/admin/api/rooms/${room}/bans`, {
      method: "POST",
      headers: session,
      body: JSON.stringify({ address: "192.0.2.9", duration: 60 }),
    });
    assert.equal(banned.status, 201);
    const ban = await banned.json();
    assert.equal(ban.by, "Mina (u-admin)");
    assert.deepEqual(ban.target, { user: "guest" });
    const audit = await app.request(`/admin/api/audit?room=${room}`, {
      headers: session,
    });
    const { entries } = await audit.json();
    assert.deepEqual(
      entries.map((e: Record<string, unknown>) => [e.action, e.actor]),
      [["ban", "Mina (u-admin)"]],
    );
  },
);
