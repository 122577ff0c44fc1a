/**
 * Bans on real sockets, on SQLite and on Redis: a banned user's sockets
 * close with 4003 and the upgrade answers 403 with the reason, for the same
 * sub from anywhere, for a guest under a new name or key from the same
 * address, and in every room for a ban of every room.
 *
 * @module
 */

import assert from "node:assert/strict";
import { CloseCode } from "../client/protocol.js";
import {
  askWhy,
  guestPath,
  moderated,
  onSqliteAndRedis,
  startModerationServer,
} from "../testkit/moderation_socket.ts";
import { uniqueRoom } from "../testkit/server.ts";
import { TestClient } from "../testkit/test_client.ts";
import { signedPath } from "../testkit/tokens.ts";

onSqliteAndRedis("bans on the socket", async (t, env) => {
  await using server = await startModerationServer(env);
  const moderation = server.chat.hub.moderation;

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
});
