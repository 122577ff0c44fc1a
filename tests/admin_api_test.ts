import assert from "node:assert/strict";
import {
  ADMIN_TEST_KEY,
  APP_ORIGIN,
  cookieOf,
  getWith,
  postForm,
  postWithKey,
  roomTexts,
  signInWithKey,
} from "../testkit/admin.ts";
import {
  SERVER,
  SHARED_ROOMS_ENV,
  startServerProcess,
} from "../testkit/process.ts";
import { ignoreWithoutRedis, startRedis } from "../testkit/redis.ts";
import { buildServer, uniqueRoom, waitUntil } from "../testkit/server.ts";
import { OPTIONAL_SIGN_IN, signedToken } from "../testkit/tokens.ts";

Deno.test("the console moderates through the server API's handlers, as its signed-in person", async (t) => {
  await using server = await buildServer({
    ...OPTIONAL_SIGN_IN,
    CHAT_API_KEY: ADMIN_TEST_KEY,
  });
  const room = uniqueRoom("console");
  const ban = { sub: "u-troll", duration: 600, reason: "spam" };
  const headers = (cookie: string, origin = APP_ORIGIN) => ({
    Cookie: cookie,
    Origin: origin,
    "Content-Type": "application/json",
  });

  await t.step("without a session: 401, nothing stored", async () => {
    const response = await server.app.request(`/admin/api/rooms/${room}/bans`, {
      method: "POST",
      headers: { Origin: APP_ORIGIN, "Content-Type": "application/json" },
      body: JSON.stringify(ban),
    });
    assert.equal(response.status, 401);
    await response.body?.cancel();
  });

  await t.step("from another site: 403, nothing stored", async () => {
    const cookie = await signInWithKey(server);
    const response = await server.app.request(`/admin/api/rooms/${room}/bans`, {
      method: "POST",
      headers: headers(cookie, "https://attacker.example"),
      body: JSON.stringify(ban),
    });
    assert.equal(response.status, 403);
    await response.body?.cancel();
    const list = await getWith(server, `/admin/api/rooms/${room}/bans`, cookie);
    assert.deepEqual((await list.json()).sanctions, []);
  });

  await t.step(
    "with the key's session: banned, listed, audited as api-key, lifted",
    async () => {
      const cookie = await signInWithKey(server);
      const response = await server.app.request(
        `/admin/api/rooms/${room}/bans`,
        {
          method: "POST",
          headers: headers(cookie),
          body: JSON.stringify(ban),
        },
      );
      assert.equal(response.status, 201);
      const sanction = await response.json();
      assert.equal(sanction.by, "api-key");
      assert.equal(
        sanction.target.addresses,
        undefined,
        "no addresses in the console",
      );
      const all = await (await getWith(server, "/admin/api/bans", cookie))
        .json();
      assert.deepEqual(all.sanctions.map((s: { id: string }) => s.id), [
        sanction.id,
      ]);
      const audit =
        await (await getWith(server, `/admin/api/audit?room=${room}`, cookie))
          .json();
      assert.equal(audit.entries[0]?.action, "ban");
      assert.equal(audit.entries[0]?.actor, "api-key");
      const lift = await server.app.request(`/admin/api/bans/${sanction.id}`, {
        method: "DELETE",
        headers: headers(cookie),
      });
      assert.equal(lift.status, 204);
      const after = await (await getWith(server, "/admin/api/bans", cookie))
        .json();
      assert.deepEqual(after.sanctions, []);
    },
  );

  await t.step(
    "delete and disconnect: done and audited as api-key",
    async () => {
      const cookie = await signInWithKey(server);
      const id = await postWithKey(server, room, "ann", "to delete");
      const removed = await server.app.request(
        `/admin/api/rooms/${room}/messages/${id}`,
        { method: "DELETE", headers: headers(cookie) },
      );
      assert.equal(removed.status, 204);
      assert.deepEqual(await roomTexts(server, room), []);
      const closed = await server.app.request(
        `/admin/api/rooms/${room}/disconnect`,
        {
          method: "POST",
          headers: headers(cookie),
          body: JSON.stringify({ user: "ann" }),
        },
      );
      assert.equal(closed.status, 200);
      assert.deepEqual(await closed.json(), { closed: 0 });
      const audit =
        await (await getWith(server, `/admin/api/audit?room=${room}`, cookie))
          .json();
      const newest = audit.entries.slice(0, 2).map((
        entry: { action: string; actor: string },
      ) => [entry.action, entry.actor]);
      assert.deepEqual(newest, [["disconnect", "api-key"], [
        "delete",
        "api-key",
      ]]);
    },
  );

  await t.step(
    "with an admin token's session: audited under the admin's name",
    async () => {
      const token = await signedToken({
        sub: "u-ada",
        name: "Ada",
        role: "admin",
      });
      const cookie = cookieOf(
        await postForm(server, "/admin/session", { token }),
      );
      const response = await server.app.request(
        `/admin/api/rooms/${room}/mutes`,
        {
          method: "POST",
          headers: headers(cookie),
          body: JSON.stringify({ ...ban, duration: null }),
        },
      );
      assert.equal(response.status, 201);
      assert.equal((await response.json()).by, "Ada");
    },
  );
});

Deno.test({
  name: "the overview names Redis, and says so while it is down",
  ignore: ignoreWithoutRedis,
  async fn() {
    await using redis = await startRedis();
    // A process of its own: a Redis client cut off keeps reconnect timers
    // that Deno's sanitizers would count against this test.
    await using server = await startServerProcess({
      args: SERVER.run(),
      env: {
        ...SHARED_ROOMS_ENV,
        REDIS_URL: redis.url,
        CHAT_API_KEY: ADMIN_TEST_KEY,
      },
    });
    const signedIn = await fetch(`${server.origin}/admin/session`, {
      method: "POST",
      headers: { Origin: server.origin },
      body: new URLSearchParams({ key: ADMIN_TEST_KEY }),
      redirect: "manual",
    });
    assert.equal(signedIn.status, 303);
    await signedIn.body?.cancel();
    const cookie = cookieOf(signedIn);
    const overview = async () =>
      await (await fetch(`${server.origin}/admin/api/overview`, {
        headers: { Cookie: cookie },
      })).json();
    const up = await overview();
    assert.deepEqual(up.store, { backend: "redis", ok: true });
    assert.deepEqual(up.bus, { backend: "redis", ok: true });
    await redis.stop();
    await waitUntil(
      async () => (await overview()).store.ok === false,
      "the overview sees Redis down",
    );
    const down = await overview();
    assert.equal(typeof down.store.error, "string");
    assert.equal(down.bus.ok, false);
    assert.equal(down.rooms, null);
  },
});
