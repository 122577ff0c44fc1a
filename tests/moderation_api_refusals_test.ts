/**
 * What the moderation routes of the server API refuse, and that a refusal
 * changes nothing: bad input (400, saying what was wrong), a caller without
 * the key, whether a guest, a plain or a moderator's token (401), lifting
 * what is not in force (404), no key configured (404), and a store that
 * cannot answer (503).
 *
 * @module
 */

import assert from "node:assert/strict";
import {
  apiCall,
  apiExpect,
  idOf,
  KEY_HEADERS,
  listedIds,
  MODERATION_API_KEY,
} from "../testkit/moderation_api.ts";
import {
  SERVER,
  SHARED_ROOMS_ENV,
  startServerProcess,
} from "../testkit/process.ts";
import { ignoreWithoutRedis, startRedis } from "../testkit/redis.ts";
import { startServer, uniqueRoom, waitUntil } from "../testkit/server.ts";
import { TestClient } from "../testkit/test_client.ts";
import { OPTIONAL_SIGN_IN, signedToken } from "../testkit/tokens.ts";

Deno.test("the moderation routes refuse, and change nothing", async (t) => {
  await using server = await startServer({
    CHAT_API_KEY: MODERATION_API_KEY,
    ...OPTIONAL_SIGN_IN,
  });

  await t.step("bad input is a 400 that says what was wrong", async () => {
    const room = uniqueRoom("bad");
    const cases: [string, unknown, RegExp][] = [
      [`/api/rooms/${room}/mutes`, {}, /exactly one of "user"/],
      [`/api/rooms/${room}/mutes`, { duration: 60 }, /exactly one/],
      [
        `/api/rooms/${room}/bans`,
        { user: "a", sub: "b", duration: 60 },
        /not user and sub/,
      ],
      [`/api/rooms/${room}/mutes`, { sub: "u-1" }, /"duration"/],
      [`/api/rooms/${room}/mutes`, { sub: "u-1", duration: 0 }, /from 1 to/],
      [`/api/rooms/${room}/mutes`, { sub: "u-1", duration: -5 }, /"duration"/],
      [`/api/rooms/${room}/mutes`, { sub: "u-1", duration: 1.5 }, /whole/],
      [`/api/rooms/${room}/mutes`, { sub: "u-1", duration: "60" }, /"60"/],
      [
        `/api/rooms/${room}/bans`,
        { sub: "u-1", duration: 10 * 365 * 24 * 3600 + 1 },
        /from 1 to 315360000/,
      ],
      [
        `/api/rooms/${room}/bans`,
        { sub: "u-1", duration: 60, reason: 7 },
        /"reason" must be a string/,
      ],
      [
        `/api/rooms/${room}/bans`,
        { sub: "u-1", duration: 60, reason: "half \ud800 a pair" },
        /valid Unicode/,
      ],
      [
        `/api/rooms/${room}/bans`,
        { sub: "u-1", duration: 60, reason: "x".repeat(501) },
        /501 characters.*500/,
      ],
      [
        `/api/rooms/${room}/bans`,
        { sub: "u-1", duration: 60, until: "tomorrow" },
        /Unknown field "until"/,
      ],
      [`/api/rooms/${room}/bans`, { sub: "", duration: 60 }, /"sub"/],
      [`/api/rooms/${room}/bans`, { sub: 42, duration: 60 }, /"sub"/],
      [
        `/api/rooms/${room}/bans`,
        { address: "10.0.0.300", duration: 60 },
        /"address" must be an IPv4 or IPv6/,
      ],
      [
        `/api/rooms/${room}/mutes`,
        { user: "\u202Eevil", duration: 60 },
        /user:/,
      ],
      [`/api/rooms/${room}/mutes`, { user: 5, duration: 60 }, /"user"/],
      ["/api/bans", { user: "troll", duration: 60 }, /every room needs "sub"/],
      [`/api/rooms/${room}/mutes`, ["an", "array"], /JSON object/],
      [`/api/rooms/a%20b/mutes`, { sub: "u-1", duration: 60 }, /Cannot mute/],
    ];
    for (const [path, body, says] of cases) {
      const answer = await apiExpect(server, 400, "POST", path, body);
      assert.match(String(answer.error), says, JSON.stringify(body));
    }
    const notJson = await fetch(`${server.origin}/api/rooms/${room}/bans`, {
      method: "POST",
      headers: KEY_HEADERS,
      body: "{not json",
    });
    assert.equal(notJson.status, 400);
    assert.match((await notJson.json()).error, /not JSON/);
    for (
      const [query, says] of [
        ["limit=0", /limit/],
        ["limit=201", /limit must be a whole number from 1 to 200/],
        ["before=abc", /before/],
        ["room=a%20b", /Cannot read the audit log/],
      ] as const
    ) {
      const answer = await apiExpect(server, 400, "GET", `/api/audit?${query}`);
      assert.match(String(answer.error), says);
    }
    assert.deepEqual(await listedIds(server, `/api/rooms/${room}/mutes`), []);
    assert.deepEqual(await listedIds(server, `/api/rooms/${room}/bans`), []);
  });

  await t.step(
    "lifting what is not in force is 404, a ban's id as a mute's too",
    async () => {
      const ban = idOf(
        await apiExpect(
          server,
          201,
          "POST",
          `/api/rooms/${uniqueRoom()}/bans`,
          {
            address: "192.0.2.44",
            duration: 60,
          },
        ),
      );
      for (
        const path of [
          "/api/mutes/mute_none",
          "/api/bans/ban_none",
          `/api/mutes/${ban}`,
          "/api/bans/whatever",
          `/api/bans/ban_${"x".repeat(200)}`,
        ]
      ) {
        const answer = await apiExpect(server, 404, "DELETE", path);
        assert.match(String(answer.error), /is in force/);
      }
      await apiExpect(server, 204, "DELETE", `/api/bans/${ban}`);
    },
  );

  await t.step(
    "a guest, a plain signed user, a moderator's token and a wrong key are 401, and nothing changes",
    async () => {
      const room = uniqueRoom("denied");
      await using target = await TestClient.join(
        server.wsUrl(`/ws/chat/${room}/?name=target`),
      );
      const moderator = await signedToken({ sub: "u-mod", role: "admin" });
      const plain = await signedToken({ sub: "u-plain" });
      const callers: Record<string, string>[] = [
        {},
        { Authorization: `Bearer ${plain}` },
        { Authorization: `Bearer ${moderator}` },
        { Authorization: "Bearer wrong-key" },
        { Authorization: MODERATION_API_KEY },
      ];
      const body = { user: "target", duration: 60 };
      const requests: [string, string, unknown][] = [
        ["POST", `/api/rooms/${room}/mutes`, body],
        ["POST", `/api/rooms/${room}/bans`, body],
        ["POST", "/api/bans", { sub: "u-x", duration: 60 }],
        ["GET", `/api/rooms/${room}/mutes`, undefined],
        ["GET", `/api/rooms/${room}/bans`, undefined],
        ["GET", "/api/mutes", undefined],
        ["GET", "/api/bans", undefined],
        ["DELETE", "/api/mutes/mute_x", undefined],
        ["DELETE", "/api/bans/ban_x", undefined],
        ["GET", `/api/audit?room=${room}`, undefined],
        ["DELETE", `/api/rooms/${room}/messages/1`, undefined],
        ["POST", `/api/rooms/${room}/disconnect`, { user: "target" }],
      ];
      for (const headers of callers) {
        for (const [method, path, sent] of requests) {
          const answer = await apiExpect(
            server,
            401,
            method,
            path,
            sent,
            headers,
          );
          assert.match(String(answer.error), /Bearer <CHAT_API_KEY>/);
        }
      }
      assert.equal(target.socket.readyState, WebSocket.OPEN);
      assert.deepEqual(await listedIds(server, `/api/rooms/${room}/mutes`), []);
      assert.deepEqual(await listedIds(server, `/api/rooms/${room}/bans`), []);
      const audit = await apiExpect(
        server,
        200,
        "GET",
        `/api/audit?room=${room}`,
      );
      assert.deepEqual(audit, { entries: [], next: null });
    },
  );
});

Deno.test("without CHAT_API_KEY the moderation routes do not exist", async () => {
  await using server = await startServer();
  for (
    const [method, path, body] of [
      ["POST", `/api/rooms/${uniqueRoom()}/bans`, { sub: "u-1", duration: 60 }],
      ["GET", "/api/mutes", undefined],
      ["GET", "/api/audit", undefined],
    ] as const
  ) {
    const response = await apiCall(server, method, path, body);
    assert.equal(response.status, 404);
    await response.body?.cancel();
  }
});

Deno.test({
  name:
    "while the store cannot answer, moderation calls are 503 and nothing is imposed",
  ignore: ignoreWithoutRedis,
  async fn() {
    await using redis = await startRedis();
    await using server = await startServerProcess({
      args: SERVER.run(),
      env: {
        ...SHARED_ROOMS_ENV,
        REDIS_URL: redis.url,
        CHAT_API_KEY: MODERATION_API_KEY,
      },
    });
    const room = uniqueRoom("outage");
    await redis.stop();
    await waitUntil(async () => {
      const response = await fetch(`${server.origin}/healthz`);
      await response.body?.cancel();
      return response.status === 503;
    }, "/healthz answering 503");
    const requests: [string, string, unknown, RegExp][] = [
      [
        "POST",
        `/api/rooms/${room}/bans`,
        { sub: "u-outage", duration: 60 },
        /^The ban was not stored: /,
      ],
      ["GET", "/api/mutes", undefined, /^The mutes cannot be read: /],
      ["DELETE", "/api/bans/ban_x", undefined, /^The ban was not lifted: /],
      ["GET", "/api/audit", undefined, /^The audit log cannot be read: /],
      [
        "DELETE",
        `/api/rooms/${room}/messages/1`,
        undefined,
        /^The message was not deleted, or its delete not audited: /,
      ],
      [
        "POST",
        `/api/rooms/${room}/disconnect`,
        { user: "ann" },
        /^Nobody was disconnected: /,
      ],
    ];
    for (const [method, path, body, says] of requests) {
      const answer = await apiExpect(server, 503, method, path, body);
      assert.match(String(answer.error), says);
    }
    await redis.start();
    await waitUntil(async () => {
      const response = await fetch(`${server.origin}/api/bans`, {
        headers: KEY_HEADERS,
      });
      const text = await response.text();
      return response.status === 200 && !text.includes("u-outage");
    }, "the bans answering again, without the refused one");
  },
});
