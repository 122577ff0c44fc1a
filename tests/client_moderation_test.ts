/**
 * The client library's moderation: a moderator's `moderator` property and
 * its mute, ban, unmute, unban and list of sanctions; a muted user's `muted` and `unmuted`
 * events and sends refused with `muted`; a banned user's `banned` event
 * (on the 4003 close and on a refused connect) and no reconnect after it.
 *
 * @module
 */

import assert from "node:assert/strict";
import { CloseCode } from "../client/protocol.js";
import { ChatError } from "../client/chat_client.js";
import { openClient, rejectsWith } from "../testkit/library_client.ts";
import { loggedClient } from "../testkit/library_client.ts";
import { startServer, uniqueRoom } from "../testkit/server.ts";
import { OPTIONAL_SIGN_IN, signedToken } from "../testkit/tokens.ts";

const ENV = { ...OPTIONAL_SIGN_IN, CHAT_RATE_LIMIT: "0", LOG_LEVEL: "warn" };

Deno.test("the client library moderates, and is muted and banned", async (t) => {
  await using server = await startServer(ENV);
  const room = uniqueRoom("client");
  const token = await signedToken({ sub: "mod", role: "moderator" });
  using mod = await openClient(server.origin, { room, token });
  using bob = await openClient(server.origin, {
    room,
    name: "bob",
    key: "bob-key-0123456789abcdef",
  });

  await t.step("a moderator is told its role; a guest is not", async () => {
    await mod.log.waitFor("role", () => true);
    assert.equal(mod.client.moderator, true);
    assert.equal(bob.client.moderator, false);
    await rejectsWith(
      bob.client.mute("mod", { duration: 60 }),
      "not_moderator",
    );
  });

  await t.step(
    "a mute is told to the user, whose sends are refused until the unmute",
    async () => {
      const done = await mod.client.mute("bob", {
        duration: 600,
        reason: "calm down",
      });
      assert.equal(done.action, "mute");
      assert.equal(done.reason, "calm down");
      const [muted] = await bob.log.waitFor("muted", () => true);
      assert.deepEqual(muted, { until: done.until, reason: "calm down" });
      await assert.rejects(bob.client.send("hello?"), (error: unknown) => {
        assert.ok(error instanceof ChatError);
        assert.equal(error.code, "muted");
        assert.equal(error.until, done.until);
        assert.equal(error.reason, "calm down");
        return true;
      });
      await rejectsWith(mod.client.mute("nobody"), "no_such_user");
      // A new connection is told again, right after its presence.
      bob.client.reconnect();
      const again = await bob.log.waitFor("muted", () => true, 2);
      assert.deepEqual(again[1], muted);
      assert.equal(mod.log.of("moderated").length, 1);
      assert.equal((await mod.client.unmute("bob")).action, "unmute");
      await bob.log.waitFor("unmuted", () => true);
      assert.equal((await bob.client.send("back")).message, "back");
    },
  );

  await t.step(
    "a ban closes with 4003, says until when and why, and the client does not reconnect",
    async () => {
      const seen = bob.log.of("state").length;
      const done = await mod.client.ban("bob", { duration: 3600, reason: "x" });
      const [banned] = await bob.log.waitFor("banned", () => true);
      assert.deepEqual(banned, { until: done.until, reason: "x" });
      assert.equal(bob.client.state, "closed");
      const states = bob.log.of("state").slice(seen).map((d) => d.state);
      assert.deepEqual(states, ["closed"]);
      assert.equal(bob.log.of("state").at(-1)?.code, CloseCode.Banned);
      assert.ok(!states.includes("reconnecting"), states.join());
      await rejectsWith(bob.client.send("let me in"), "closed");

      using again = loggedClient(server.origin, {
        room,
        name: "robert",
        key: "bob-key-0123456789abcdef",
      });
      const [refused] = await again.log.waitFor("banned", () => true);
      assert.deepEqual(refused, { until: done.until, reason: "x" });
      assert.equal(again.client.state, "closed");

      assert.equal((await mod.client.unban("bob")).action, "unban");
      bob.client.reconnect();
      // Its third open: the first, the reconnect after the mute, this one.
      await bob.log.waitFor("state", (d) => d.state === "open", 3);
    },
  );

  await t.step(
    "sanctions() lists the room's mutes and bans; a guest's is refused",
    async () => {
      await rejectsWith(bob.client.sanctions(), "not_moderator");
      const done = await mod.client.mute("bob", {
        duration: 60,
        reason: "quiet",
      });
      const listed = await mod.client.sanctions();
      assert.deepEqual(listed.bans, []);
      assert.equal(listed.more, false);
      assert.equal(listed.mutes.length, 1);
      const [mute] = listed.mutes;
      assert.equal(mute?.user, "bob");
      assert.equal(mute?.until, done.until);
      assert.equal(mute?.reason, "quiet");
      assert.equal(mute?.by, "mod");
      assert.equal(mute?.everywhere, false);
      assert.ok(Date.parse(mute?.at ?? "") <= Date.parse(done.until ?? ""));
      await mod.client.unmute("bob");
      assert.deepEqual((await mod.client.sanctions()).mutes, []);
    },
  );
});
