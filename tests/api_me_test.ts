import assert from "node:assert/strict";
import { buildServer } from "../testkit/server.ts";
import {
  secondsFromNow,
  signedToken as token,
  TEST_AUTH_SECRET as SECRET,
} from "../testkit/tokens.ts";

function me(
  app: {
    request(path: string, init?: RequestInit): Response | Promise<Response>;
  },
  bearer?: string,
): Promise<Response> {
  return Promise.resolve(app.request("/api/me", {
    headers: bearer === undefined ? {} : { Authorization: `Bearer ${bearer}` },
  }));
}

Deno.test("GET /api/me answers a token's name and rooms", async (t) => {
  for (const mode of ["optional", "required"]) {
    await using server = await buildServer({
      CHAT_AUTH: mode,
      CHAT_AUTH_SECRET: SECRET,
    });
    await t.step(`${mode}: a token limited to rooms lists them`, async () => {
      const answer = await me(
        server.app,
        await token({ sub: "u-1", name: "Alice", rooms: ["lobby", "방"] }),
      );
      assert.equal(answer.status, 200);
      assert.equal(answer.headers.get("Cache-Control"), "no-store");
      assert.deepEqual(await answer.json(), {
        name: "Alice",
        rooms: ["lobby", "방"],
      });
    });

    await t.step(`${mode}: a token for every room says null`, async () => {
      const answer = await me(server.app, await token({ sub: "u-2" }));
      assert.equal(answer.status, 200);
      assert.deepEqual(await answer.json(), { name: "u-2", rooms: null });
    });

    await t.step(`${mode}: no token, or a bad one, is 401`, async () => {
      const none = await me(server.app);
      assert.equal(none.status, 401);
      assert.match((await none.json()).error, /Authorization: Bearer/);
      const expired = await me(
        server.app,
        await token({ sub: "u-3", exp: secondsFromNow(-60) }),
      );
      assert.equal(expired.status, 401);
      assert.equal(
        (await expired.json()).error,
        "Token refused: the token has expired",
      );
      // A token in the query is not read: URLs end up in logs.
      const query = await server.app.request(
        `/api/me?token=${await token({ sub: "u-4" })}`,
      );
      assert.equal(query.status, 401);
    });
  }

  await t.step("with sign-in off there is no /api/me", async () => {
    await using server = await buildServer();
    const answer = await me(server.app, await token({ sub: "u-5" }));
    assert.equal(answer.status, 404);
    assert.match((await answer.json()).error, /Sign-in is off/);
  });
});
