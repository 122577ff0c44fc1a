/**
 * A ban of every room from a room's socket: only a moderator of every room
 * (the token's `role`) may give one or lift one; a moderator of listed rooms
 * gets `not_moderator`, and a mute is never for every room.
 *
 * @module
 */

import assert from "node:assert/strict";
import { CloseCode } from "../client/protocol.js";
import { startServer, uniqueRoom } from "../testkit/server.ts";
import { type Frame, TestClient } from "../testkit/test_client.ts";
import { OPTIONAL_SIGN_IN, signedPath } from "../testkit/tokens.ts";

function firstMatching(
  client: TestClient,
  match: (frame: Frame) => boolean,
): Promise<Frame> {
  return client.waitForMatching(match, 1).then((frames) =>
    frames[0] ?? assert.fail("no frame")
  );
}

Deno.test("a moderator of every room bans from every room from a room's socket; others may not", async (t) => {
  await using server = await startServer({
    ...OPTIONAL_SIGN_IN,
    CHAT_RATE_LIMIT: "0",
  });
  const here = uniqueRoom("here");
  const there = uniqueRoom("there");

  await t.step(
    "the role frame says who moderates every room",
    async () => {
      await using global = await TestClient.join(
        server.wsUrl(await signedPath(here, { sub: "g1", role: "moderator" })),
      );
      await using listed = await TestClient.join(
        server.wsUrl(await signedPath(here, { sub: "l1", moderates: [here] })),
      );
      const globalRole = await firstMatching(global, (f) => f.type === "role");
      const listedRole = await firstMatching(listed, (f) => f.type === "role");
      assert.equal(globalRole.everywhere, true);
      assert.equal(listedRole.everywhere, false);
    },
  );

  await t.step(
    "a moderator of listed rooms gets not_moderator, and a mute for every room bad_frame; nothing is imposed",
    async () => {
      await using listed = await TestClient.join(
        server.wsUrl(await signedPath(here, { sub: "l2", moderates: [here] })),
      );
      await using target = await TestClient.join(
        server.wsUrl(await signedPath(here, { sub: "t2", name: "tess" })),
      );
      listed.send({
        type: "ban",
        user: "tess",
        duration: 60,
        reason: "",
        everywhere: true,
      });
      const refused = await firstMatching(
        listed,
        (f) => f.type === "error" && f.code === "not_moderator",
      );
      assert.match(String(refused.error), /every room/);
      listed.send({
        type: "mute",
        user: "tess",
        duration: 60,
        reason: "",
        everywhere: true,
      });
      await firstMatching(
        listed,
        (f) => f.type === "error" && f.code === "bad_frame",
      );
      assert.deepEqual(await server.chat.hub.moderation.list({}), []);
      // Tess is still in: her message is stored and echoed.
      target.send({ type: "message", message: "still here" });
      await target.waitForType("message", 1);
    },
  );

  await t.step(
    "a moderator of every room bans a user from every room: their sockets in other rooms close with 4003 and every room refuses them",
    async () => {
      const path = (room: string) =>
        signedPath(room, { sub: "u3", name: "ugo" });
      await using global = await TestClient.join(
        server.wsUrl(await signedPath(here, { sub: "g3", role: "moderator" })),
      );
      const inHere = await TestClient.join(server.wsUrl(await path(here)));
      const inThere = await TestClient.join(server.wsUrl(await path(there)));
      global.send({
        type: "ban",
        user: "ugo",
        duration: 600,
        reason: "everywhere",
        everywhere: true,
      });
      const done = await firstMatching(global, (f) => f.type === "moderated");
      assert.equal(done.everywhere, true);
      assert.equal((await inHere.closed).code, CloseCode.Banned);
      assert.equal((await inThere.closed).code, CloseCode.Banned);
      const [ban] = await server.chat.hub.moderation.list({ kind: "ban" });
      assert.equal(ban?.room, null);
      assert.equal(ban?.target.owner, "signed:u3");
      const elsewhere = await fetch(
        `${server.origin}${await path(uniqueRoom("elsewhere"))}`,
      );
      assert.equal(elsewhere.status, 403);
      assert.equal((await elsewhere.json()).reason, "everywhere");
    },
  );

  await t.step(
    "only a moderator of every room lifts it, with everywhere: then every room lets them in again",
    async () => {
      const path = (room: string) =>
        signedPath(room, { sub: "u3", name: "ugo" });
      await using listed = await TestClient.join(
        server.wsUrl(await signedPath(here, { sub: "l4", moderates: [here] })),
      );
      listed.send({ type: "unban", user: "ugo", everywhere: true });
      await firstMatching(
        listed,
        (f) => f.type === "error" && f.code === "not_moderator",
      );
      listed.send({ type: "unmute", user: "ugo", everywhere: true });
      await firstMatching(
        listed,
        (f) => f.type === "error" && f.code === "bad_frame",
      );
      await using global = await TestClient.join(
        server.wsUrl(await signedPath(here, { sub: "g4", role: "moderator" })),
      );
      // This room's unban does not touch a ban from every room.
      global.send({ type: "unban", user: "ugo" });
      await firstMatching(
        global,
        (f) => f.type === "error" && f.code === "no_such_user",
      );
      assert.equal(
        (await server.chat.hub.moderation.list({ kind: "ban" })).length,
        1,
      );
      global.send({ type: "unban", user: "ugo", everywhere: true });
      const done = await firstMatching(global, (f) => f.type === "moderated");
      assert.deepEqual(done, {
        type: "moderated",
        action: "unban",
        user: "ugo",
        everywhere: true,
      });
      assert.deepEqual(await server.chat.hub.moderation.list({}), []);
      await using back = await TestClient.join(
        server.wsUrl(await path(uniqueRoom("back"))),
      );
      back.send({ type: "message", message: "back again" });
      await back.waitForType("message", 1);
    },
  );
});
