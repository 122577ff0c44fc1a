/**
 * Mutes and bans across server processes sharing Redis, across the
 * isolates of `--workers 2`, across a restart and a Redis outage: a
 * moderator on one side
 * mutes or bans a user whose socket is on the other, the socket is told or
 * closed there, and the ban refuses the user's next socket wherever it
 * lands.
 *
 * @module
 */

import assert from "node:assert/strict";
import { CloseCode } from "../client/protocol.js";
import {
  SERVER,
  type ServerProcess,
  SHARED_ROOMS_ENV,
  startServerProcess,
} from "../testkit/process.ts";
import { ignoreWithoutRedis, startRedis } from "../testkit/redis.ts";
import { uniqueRoom } from "../testkit/server.ts";
import { type Frame, TestClient } from "../testkit/test_client.ts";
import { OPTIONAL_SIGN_IN, signedToken } from "../testkit/tokens.ts";
import {
  closeAll,
  getFresh,
  joinPlaced,
  type Placed,
  withWorkers,
} from "../testkit/workers.ts";

const ENV = { ...SHARED_ROOMS_ENV, ...OPTIONAL_SIGN_IN };

function keyOf(name: string): string {
  return `${name}-key-0123456789abcdef`;
}

function guestPath(room: string, name: string): string {
  return `/ws/chat/${room}/?name=${name}&key=${keyOf(name)}`;
}

async function tokenPath(room: string, sub: string, role?: string) {
  const token = await signedToken({ sub, ...(role ? { role } : {}) });
  return `/ws/chat/${room}/?token=${token}`;
}

async function statusOf(server: ServerProcess, path: string) {
  const response = await fetch(`${server.origin}${path}`);
  const body = await response.json();
  return { status: response.status, body };
}

function moderated(client: TestClient, action: string): Promise<Frame[]> {
  return client.waitForMatching(
    (f) => f.type === "moderated" && f.action === action,
    1,
  );
}

/** Sends a message and waits for the refusal that says it is muted. */
async function refusedMuted(client: TestClient, count: number) {
  client.send({ type: "message", message: "let me speak" });
  const refusals = await client.waitForMatching(
    (f) => f.type === "error" && f.code === "muted",
    count,
  );
  return refusals.at(-1);
}

Deno.test({
  name:
    "moderation across server processes sharing Redis, and across a restart",
  ignore: ignoreWithoutRedis,
  async fn(t) {
    await using redis = await startRedis();
    const env = { ...ENV, REDIS_URL: redis.url };
    await using a = await startServerProcess({ args: SERVER.run(), env });
    await using b = await startServerProcess({ args: SERVER.run(), env });
    const room = uniqueRoom("shared");
    const bobPath = await tokenPath(room, "bob");
    await using mod = await TestClient.join(
      a.wsUrl(await tokenPath(room, "mod", "moderator")),
    );

    await t.step(
      "a mute from one process holds on the other, where the user is",
      async () => {
        await using carol = await TestClient.join(
          b.wsUrl(guestPath(room, "carol")),
        );
        await mod.waitForMatching(
          (f) => f.type === "join" && f.user === "carol",
          1,
        );
        mod.send({ type: "mute", user: "carol", duration: 600, reason: "x" });
        const [done] = await moderated(mod, "mute");
        const [muted] = await carol.waitForType("muted", 1);
        assert.equal(muted?.until, done?.until);
        const refusal = await refusedMuted(carol, 1);
        assert.equal(refusal?.reason, "x");
      },
    );

    await t.step(
      "a ban from one process closes the socket on the other and is refused on both",
      async () => {
        const bob = await TestClient.join(b.wsUrl(bobPath));
        await mod.waitForMatching(
          (f) => f.type === "join" && f.user === "bob",
          1,
        );
        mod.send({ type: "ban", user: "bob", duration: 3600, reason: "y" });
        const closed = await bob.closed;
        assert.equal(closed.code, CloseCode.Banned);
        assert.match(closed.reason, /^Banned until .+: y$/);
        for (const server of [a, b]) {
          const answer = await statusOf(server, bobPath);
          assert.equal(answer.status, 403);
          assert.equal(answer.body.code, "banned");
          assert.equal(answer.body.reason, "y");
        }
      },
    );

    await t.step(
      "after the other process restarts, the ban and the mute still hold there",
      async () => {
        await b.stop();
        await using c = await startServerProcess({ args: SERVER.run(), env });
        assert.equal((await statusOf(c, bobPath)).status, 403);
        await using carol = await TestClient.join(
          c.wsUrl(guestPath(room, "carol")),
        );
        const refusal = await refusedMuted(carol, 1);
        assert.equal(refusal?.reason, "x");
        mod.send({ type: "unban", user: "bob" });
        await moderated(mod, "unban");
        assert.equal((await statusOf(c, bobPath)).status, 426);
      },
    );

    await t.step(
      "while Redis is down, each process still refuses a ban it heard of",
      async () => {
        await using d = await startServerProcess({ args: SERVER.run(), env });
        const davePath = await tokenPath(room, "dave");
        const dave = await TestClient.join(d.wsUrl(davePath));
        await mod.waitForMatching(
          (f) => f.type === "join" && f.user === "dave",
          1,
        );
        mod.send({ type: "ban", user: "dave", duration: 600, reason: "z" });
        assert.equal((await dave.closed).code, CloseCode.Banned);
        await moderated(mod, "ban");
        await redis.stop();
        try {
          for (const server of [a, d]) {
            const answer = await statusOf(server, davePath);
            assert.equal(answer.status, 403);
            assert.equal(answer.body.reason, "z");
          }
          // Nobody else is refused for it.
          const other = await statusOf(a, await tokenPath(room, "erin"));
          assert.equal(other.status, 426);
        } finally {
          await redis.start();
        }
      },
    );
  },
});

Deno.test("moderation across the isolates of --workers 2", async () => {
  await withWorkers("moderation", OPTIONAL_SIGN_IN, async (server) => {
    const room = uniqueRoom("workers");
    const token = await signedToken({ sub: "mod", role: "moderator" });
    const mod = await joinPlaced(server, room, "mod", `&token=${token}`);
    const placed: Placed[] = [mod];
    try {
      // Sockets land where the kernel puts them: join until two guests are
      // on the other worker (bounded).
      const others: Placed[] = [];
      for (let index = 0; index < 40 && others.length < 2; index++) {
        const name = `u${index}`;
        const one = await joinPlaced(server, room, name, `&key=${keyOf(name)}`);
        placed.push(one);
        if (one.worker !== mod.worker) others.push(one);
      }
      const [muted, banned] = others;
      assert.ok(muted && banned, "two guests on the other worker");

      mod.client.send({
        type: "mute",
        user: muted.name,
        duration: 600,
        reason: "m",
      });
      await moderated(mod.client, "mute");
      await muted.client.waitForType("muted", 1);
      assert.equal((await refusedMuted(muted.client, 1))?.reason, "m");

      mod.client.send({
        type: "ban",
        user: banned.name,
        duration: null,
        reason: "b",
      });
      const closed = await banned.client.closed;
      assert.equal(closed.code, CloseCode.Banned);
      // Each GET on a new connection: wherever the kernel puts it.
      for (let attempt = 0; attempt < 4; attempt++) {
        const answer = await getFresh(
          `${server.origin}${guestPath(room, banned.name)}`,
        );
        assert.equal(answer.status, 403, answer.text);
        assert.match(answer.text, /banned from this room for good: b/);
      }
    } finally {
      await closeAll(placed);
    }
  });
});
