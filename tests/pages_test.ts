import assert from "node:assert/strict";
import { buildServer } from "../testkit/server.ts";

function hasId(html: string, id: string): boolean {
  return html.includes(`id="${id}"`);
}

Deno.test("pages", async (t) => {
  await using server = await buildServer();
  const { app } = server;

  await t.step("/ redirects to /chat/", async () => {
    const response = await app.request("/");
    assert.equal(response.status, 302);
    assert.equal(response.headers.get("location"), "/chat/");
  });

  await t.step("the index page keeps the tutorial's ids", async () => {
    const response = await app.request("/chat/");
    assert.equal(response.status, 200);
    const html = await response.text();
    assert.ok(hasId(html, "room-name-input"));
    assert.ok(hasId(html, "room-name-submit"));
    assert.match(html, /<script type="module" src="\/static\/index.js">/);
    assert.doesNotMatch(html, /<script>/, "no inline script");
  });

  await t.step("the room page keeps the tutorial's ids", async () => {
    const response = await app.request("/chat/lobby/");
    assert.equal(response.status, 200);
    const html = await response.text();
    for (
      const id of ["chat-log", "chat-message-input", "chat-message-submit"]
    ) {
      assert.ok(hasId(html, id), id);
    }
    assert.match(html, /data-room="lobby"/);
  });

  await t.step("a Unicode room name works, percent-encoded", async () => {
    const response = await app.request(`/chat/${encodeURIComponent("잡담")}/`);
    assert.equal(response.status, 200);
    assert.match(await response.text(), /data-room="잡담"/);
  });

  await t.step("/chat/:room redirects to the slash form", async () => {
    const response = await app.request("/chat/lobby?x=1");
    assert.equal(response.status, 301);
    assert.equal(response.headers.get("location"), "/chat/lobby/?x=1");
    const korean = await app.request(`/chat/${encodeURIComponent("잡담")}`);
    assert.equal(korean.status, 301);
    assert.equal(
      korean.headers.get("location"),
      `/chat/${encodeURIComponent("잡담")}/`,
    );
  });

  await t.step("an invalid room name is a 404 page saying why", async () => {
    for (
      const path of [
        "/chat/a%20b/",
        "/chat/a%2Fb/",
        `/chat/${"x".repeat(101)}/`,
        "/chat/%E0%A4%A/",
      ]
    ) {
      const response = await app.request(path);
      assert.equal(response.status, 404, path);
      const html = await response.text();
      assert.match(html, /There is no room called “.*”\. A room name/, path);
    }
    assert.equal((await app.request("/chat/a%20b")).status, 404);
    const korean = await app.request("/chat/a%20b/", {
      headers: { "Accept-Language": "ko-KR,ko;q=0.9" },
    });
    assert.match(
      await korean.text(),
      /“a b” 채팅방은 없습니다\. 채팅방 이름에는 글자, 숫자/,
    );
  });

  await t.step("a room name containing <script> is escaped", async () => {
    const response = await app.request(
      "/chat/%3Cscript%3Ealert(1)%3C%2Fscript%3E/",
    );
    assert.equal(response.status, 404);
    const html = await response.text();
    assert.doesNotMatch(html, /<script>alert/);
    assert.match(html, /&lt;script&gt;alert\(1\)&lt;\/script&gt;/);
  });

  await t.step(
    "the UI speaks Korean or English from Accept-Language",
    async () => {
      const ko = await app.request("/chat/", {
        headers: { "Accept-Language": "ko-KR,ko;q=0.9,en;q=0.8" },
      });
      const koHtml = await ko.text();
      assert.match(koHtml, /<html lang="ko">/);
      assert.match(koHtml, /입장하실 채팅방 이름을 입력해주세요/);
      assert.match(koHtml, /value="입장하기"/);
      assert.match(ko.headers.get("vary") ?? "", /Accept-Language/);

      const fr = await app.request("/chat/", {
        headers: { "Accept-Language": "fr-FR" },
      });
      const frHtml = await fr.text();
      assert.match(frHtml, /<html lang="en">/);
      assert.match(frHtml, /value="Enter"/);
    },
  );

  await t.step("pages carry a strict Content-Security-Policy", async () => {
    const response = await app.request("/chat/lobby/");
    const csp = response.headers.get("content-security-policy") ?? "";
    assert.match(csp, /default-src 'none'/);
    assert.match(csp, /script-src 'self'(;|$)/);
    assert.match(csp, /frame-ancestors 'none'/);
    assert.equal(response.headers.get("x-content-type-options"), "nosniff");
    await response.body?.cancel();
  });

  await t.step("a plain GET on the socket route answers 426", async () => {
    for (const path of ["/ws/chat/lobby", "/ws/chat/lobby/"]) {
      const response = await app.request(path);
      assert.equal(response.status, 426, path);
      assert.equal(response.headers.get("upgrade"), "websocket");
      assert.match((await response.json()).error, /WebSocket/);
    }
  });

  await t.step(
    "an invalid room on the socket route is 400 before upgrade",
    async () => {
      const response = await app.request("/ws/chat/a%20b/", {
        headers: { Upgrade: "websocket", Connection: "Upgrade" },
      });
      assert.equal(response.status, 400);
      assert.match(
        (await response.json()).error,
        /^Cannot join room: Room name/,
      );
    },
  );

  await t.step(
    "an unknown path is a 404 page in the reader's language",
    async () => {
      const response = await app.request("/nope");
      assert.equal(response.status, 404);
      assert.match(await response.text(), /There is no page at \/nope\./);
      const korean = await app.request("/nope", {
        headers: { "Accept-Language": "ko" },
      });
      assert.equal(korean.status, 404);
      const html = await korean.text();
      assert.match(html, /<html lang="ko">/);
      assert.match(html, /\/nope 주소에는 페이지가 없습니다\./);
      assert.match(html, /찾을 수 없습니다/);
    },
  );
});
