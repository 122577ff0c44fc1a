import assert from "node:assert/strict";
import { generateSignedCookie } from "hono/cookie";
import {
  ADMIN_COOKIE,
  ADMIN_PATH,
  adminSessionKey,
} from "../http/admin_session.ts";
import {
  buildServer,
  type DisposableChatServer,
  uniqueRoom,
  waitUntil,
} from "../testkit/server.ts";
import { ignoreWithoutRedis, startRedis } from "../testkit/redis.ts";
import {
  SERVER,
  SHARED_ROOMS_ENV,
  startServerProcess,
} from "../testkit/process.ts";
import {
  OPTIONAL_SIGN_IN,
  secondsFromNow,
  signedToken,
} from "../testkit/tokens.ts";

const KEY = "console-test-key-0123456789abcdef";
const ORIGIN = "http://localhost";

/** POSTs `form` to `path` of `server` from `origin` (none: no header). */
function post(
  server: DisposableChatServer,
  path: string,
  form: Record<string, string>,
  headers: Record<string, string> = { Origin: ORIGIN },
  url = `${ORIGIN}${path}`,
  env?: unknown,
): Promise<Response> {
  return Promise.resolve(
    server.app.request(url, {
      method: "POST",
      body: new URLSearchParams(form),
      headers,
    }, env),
  );
}

/** The `name=value` of a Set-Cookie answer, for the Cookie header. */
function cookieOf(response: Response): string {
  const set = response.headers.get("set-cookie");
  assert.ok(set, "the answer sets a cookie");
  return set.split(";")[0] ?? "";
}

/** The attributes of the Set-Cookie answer, lower-cased, without values. */
function flagsOf(response: Response): Map<string, string> {
  const set = response.headers.get("set-cookie") ?? "";
  return new Map(
    set.split(";").slice(1).map((part) => {
      const [name = "", value = ""] = part.trim().split("=");
      return [name.toLowerCase(), value];
    }),
  );
}

/** The texts of `room`'s messages, through the public API. */
async function texts(
  server: DisposableChatServer,
  room: string,
): Promise<string[]> {
  const response = await server.app.request(`/api/rooms/${room}/messages`);
  const body: { messages: { message: string }[] } = await response.json();
  return body.messages.map((m) => m.message);
}

async function signIn(server: DisposableChatServer): Promise<string> {
  const response = await post(server, "/admin/session", { key: KEY });
  assert.equal(response.status, 303);
  return cookieOf(response);
}

function get(
  server: DisposableChatServer,
  path: string,
  cookie?: string,
): Promise<Response> {
  return Promise.resolve(
    server.app.request(path, cookie ? { headers: { Cookie: cookie } } : {}),
  );
}

Deno.test("admin console sign-in and session", async (t) => {
  await using server = await buildServer({ CHAT_API_KEY: KEY });

  await t.step(
    "the API key sets a signed HttpOnly SameSite=Strict cookie on /admin that expires",
    async () => {
      const response = await post(server, "/admin/session", { key: KEY });
      assert.equal(response.status, 303);
      assert.equal(response.headers.get("location"), "/admin/");
      const flags = flagsOf(response);
      assert.ok(flags.has("httponly"));
      assert.equal(flags.get("samesite"), "Strict");
      assert.equal(flags.get("path"), ADMIN_PATH);
      assert.equal(flags.get("max-age"), String(12 * 60 * 60));
      assert.ok(flags.has("expires"));
      assert.ok(!flags.has("secure"), "no Secure over plain http");
      assert.ok(cookieOf(response).startsWith(`${ADMIN_COOKIE}=`));
    },
  );

  await t.step("the cookie opens the pages and the JSON API", async () => {
    const cookie = await signIn(server);
    const page = await get(server, "/admin/", cookie);
    assert.equal(page.status, 200);
    assert.match(await page.text(), /id="ov-connections"/);
    assert.equal(page.headers.get("cache-control"), "no-store");
    const rooms = await get(server, "/admin/rooms", cookie);
    assert.equal(rooms.status, 200);
    await rooms.body?.cancel();
    const overview = await get(server, "/admin/api/overview", cookie);
    assert.equal(overview.status, 200);
    const body = await overview.json();
    assert.equal(body.connections, 0);
    assert.equal(body.rooms, 0);
    assert.deepEqual(body.store, { backend: "sqlite", ok: true });
    assert.deepEqual(body.bus, { backend: "local", ok: true });
    assert.equal(body.webhooks, null);
    assert.equal(typeof body.memory.residentBytes, "number");
    assert.equal(typeof body.messagesPerSecond, "number");
    assert.ok(body.descriptors.open > 0, "open descriptors are counted");
  });

  await t.step("a wrong key answers 401 and sets no cookie", async () => {
    const response = await post(server, "/admin/session", {
      key: "not-the-key-0123456789abcdef",
    });
    assert.equal(response.status, 401);
    assert.equal(response.headers.get("set-cookie"), null);
    assert.match(await response.text(), /not the server&#39;s API key/);
  });

  await t.step("without a session the pages go to sign-in", async () => {
    const page = await get(server, "/admin/rooms");
    assert.equal(page.status, 303);
    assert.equal(page.headers.get("location"), "/admin/");
    const signIn = await get(server, "/admin/");
    assert.match(await signIn.text(), /id="admin-key"/);
    const api = await get(server, "/admin/api/overview");
    assert.equal(api.status, 401);
    assert.match((await api.json()).error, /Sign in/);
  });

  await t.step("a cross-site POST or DELETE is refused with 403", async () => {
    const cookie = await signIn(server);
    const foreign = await post(server, "/admin/session", { key: KEY }, {
      Origin: "https://attacker.example",
    });
    assert.equal(foreign.status, 403);
    assert.equal(foreign.headers.get("set-cookie"), null);
    assert.match((await foreign.json()).error, /attacker\.example/);
    const bare = await post(server, "/admin/session", { key: KEY }, {});
    assert.equal(bare.status, 403);
    await bare.body?.cancel();

    const room = uniqueRoom("admin");
    const posted = await server.app.request(`/api/rooms/${room}/messages`, {
      method: "POST",
      headers: {
        Authorization: `Bearer ${KEY}`,
        "Content-Type": "application/json",
      },
      body: JSON.stringify({ user: "ann", message: "stays" }),
    });
    const message: { id: number } = await posted.json();
    const remove = await server.app.request(
      `/admin/api/rooms/${room}/messages/${message.id}`,
      {
        method: "DELETE",
        headers: { Cookie: cookie, Origin: "https://attacker.example" },
      },
    );
    assert.equal(remove.status, 403);
    await remove.body?.cancel();
    assert.deepEqual(await texts(server, room), ["stays"]);

    const same = await server.app.request(
      `/admin/api/rooms/${room}/messages/${message.id}`,
      { method: "DELETE", headers: { Cookie: cookie, Origin: ORIGIN } },
    );
    assert.equal(same.status, 204);
    assert.deepEqual(await texts(server, room), []);
  });

  await t.step("a tampered, expired or foreign cookie is refused", async () => {
    const cookie = await signIn(server);
    const [name, value = ""] = cookie.split("=");
    const decoded = decodeURIComponent(value);
    const signature = decoded.slice(decoded.lastIndexOf(".") + 1);
    const longer = JSON.stringify({ by: "key", exp: Date.now() + 1e12 });
    const tampered = `${name}=${encodeURIComponent(`${longer}.${signature}`)}`;
    const refused = await get(server, "/admin/api/overview", tampered);
    assert.equal(refused.status, 401);
    await refused.body?.cancel();

    const { key } = await adminSessionKey({ apiKey: KEY });
    const expiredValue = JSON.stringify({ by: "key", exp: Date.now() - 1 });
    const expired = (await generateSignedCookie(
      ADMIN_COOKIE,
      expiredValue,
      key,
    )).split(";")[0] ?? "";
    const stale = await get(server, "/admin/api/overview", expired);
    assert.equal(stale.status, 401, "a cookie past its expiry is refused");
    await stale.body?.cancel();

    const other = await adminSessionKey({ apiKey: "another-key-0123456789ab" });
    const foreign = (await generateSignedCookie(
      ADMIN_COOKIE,
      JSON.stringify({ by: "key", exp: Date.now() + 60_000 }),
      other.key,
    )).split(";")[0] ?? "";
    const signedElsewhere = await get(server, "/admin/api/overview", foreign);
    assert.equal(signedElsewhere.status, 401);
    await signedElsewhere.body?.cancel();

    const fine = await get(server, "/admin/api/overview", cookie);
    assert.equal(fine.status, 200);
    await fine.body?.cancel();
  });

  await t.step("sign-out clears the cookie", async () => {
    const cookie = await signIn(server);
    const response = await post(server, "/admin/signout", {}, {
      Origin: ORIGIN,
      Cookie: cookie,
    });
    assert.equal(response.status, 303);
    const flags = flagsOf(response);
    assert.equal(flags.get("max-age"), "0");
    assert.equal(flags.get("path"), ADMIN_PATH);
    assert.equal(cookieOf(response), `${ADMIN_COOKIE}=`);
  });
});

Deno.test("the admin cookie is Secure over https, also from a trusted proxy", async (t) => {
  await using server = await buildServer({
    CHAT_API_KEY: KEY,
    CHAT_TRUSTED_PROXIES: "127.0.0.1",
  });
  const proxy = { remoteAddr: { hostname: "127.0.0.1" } };
  const stranger = { remoteAddr: { hostname: "192.0.2.7" } };

  await t.step("served over https directly", async () => {
    const response = await post(
      server,
      "/admin/session",
      { key: KEY },
      { Origin: "https://localhost" },
      "https://localhost/admin/session",
    );
    assert.equal(response.status, 303);
    assert.ok(flagsOf(response).has("secure"));
  });

  await t.step("behind a trusted proxy that says https", async () => {
    const response = await post(
      server,
      "/admin/session",
      { key: KEY },
      { Origin: "https://localhost", "X-Forwarded-Proto": "https" },
      `${ORIGIN}/admin/session`,
      proxy,
    );
    assert.equal(response.status, 303);
    assert.ok(flagsOf(response).has("secure"));
  });

  await t.step("not when anyone else says https", async () => {
    const response = await post(
      server,
      "/admin/session",
      { key: KEY },
      { Origin: ORIGIN, "X-Forwarded-Proto": "https" },
      `${ORIGIN}/admin/session`,
      stranger,
    );
    assert.equal(response.status, 303);
    assert.ok(!flagsOf(response).has("secure"));
  });
});

Deno.test("every server sharing the API key accepts the console's cookie", async () => {
  await using first = await buildServer({ CHAT_API_KEY: KEY });
  await using second = await buildServer({ CHAT_API_KEY: KEY });
  const cookie = await signIn(first);
  const response = await get(second, "/admin/api/overview", cookie);
  assert.equal(response.status, 200);
  await response.body?.cancel();
});

Deno.test("without an API key or signed identities the console only says how to turn it on", async () => {
  await using server = await buildServer();
  const page = await get(server, "/admin/");
  assert.equal(page.status, 200);
  const html = await page.text();
  assert.match(html, /id="admin-disabled-how"/);
  assert.match(html, /CHAT_API_KEY/);
  assert.doesNotMatch(html, /<form/);
  for (const path of ["/admin/rooms", "/admin/api/overview"]) {
    const response = await get(server, path);
    assert.equal(response.status, 404, path);
    await response.body?.cancel();
  }
  const signIn = await post(server, "/admin/session", { key: KEY });
  assert.equal(signIn.status, 404);
  assert.equal(signIn.headers.get("set-cookie"), null);
  await signIn.body?.cancel();
});

Deno.test("the console's files are served, and its scripts build no HTML from text", async () => {
  await using server = await buildServer({ CHAT_API_KEY: KEY });
  const folder = new URL("../static/admin/", import.meta.url);
  const files: string[] = [];
  for await (const entry of Deno.readDir(folder)) files.push(entry.name);
  assert.ok(files.length > 0);
  for (const name of files) {
    const response = await get(server, `/admin/static/${name}`);
    assert.equal(response.status, 200, name);
    const body = await response.text();
    assert.equal(body, await Deno.readTextFile(new URL(name, folder)), name);
    assert.doesNotMatch(
      body,
      /innerHTML|outerHTML|insertAdjacentHTML|document\.write/,
      name,
    );
  }
  const cookie = await signIn(server);
  for (
    const page of [
      "/admin/",
      "/admin/rooms",
      "/admin/rooms/lobby",
      "/admin/sanctions",
      "/admin/audit",
    ]
  ) {
    const html = await (await get(server, page, cookie)).text();
    for (const [, name = ""] of html.matchAll(/\/admin\/static\/([^"'?#]+)/g)) {
      assert.ok(files.includes(name), `${page} asks for ${name}`);
    }
  }
});

Deno.test("a token with the admin role signs in to the console; others do not", async (t) => {
  await using server = await buildServer(OPTIONAL_SIGN_IN);

  await t.step(
    "role admin: a session until the token's expiry at most",
    async () => {
      const exp = secondsFromNow(600);
      const token = await signedToken({
        sub: "u-ada",
        name: "Ada",
        role: "admin",
        exp,
      });
      const response = await post(server, "/admin/session", { token });
      assert.equal(response.status, 200);
      assert.deepEqual(await response.json(), { signedIn: "Ada" });
      const flags = flagsOf(response);
      assert.ok(Number(flags.get("max-age")) <= 600);
      const cookie = cookieOf(response);
      const overview = await get(server, "/admin/api/overview", cookie);
      assert.equal(overview.status, 200);
      await overview.body?.cancel();
    },
  );

  for (
    const [what, claims] of [
      ["role moderator", { role: "moderator" }],
      ["a moderates list", { moderates: ["lobby"] }],
      ["no role", {}],
    ] as const
  ) {
    await t.step(`${what}: 401 and no cookie`, async () => {
      const token = await signedToken({ sub: "u-mo", name: "Mo", ...claims });
      const response = await post(server, "/admin/session", { token });
      assert.equal(response.status, 401);
      assert.equal(response.headers.get("set-cookie"), null);
      assert.match((await response.json()).error, /admin role/);
    });
  }

  await t.step(
    "a token signed with another key: 401 and no cookie",
    async () => {
      const response = await post(server, "/admin/session", {
        token: "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl",
      });
      assert.equal(response.status, 401);
      assert.equal(response.headers.get("set-cookie"), null);
      await response.body?.cancel();
    },
  );

  await t.step("without an API key the key form is not offered", async () => {
    const page = await (await get(server, "/admin/")).text();
    assert.doesNotMatch(page, /id="admin-key"/);
    assert.match(page, /id="admin-token-error"/);
  });
});

Deno.test("the console moderates through the server API's handlers, as its signed-in person", async (t) => {
  await using server = await buildServer({
    ...OPTIONAL_SIGN_IN,
    CHAT_API_KEY: KEY,
  });
  const room = uniqueRoom("console");
  const ban = { sub: "u-troll", duration: 600, reason: "spam" };
  const headers = (cookie: string, origin = ORIGIN) => ({
    Cookie: cookie,
    Origin: origin,
    "Content-Type": "application/json",
  });

  await t.step("without a session: 401, nothing stored", async () => {
    const response = await server.app.request(`/admin/api/rooms/${room}/bans`, {
      method: "POST",
      headers: { Origin: ORIGIN, "Content-Type": "application/json" },
      body: JSON.stringify(ban),
    });
    assert.equal(response.status, 401);
    await response.body?.cancel();
  });

  await t.step("from another site: 403, nothing stored", async () => {
    const cookie = await signIn(server);
    const response = await server.app.request(`/admin/api/rooms/${room}/bans`, {
      method: "POST",
      headers: headers(cookie, "https://attacker.example"),
      body: JSON.stringify(ban),
    });
    assert.equal(response.status, 403);
    await response.body?.cancel();
    const list = await get(server, `/admin/api/rooms/${room}/bans`, cookie);
    assert.deepEqual((await list.json()).sanctions, []);
  });

  await t.step(
    "with the key's session: banned, listed, audited as api-key, lifted",
    async () => {
      const cookie = await signIn(server);
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
      const all = await (await get(server, "/admin/api/bans", cookie)).json();
      assert.deepEqual(all.sanctions.map((s: { id: string }) => s.id), [
        sanction.id,
      ]);
      const audit =
        await (await get(server, `/admin/api/audit?room=${room}`, cookie))
          .json();
      assert.equal(audit.entries[0]?.action, "ban");
      assert.equal(audit.entries[0]?.actor, "api-key");
      const lift = await server.app.request(`/admin/api/bans/${sanction.id}`, {
        method: "DELETE",
        headers: headers(cookie),
      });
      assert.equal(lift.status, 204);
      const after = await (await get(server, "/admin/api/bans", cookie)).json();
      assert.deepEqual(after.sanctions, []);
    },
  );

  await t.step(
    "delete and disconnect: done and audited as api-key",
    async () => {
      const cookie = await signIn(server);
      const posted = await server.app.request(`/api/rooms/${room}/messages`, {
        method: "POST",
        headers: {
          Authorization: `Bearer ${KEY}`,
          "Content-Type": "application/json",
        },
        body: JSON.stringify({ user: "ann", message: "to delete" }),
      });
      const { id } = await posted.json();
      const removed = await server.app.request(
        `/admin/api/rooms/${room}/messages/${id}`,
        { method: "DELETE", headers: headers(cookie) },
      );
      assert.equal(removed.status, 204);
      assert.deepEqual(await texts(server, room), []);
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
        await (await get(server, `/admin/api/audit?room=${room}`, cookie))
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
      const cookie = cookieOf(await post(server, "/admin/session", { token }));
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
      env: { ...SHARED_ROOMS_ENV, REDIS_URL: redis.url, CHAT_API_KEY: KEY },
    });
    const signedIn = await fetch(`${server.origin}/admin/session`, {
      method: "POST",
      headers: { Origin: server.origin },
      body: new URLSearchParams({ key: KEY }),
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
