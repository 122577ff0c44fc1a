import assert from "node:assert/strict";
import { buildServer } from "../testkit/server.ts";

Deno.test("who may frame the pages", async (t) => {
  await t.step(
    "by default nobody: frame-ancestors 'none' and DENY",
    async () => {
      await using server = await buildServer();
      for (const path of ["/chat/", "/chat/lobby/", "/api/rooms", "/nowhere"]) {
        const answer = await server.app.request(path);
        await answer.body?.cancel();
        assert.match(
          answer.headers.get("Content-Security-Policy") ?? "",
          /(^|; )frame-ancestors 'none'(;|$)/,
          path,
        );
        assert.equal(answer.headers.get("X-Frame-Options"), "DENY", path);
      }
      const page = await (await server.app.request("/chat/lobby/")).text();
      assert.match(page, /data-frame-ancestors=""/);
    },
  );

  await t.step(
    "CHAT_FRAME_ANCESTORS lists the sites, drops X-Frame-Options and tells the room page",
    async () => {
      await using server = await buildServer({
        CHAT_FRAME_ANCESTORS: "https://site.example, http://127.0.0.2:8080",
        CHAT_AUTH: "optional",
        CHAT_AUTH_SECRET: "site-and-chat-share-this-32-byte-secret",
      });
      const answer = await server.app.request("/chat/lobby/");
      const csp = answer.headers.get("Content-Security-Policy") ?? "";
      assert.match(
        csp,
        /(^|; )frame-ancestors https:\/\/site\.example http:\/\/127\.0\.0\.2:8080(;|$)/,
      );
      // The rest of the policy is unchanged.
      assert.match(csp, /default-src 'none'/);
      assert.match(csp, /script-src 'self'/);
      // X-Frame-Options cannot name another origin; SAMEORIGIN would refuse
      // the sites listed in browsers that still read it.
      assert.equal(answer.headers.get("X-Frame-Options"), null);
      const page = await answer.text();
      assert.match(
        page,
        /data-frame-ancestors="https:\/\/site\.example http:\/\/127\.0\.0\.2:8080"/,
      );
      assert.match(page, /data-auth="optional"/);
    },
  );
});
