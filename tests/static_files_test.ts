import assert from "node:assert/strict";
import { buildServer } from "../testkit/server.ts";

Deno.test("static files", async (t) => {
  await using server = await buildServer();
  const { app } = server;

  await t.step("are served with a content type and an ETag", async () => {
    for (
      const [file, type] of [
        ["room.js", /javascript/],
        ["room_status.js", /javascript/],
        ["room_name.js", /javascript/],
        ["room_older.js", /javascript/],
        ["room_online.js", /javascript/],
        ["room_outbox.js", /javascript/],
        ["room_log.js", /javascript/],
        ["room_days.js", /javascript/],
        ["room_welcome.js", /javascript/],
        ["room_storage.js", /javascript/],
        ["room_embed.js", /javascript/],
        ["room_typing.js", /javascript/],
        ["room_actions.js", /javascript/],
        ["room_long_press.js", /javascript/],
        ["room_reactions.js", /javascript/],
        ["room_text.js", /javascript/],
        ["room_unread.js", /javascript/],
        ["room_notify.js", /javascript/],
        ["room_complete.js", /javascript/],
        ["room_moderation.js", /javascript/],
        ["room_moderation_dialog.js", /javascript/],
        ["room_sanctions.js", /javascript/],
        ["index_signed_in.js", /javascript/],
        ["index.js", /javascript/],
        ["style.css", /text\/css/],
      ] as const
    ) {
      const response = await app.request(`/static/${file}`);
      assert.equal(response.status, 200, file);
      assert.match(response.headers.get("content-type") ?? "", type);
      assert.match(response.headers.get("etag") ?? "", /^"[0-9a-f]+"$/);
      assert.ok((await response.text()).length > 100);
    }
  });

  await t.step("answer 304 to a matching If-None-Match", async () => {
    const first = await app.request("/static/room.js");
    await first.body?.cancel();
    const tag = first.headers.get("etag") ?? "";
    const again = await app.request("/static/room.js", {
      headers: { "If-None-Match": tag },
    });
    assert.equal(again.status, 304);
  });

  await t.step("never write user text into HTML", async () => {
    for (
      const file of [
        "room.js",
        "room_status.js",
        "room_name.js",
        "room_older.js",
        "room_online.js",
        "room_outbox.js",
        "room_log.js",
        "room_days.js",
        "room_welcome.js",
        "room_storage.js",
        "room_embed.js",
        "room_typing.js",
        "room_actions.js",
        "room_long_press.js",
        "room_reactions.js",
        "room_text.js",
        "room_unread.js",
        "room_notify.js",
        "room_complete.js",
        "room_moderation.js",
        "room_moderation_dialog.js",
        "room_sanctions.js",
        "index_signed_in.js",
        "index.js",
      ]
    ) {
      const source = await (await app.request(`/static/${file}`)).text();
      assert.doesNotMatch(
        source,
        /innerHTML|outerHTML|insertAdjacentHTML|document\.write/,
      );
    }
  });

  await t.step(
    "read close codes from the protocol's one table, never a copy",
    async () => {
      const source = await (await app.request("/static/room_status.js"))
        .text();
      assert.match(source, /from "\.\.\/client\/chat_client\.js"/);
      for (const file of ["room.js", "room_status.js", "index.js"]) {
        const script = await (await app.request(`/static/${file}`)).text();
        assert.doesNotMatch(script, /\b40(01|09|10)\b/, file);
      }
      const library = await (await app.request("/client/chat_client.js"))
        .text();
      assert.match(library, /from "\.\/protocol\.js"/);
      assert.doesNotMatch(library, /\b40(01|09|10)\b/);
    },
  );

  await t.step("choose wss: when the page is served over https", async () => {
    const source = await (await app.request("/client/connecting.js")).text();
    assert.match(source, /url\.protocol === "https:" \? "wss:" : "ws:"/);
  });

  await t.step(
    "/favicon.ico answers with the app's SVG icon, the one the pages link",
    async () => {
      const response = await app.request("/favicon.ico");
      assert.equal(response.status, 200);
      assert.match(
        response.headers.get("content-type") ?? "",
        /image\/svg\+xml/,
      );
      const icon = await response.text();
      assert.match(icon, /^<svg /);
      const linked = await app.request("/static/favicon.svg");
      assert.equal(linked.status, 200);
      assert.equal(await linked.text(), icon);
      const page = await (await app.request("/chat/")).text();
      assert.match(
        page,
        /<link rel="icon" href="\/static\/favicon\.svg" type="image\/svg\+xml">/,
      );
    },
  );

  await t.step(
    "the client library is served for any site to import, with its types",
    async () => {
      const entry = await app.request("/client.js");
      assert.equal(entry.status, 200);
      assert.match(entry.headers.get("content-type") ?? "", /javascript/);
      assert.equal(entry.headers.get("access-control-allow-origin"), "*");
      assert.equal(
        entry.headers.get("cross-origin-resource-policy"),
        "cross-origin",
      );
      assert.equal(
        entry.headers.get("x-typescript-types"),
        "/client/chat_client.d.ts",
      );
      assert.match(await entry.text(), /from "\.\/client\/chat_client\.js"/);
      // Every file the npm package carries, the server serves.
      const { files } = JSON.parse(
        await Deno.readTextFile(
          new URL("../client/package.json", import.meta.url),
        ),
      );
      assert.ok(Array.isArray(files));
      for (const file of files) {
        const response = await app.request(`/client/${file}`);
        assert.equal(response.status, 200, file);
        assert.match(response.headers.get("etag") ?? "", /^"[0-9a-f]+"$/);
        assert.equal(
          await response.text(),
          await Deno.readTextFile(
            new URL(`../client/${file}`, import.meta.url),
          ),
        );
      }
      const missing = await app.request("/client/nope.js");
      assert.equal(missing.status, 404);
      await missing.body?.cancel();
    },
  );

  await t.step("an unknown file is a 404", async () => {
    const response = await app.request("/static/nope.js");
    assert.equal(response.status, 404);
    await response.body?.cancel();
  });
});
