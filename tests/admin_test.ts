import assert from "node:assert/strict";
import { generateSignedCookie } from "hono/cookie";
import {
  ADMIN_COOKIE,
  ADMIN_PATH,
  adminSessionKey,
} from "../http/admin_session.ts";
import {
  ADMIN_TEST_KEY,
  APP_ORIGIN,
  cookieFlags,
  cookieOf,
  getWith,
  postForm,
  postWithKey,
  roomTexts,
  signInWithKey,
} from "../testkit/admin.ts";
import { buildServer, uniqueRoom } from "../testkit/server.ts";
import {
  OPTIONAL_SIGN_IN,
  secondsFromNow,
  signedToken,
} from "../testkit/tokens.ts";

Deno.test("admin console sign-in and session", async (t) => {
  await using server = await buildServer({ CHAT_API_KEY: ADMIN_TEST_KEY });

  await t.step(
    "the API key sets a signed HttpOnly SameSite=Strict cookie on /admin that expires",
    async () => {
      const response = await postForm(server, "/admin/session", {
        key: ADMIN_TEST_KEY,
      });
      assert.equal(response.status, 303);
      assert.equal(response.headers.get("location"), "/admin/");
      const flags = cookieFlags(response);
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
    const cookie = await signInWithKey(server);
    const page = await getWith(server, "/admin/", cookie);
    assert.equal(page.status, 200);
    assert.match(await page.text(), /id="ov-connections"/);
    assert.equal(page.headers.get("cache-control"), "no-store");
    const rooms = await getWith(server, "/admin/rooms", cookie);
    assert.equal(rooms.status, 200);
    await rooms.body?.cancel();
    // A trailing slash, as people type it, finds the page.
    const slashed = await getWith(server, "/admin/rooms/lobby/", cookie);
    assert.equal(slashed.status, 301);
    assert.equal(
      new URL(slashed.headers.get("location") ?? "", "http://localhost")
        .pathname,
      "/admin/rooms/lobby",
    );
    await slashed.body?.cancel();
    const overview = await getWith(server, "/admin/api/overview", cookie);
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
    const response = await postForm(server, "/admin/session", {
      key: "not-the-key-0123456789abcdef",
    });
    assert.equal(response.status, 401);
    assert.equal(response.headers.get("set-cookie"), null);
    assert.match(await response.text(), /not the server&#39;s API key/);
  });

  await t.step("without a session the pages go to sign-in", async () => {
    const page = await getWith(server, "/admin/rooms");
    assert.equal(page.status, 303);
    assert.equal(page.headers.get("location"), "/admin/");
    const signIn = await getWith(server, "/admin/");
    assert.match(await signIn.text(), /id="admin-key"/);
    const api = await getWith(server, "/admin/api/overview");
    assert.equal(api.status, 401);
    assert.match((await api.json()).error, /Sign in/);
  });

  await t.step("a cross-site POST or DELETE is refused with 403", async () => {
    const cookie = await signInWithKey(server);
    const foreign = await postForm(server, "/admin/session", {
      key: ADMIN_TEST_KEY,
    }, {
      Origin: "https://attacker.example",
    });
    assert.equal(foreign.status, 403);
    assert.equal(foreign.headers.get("set-cookie"), null);
    assert.match((await foreign.json()).error, /attacker\.example/);
    const bare = await postForm(server, "/admin/session", {
      key: ADMIN_TEST_KEY,
    }, {});
    assert.equal(bare.status, 403);
    await bare.body?.cancel();

    const room = uniqueRoom("admin");
    const id = await postWithKey(server, room, "ann", "stays");
    const remove = await server.app.request(
      `/admin/api/rooms/${room}/messages/${id}`,
      {
        method: "DELETE",
        headers: { Cookie: cookie, Origin: "https://attacker.example" },
      },
    );
    assert.equal(remove.status, 403);
    await remove.body?.cancel();
    assert.deepEqual(await roomTexts(server, room), ["stays"]);

    const same = await server.app.request(
      `/admin/api/rooms/${room}/messages/${id}`,
      { method: "DELETE", headers: { Cookie: cookie, Origin: APP_ORIGIN } },
    );
    assert.equal(same.status, 204);
    assert.deepEqual(await roomTexts(server, room), []);
  });

  await t.step("a tampered, expired or foreign cookie is refused", async () => {
    const cookie = await signInWithKey(server);
    const [name, value = ""] = cookie.split("=");
    const decoded = decodeURIComponent(value);
    const signature = decoded.slice(decoded.lastIndexOf(".") + 1);
    const longer = JSON.stringify({ by: "key", exp: Date.now() + 1e12 });
    const tampered = `${name}=${encodeURIComponent(`${longer}.${signature}`)}`;
    const refused = await getWith(server, "/admin/api/overview", tampered);
    assert.equal(refused.status, 401);
    await refused.body?.cancel();

    const { key } = await adminSessionKey({ apiKey: ADMIN_TEST_KEY });
    const expiredValue = JSON.stringify({ by: "key", exp: Date.now() - 1 });
    const expired = (await generateSignedCookie(
      ADMIN_COOKIE,
      expiredValue,
      key,
    )).split(";")[0] ?? "";
    const stale = await getWith(server, "/admin/api/overview", expired);
    assert.equal(stale.status, 401, "a cookie past its expiry is refused");
    await stale.body?.cancel();

    const other = await adminSessionKey({ apiKey: "another-key-0123456789ab" });
    const foreign = (await generateSignedCookie(
      ADMIN_COOKIE,
      JSON.stringify({ by: "key", exp: Date.now() + 60_000 }),
      other.key,
    )).split(";")[0] ?? "";
    const signedElsewhere = await getWith(
      server,
      "/admin/api/overview",
      foreign,
    );
    assert.equal(signedElsewhere.status, 401);
    await signedElsewhere.body?.cancel();

    const fine = await getWith(server, "/admin/api/overview", cookie);
    assert.equal(fine.status, 200);
    await fine.body?.cancel();
  });

  await t.step("sign-out clears the cookie", async () => {
    const cookie = await signInWithKey(server);
    const response = await postForm(server, "/admin/signout", {}, {
      Origin: APP_ORIGIN,
      Cookie: cookie,
    });
    assert.equal(response.status, 303);
    const flags = cookieFlags(response);
    assert.equal(flags.get("max-age"), "0");
    assert.equal(flags.get("path"), ADMIN_PATH);
    assert.equal(cookieOf(response), `${ADMIN_COOKIE}=`);
  });
});

Deno.test("the admin cookie is Secure over https, also from a trusted proxy", async (t) => {
  await using server = await buildServer({
    CHAT_API_KEY: ADMIN_TEST_KEY,
    CHAT_TRUSTED_PROXIES: "127.0.0.1",
  });
  const proxy = { remoteAddr: { hostname: "127.0.0.1" } };
  const stranger = { remoteAddr: { hostname: "192.0.2.7" } };

  await t.step("served over https directly", async () => {
    const response = await postForm(
      server,
      "/admin/session",
      { key: ADMIN_TEST_KEY },
      { Origin: "https://localhost" },
      "https://localhost/admin/session",
    );
    assert.equal(response.status, 303);
    assert.ok(cookieFlags(response).has("secure"));
  });

  await t.step("behind a trusted proxy that says https", async () => {
    const response = await postForm(
      server,
      "/admin/session",
      { key: ADMIN_TEST_KEY },
      { Origin: "https://localhost", "X-Forwarded-Proto": "https" },
      `${APP_ORIGIN}/admin/session`,
      proxy,
    );
    assert.equal(response.status, 303);
    assert.ok(cookieFlags(response).has("secure"));
  });

  await t.step("not when anyone else says https", async () => {
    const response = await postForm(
      server,
      "/admin/session",
      { key: ADMIN_TEST_KEY },
      { Origin: APP_ORIGIN, "X-Forwarded-Proto": "https" },
      `${APP_ORIGIN}/admin/session`,
      stranger,
    );
    assert.equal(response.status, 303);
    assert.ok(!cookieFlags(response).has("secure"));
  });
});

Deno.test("every server sharing the API key accepts the console's cookie", async () => {
  await using first = await buildServer({ CHAT_API_KEY: ADMIN_TEST_KEY });
  await using second = await buildServer({ CHAT_API_KEY: ADMIN_TEST_KEY });
  const cookie = await signInWithKey(first);
  const response = await getWith(second, "/admin/api/overview", cookie);
  assert.equal(response.status, 200);
  await response.body?.cancel();
});

Deno.test("without an API key or signed identities the console only says how to turn it on", async () => {
  await using server = await buildServer();
  const page = await getWith(server, "/admin/");
  assert.equal(page.status, 200);
  const html = await page.text();
  assert.match(html, /id="admin-disabled-how"/);
  assert.match(html, /CHAT_API_KEY/);
  assert.doesNotMatch(html, /<form/);
  for (const path of ["/admin/rooms", "/admin/api/overview"]) {
    const response = await getWith(server, path);
    assert.equal(response.status, 404, path);
    await response.body?.cancel();
  }
  const signIn = await postForm(server, "/admin/session", {
    key: ADMIN_TEST_KEY,
  });
  assert.equal(signIn.status, 404);
  assert.equal(signIn.headers.get("set-cookie"), null);
  await signIn.body?.cancel();
});

Deno.test("the console's files are served, and its scripts build no HTML from text", async () => {
  await using server = await buildServer({ CHAT_API_KEY: ADMIN_TEST_KEY });
  const folder = new URL("../static/admin/", import.meta.url);
  const files: string[] = [];
  for await (const entry of Deno.readDir(folder)) files.push(entry.name);
  assert.ok(files.length > 0);
  for (const name of files) {
    const response = await getWith(server, `/admin/static/${name}`);
    assert.equal(response.status, 200, name);
    const body = await response.text();
    assert.equal(body, await Deno.readTextFile(new URL(name, folder)), name);
    assert.doesNotMatch(
      body,
      /innerHTML|outerHTML|insertAdjacentHTML|document\.write/,
      name,
    );
  }
  const cookie = await signInWithKey(server);
  for (
    const page of [
      "/admin/",
      "/admin/rooms",
      "/admin/rooms/lobby",
      "/admin/sanctions",
      "/admin/audit",
    ]
  ) {
    const html = await (await getWith(server, page, cookie)).text();
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
      const response = await postForm(server, "/admin/session", { token });
      assert.equal(response.status, 200);
      assert.deepEqual(await response.json(), { signedIn: "Ada" });
      const flags = cookieFlags(response);
      assert.ok(Number(flags.get("max-age")) <= 600);
      const cookie = cookieOf(response);
      const overview = await getWith(server, "/admin/api/overview", cookie);
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
      const response = await postForm(server, "/admin/session", { token });
      assert.equal(response.status, 401);
      assert.equal(response.headers.get("set-cookie"), null);
      assert.match((await response.json()).error, /admin role/);
    });
  }

  await t.step(
    "a token signed with another key: 401 and no cookie",
    async () => {
      const response = await postForm(server, "/admin/session", {
        token: "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl",
      });
      assert.equal(response.status, 401);
      assert.equal(response.headers.get("set-cookie"), null);
      await response.body?.cancel();
    },
  );

  await t.step("without an API key the key form is not offered", async () => {
    const page = await (await getWith(server, "/admin/")).text();
    assert.doesNotMatch(page, /id="admin-key"/);
    assert.match(page, /id="admin-token-error"/);
  });
});
