/**
 * The client library's closes: a token refreshed on 4001 (or a 401)
 * resumes without loss, the same token stops it, and the closes and
 * refusals that a retry cannot change (4010, 4009, 1008, 400, 403) stop
 * it, keeping or rejecting what waits as docs/client.md says.
 *
 * @module
 */

import assert from "node:assert/strict";
import { SignJWT } from "jose";
import { ChatError, type ChatMessage } from "../client/chat_client.js";
import {
  type LoggedClient,
  loggedClient,
  openClient,
  opens,
  rejectsWith,
} from "../testkit/library_client.ts";
import { startServer, uniqueRoom, within } from "../testkit/server.ts";

const ENV = {
  CHAT_RATE_LIMIT: "0",
  CHAT_CONNECT_RATE: "0",
  LOG_LEVEL: "warn",
};

const SECRET = "site-and-chat-share-this-32-byte-secret";

/** A token for alice that expires in `seconds` (1 to 2 s for 2). */
let minted = 0;
function aliceToken(seconds: number): Promise<string> {
  minted += 1;
  return new SignJWT({ name: "alice", jti: `t-${minted}` })
    .setProtectedHeader({ alg: "HS256" })
    .setSubject("u-alice")
    .setExpirationTime(Math.floor(Date.now() / 1000) + seconds)
    .sign(new TextEncoder().encode(SECRET));
}

Deno.test("a token refreshed on 4001 resumes without loss", async (t) => {
  await using server = await startServer({
    ...ENV,
    CHAT_AUTH: "optional",
    CHAT_AUTH_SECRET: SECRET,
  });
  const room = uniqueRoom("token");
  using bob = await openClient(server.origin, { room, name: "bob" });

  await t.step("a fresh token from the function reconnects", async () => {
    let calls = 0;
    const ref: { alice?: LoggedClient } = {};
    let queued: Promise<ChatMessage> | undefined;
    const statesWhileFetching: string[] = [];
    const token = async () => {
      calls += 1;
      if (calls === 1) return await aliceToken(2);
      if (calls === 2) {
        // Asked again after the 4001: the room goes on meanwhile.
        statesWhileFetching.push(ref.alice?.client.state ?? "none");
        for (const n of [1, 2, 3]) await bob.client.send(`while away ${n}`);
        queued = ref.alice?.client.send("queued by alice");
      }
      return await aliceToken(3600);
    };
    using alice = await openClient(server.origin, { room, token });
    ref.alice = alice;
    await alice.client.send("before");
    await alice.log.waitFor("state", (d) => d.state === "open", 2, 15_000);
    assert.equal((await queued)?.message, "queued by alice");
    assert.equal(calls, 2, "the token function is asked once per 4001");
    assert.deepEqual(
      alice.log.of("state").filter((d) => d.state !== "connecting"),
      [{ state: "open" }, { state: "reconnecting", code: 4001 }, {
        state: "open",
      }],
    );
    assert.deepEqual(statesWhileFetching, ["reconnecting"]);
    assert.deepEqual(alice.log.of("message").map((m) => m.message), [
      "before",
      "while away 1",
      "while away 2",
      "while away 3",
      "queued by alice",
    ]);
    assert.equal(alice.log.of("history").at(-1)?.recovered, true);
    assert.equal(alice.log.of("message").at(-1)?.verified, true);
  });

  await t.step("the same token again closes for good; sends wait", async () => {
    const once = await aliceToken(2);
    using alice = await openClient(server.origin, { room, token: once });
    const [closed] = await alice.log.waitFor(
      "state",
      (d) => d.state === "closed",
      1,
      15_000,
    );
    assert.equal(closed?.code, 4001);
    assert.equal(alice.client.state, "closed");
    const waiting = alice.client.send("after expiry");
    assert.equal(alice.client.pending, 1, "a send survives a 4001 close");
    alice.client.close();
    await assert.rejects(waiting, ChatError);
  });
});

Deno.test("closes that a retry cannot change stop the client", async (t) => {
  const KEY = "backend-key-0123456789abcdef0123";
  await using server = await startServer({
    ...ENV,
    CHAT_API_KEY: KEY,
    CHAT_RATE_LIMIT: "1",
    CHAT_RATE_BURST: "2",
  });

  await t.step("4010: removed by the site", async () => {
    const room = uniqueRoom("kick");
    using watcher = await openClient(server.origin, { room, name: "watcher" });
    using troll = await openClient(server.origin, { room, name: "troll" });
    const response = await fetch(
      `${server.origin}/api/rooms/${room}/disconnect`,
      {
        method: "POST",
        headers: {
          Authorization: `Bearer ${KEY}`,
          "Content-Type": "application/json",
        },
        body: JSON.stringify({ user: "troll" }),
      },
    );
    assert.equal(response.status, 200);
    assert.deepEqual(await response.json(), { closed: 1 });
    const [closed] = await troll.log.waitFor(
      "state",
      (d) => d.state === "closed",
    );
    assert.equal(closed?.code, 4010);
    assert.ok(closed?.reason, "it says why");
    await watcher.log.waitFor("presence", (p) => p.left.includes("troll"));
    await assert.rejects(
      within(troll.client.send("back?"), 5000, "a send after a 4010"),
      (error: unknown) => error instanceof ChatError && error.code === "closed",
    );
    // A reconnect would show up to someone who joins now.
    using late = await openClient(server.origin, { room, name: "late" });
    assert.deepEqual([...late.client.online.keys()].sort(), [
      "late",
      "watcher",
    ]);
    assert.equal(opens(troll.log), 1);
    // The sanitizers fail the test if a reconnect timer is left behind.
  });

  await t.step("4009: the name is taken; a rename goes on", async () => {
    const room = uniqueRoom("taken");
    using holder = await openClient(server.origin, { room, name: "alice" });
    using second = loggedClient(server.origin, { room, name: "alice" });
    const waiting = second.client.send("from the second alice");
    const [closed] = await second.log.waitFor(
      "state",
      (d) => d.state === "closed",
    );
    assert.equal(closed?.code, 4009);
    assert.equal(second.client.pending, 1, "the send survives");
    assert.equal(await second.client.rename("alice two"), "alice two");
    const stored = await waiting;
    assert.equal(stored.user, "alice two");
    await holder.log.waitFor("message", (m) => m.id === stored.id);
  });

  await t.step("1008: flooding past the rate limit", async () => {
    const room = uniqueRoom("flood");
    using flooder = await openClient(server.origin, { room, name: "flooder" });
    const sends = Array.from(
      { length: 20 },
      (_, n) =>
        flooder.client.send(`flood ${n}`).then(
          () => "stored",
          (e) => e instanceof ChatError ? e.code : String(e),
        ),
    );
    const outcomes = await Promise.all(sends);
    const [closed] = await flooder.log.waitFor(
      "state",
      (d) => d.state === "closed",
    );
    assert.equal(closed?.code, 1008);
    assert.ok(outcomes.includes("rate_limited"), outcomes.join());
    assert.ok(outcomes.includes("closed"), outcomes.join());
    assert.equal(opens(flooder.log), 1);
  });
});

Deno.test("refusals before the upgrade are learnt over HTTP", async (t) => {
  await using server = await startServer({
    ...ENV,
    CHAT_AUTH: "optional",
    CHAT_AUTH_SECRET: SECRET,
  });

  await t.step("400, a reserved name: sends wait for a rename", async () => {
    const room = uniqueRoom("reserved");
    using admin = loggedClient(server.origin, { room, name: "admin" });
    const waiting = admin.client.send("from a new name");
    const [closed] = await admin.log.waitFor(
      "state",
      (d) => d.state === "closed",
    );
    assert.equal(closed?.code, 400);
    assert.match(closed?.reason ?? "", /reserved/i);
    assert.equal(admin.client.pending, 1);
    assert.equal(await admin.client.rename("not the admin"), "not the admin");
    assert.equal((await waiting).user, "not the admin");
  });

  await t.step("403, a room the token does not allow: sends fail", async () => {
    const room = uniqueRoom("private");
    const token = await new SignJWT({ rooms: ["elsewhere"] })
      .setProtectedHeader({ alg: "HS256" })
      .setSubject("u-outsider")
      .setExpirationTime("1h")
      .sign(new TextEncoder().encode(SECRET));
    using outsider = loggedClient(server.origin, { room, token });
    const waiting = outsider.client.send("let me in");
    const [closed] = await outsider.log.waitFor(
      "state",
      (d) => d.state === "closed",
    );
    assert.equal(closed?.code, 403);
    assert.match(closed?.reason ?? "", /room/);
    await rejectsWith(waiting, "closed");
  });

  await t.step(
    "401, an expired token: a fresh one from the function",
    async () => {
      const room = uniqueRoom("expired");
      const tokens = [await aliceToken(-60), await aliceToken(3600)];
      let calls = 0;
      using alice = await openClient(server.origin, {
        room,
        token: () => tokens[Math.min(calls++, 1)] ?? "",
      });
      assert.equal(alice.client.you, "alice");
      assert.ok(
        !alice.log.of("state").some((d) => d.state === "closed"),
        JSON.stringify(alice.log.of("state")),
      );
      assert.equal((await alice.client.send("signed in")).verified, true);
    },
  );
});
