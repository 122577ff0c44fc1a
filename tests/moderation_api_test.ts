/**
 * The moderation routes of the server API on a real server: mutes and bans
 * (imposed, enforced on the sockets, listed, lifted), the audit log with
 * its pages, the audited delete and disconnect, and every refusal: bad
 * input (400), no key (401), nothing to lift (404).
 *
 * @module
 */

import assert from "node:assert/strict";
import { CloseCode } from "../client/protocol.js";
import {
  SERVER,
  SHARED_ROOMS_ENV,
  startServerProcess,
} from "../testkit/process.ts";
import { ignoreWithoutRedis, startRedis } from "../testkit/redis.ts";
import {
  startServer,
  storedMessages,
  uniqueRoom,
  UPGRADE_HEADERS,
  waitUntil,
} from "../testkit/server.ts";
import { TestClient } from "../testkit/test_client.ts";
import { OPTIONAL_SIGN_IN, signedToken } from "../testkit/tokens.ts";

const KEY = "test-api-key-0123456789abcdef";
const auth = { Authorization: `Bearer ${KEY}` };

/** A server, in this process or a child. */
type TestServer = { readonly origin: string; wsUrl(path: string): string };

async function call(
  server: TestServer,
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = auth,
): Promise<Response> {
  return await fetch(`${server.origin}${path}`, {
    method,
    headers: { "Content-Type": "application/json", ...headers },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
}

/** Calls and expects `status`; returns the JSON answer (null for none). */
async function expect(
  server: TestServer,
  status: number,
  method: string,
  path: string,
  body?: unknown,
  headers?: Record<string, string>,
): Promise<Record<string, unknown>> {
  const response = await call(server, method, path, body, headers);
  const text = await response.text();
  assert.equal(
    response.status,
    status,
    `${method} ${path} ${JSON.stringify(body)}: ${text}`,
  );
  return text === "" ? {} : JSON.parse(text);
}

/** The ids of the sanctions a list answers. */
async function listed(server: TestServer, path: string): Promise<string[]> {
  const answer = await expect(server, 200, "GET", path);
  assert.ok(Array.isArray(answer.sanctions));
  return answer.sanctions.map((s: { id: string }) => s.id);
}

/** An upgrade's refusal: its status and JSON answer, without a socket. */
async function refusedUpgrade(
  server: TestServer,
  path: string,
): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(`${server.origin}${path}`, {
    headers: { ...UPGRADE_HEADERS, Origin: server.origin },
  });
  return { status: response.status, body: await response.json() };
}

/** The `id` of an answer, checked to be a string. */
function idOf(answer: Record<string, unknown>): string {
  assert.equal(typeof answer.id, "string");
  return String(answer.id);
}

Deno.test("moderation through the server API", async (t) => {
  await using server = await startServer({
    CHAT_API_KEY: KEY,
    ...OPTIONAL_SIGN_IN,
  });

  await t.step(
    "a ban closes the user's socket with 4003 and keeps them out, under a new name or key too, until it is lifted",
    async () => {
      const room = uniqueRoom("ban");
      const troll = await TestClient.join(
        server.wsUrl(`/ws/chat/${room}/?name=troll&key=troll-browser-key-01`),
      );
      await using stays = await TestClient.join(
        server.wsUrl(`/ws/chat/${room}/?name=nice&token=${await signedToken({
          sub: "u-nice",
        })}`),
      );
      const before = Date.now();
      const ban = await expect(
        server,
        201,
        "POST",
        `/api/rooms/${room}/bans`,
        { user: "troll", duration: 600, reason: "spam links" },
      );
      assert.equal(ban.kind, "ban");
      assert.equal(ban.room, room);
      assert.equal(ban.by, "api");
      assert.equal(ban.reason, "spam links");
      assert.deepEqual(
        { user: (ban.target as { user: string }).user },
        { user: "troll" },
      );
      const until = Date.parse(String(ban.until));
      assert.ok(until >= before + 600_000 && until <= Date.now() + 600_000);

      const closed = await troll.closed;
      assert.equal(closed.code, CloseCode.Banned);
      assert.equal(closed.code, 4003);
      assert.match(closed.reason, /^Banned until .*: spam links$/);
      await stays.waitForMatching(
        (f) => f.type === "leave" && f.user === "troll",
        1,
      );

      for (
        const path of [
          `/ws/chat/${room}/?name=troll&key=troll-browser-key-01`,
          `/ws/chat/${room}/?name=other&key=troll-browser-key-01`,
          `/ws/chat/${room}/?name=fresh&key=a-brand-new-key-0001`,
        ]
      ) {
        const refused = await refusedUpgrade(server, path);
        assert.equal(refused.status, 403, path);
        assert.equal(refused.body.code, "banned");
        assert.equal(refused.body.reason, "spam links");
        assert.equal(refused.body.until, ban.until);
        assert.match(String(refused.body.error), /banned .*spam links/);
      }
      assert.equal(stays.socket.readyState, WebSocket.OPEN);

      const id = idOf(ban);
      assert.deepEqual(await listed(server, `/api/rooms/${room}/bans`), [id]);
      assert.ok((await listed(server, "/api/bans")).includes(id));
      assert.deepEqual(await listed(server, `/api/rooms/${room}/mutes`), []);
      const [shown] = (await expect(
        server,
        200,
        "GET",
        `/api/rooms/${room}/bans`,
      )).sanctions as { target: { addresses: string[] } }[];
      assert.deepEqual(shown?.target.addresses, ["127.0.0.1"]);

      await expect(server, 204, "DELETE", `/api/bans/${id}`);
      await expect(server, 404, "DELETE", `/api/bans/${id}`);
      assert.deepEqual(await listed(server, `/api/rooms/${room}/bans`), []);
      await using back = await TestClient.join(
        server.wsUrl(`/ws/chat/${room}/?name=troll&key=troll-browser-key-01`),
      );
      assert.equal(back.socket.readyState, WebSocket.OPEN);
    },
  );

  await t.step(
    "a ban of every room closes a signed user's sockets in each room and refuses them anywhere",
    async () => {
      const rooms = [uniqueRoom("all"), uniqueRoom("all"), uniqueRoom("all")];
      const token = await signedToken({ sub: "u-banned-everywhere" });
      const sockets = await Promise.all(
        rooms.slice(0, 2).map((room) =>
          TestClient.join(server.wsUrl(`/ws/chat/${room}/?token=${token}`))
        ),
      );
      const ban = await expect(server, 201, "POST", "/api/bans", {
        sub: "u-banned-everywhere",
        duration: null,
        reason: "threats",
      });
      assert.equal(ban.room, null);
      assert.equal(ban.until, null);
      assert.equal(
        (ban.target as { sub?: string }).sub,
        "u-banned-everywhere",
      );
      for (const socket of sockets) {
        assert.equal((await socket.closed).code, CloseCode.Banned);
      }
      const refused = await refusedUpgrade(
        server,
        `/ws/chat/${rooms[2]}/?token=${token}`,
      );
      assert.equal(refused.status, 403);
      assert.equal(refused.body.code, "banned");
      assert.equal(refused.body.until, null);
      // A room's list holds the bans of every room too.
      const id = idOf(ban);
      assert.ok(
        (await listed(server, `/api/rooms/${rooms[2]}/bans`)).includes(id),
      );
      await expect(server, 204, "DELETE", `/api/bans/${id}`);
      await using back = await TestClient.join(
        server.wsUrl(`/ws/chat/${rooms[2]}/?token=${token}`),
      );
      assert.equal(back.socket.readyState, WebSocket.OPEN);
    },
  );

  await t.step(
    "a mute refuses the user's messages with muted and stores nothing, until it is lifted",
    async () => {
      const room = uniqueRoom("mute");
      await using bob = await TestClient.join(
        server.wsUrl(`/ws/chat/${room}/?name=bob&key=bob-browser-key-0001`),
      );
      // Signed: a guest's mute holds for every guest of its address.
      await using ann = await TestClient.join(
        server.wsUrl(`/ws/chat/${room}/?token=${await signedToken({
          sub: "u-ann",
          name: "ann",
        })}`),
      );
      const mute = await expect(
        server,
        201,
        "POST",
        `/api/rooms/${room}/mutes`,
        { user: "bob", duration: 60, reason: "calm down" },
      );
      assert.equal(mute.kind, "mute");
      const [told] = await bob.waitForType("muted", 1);
      assert.equal(told?.room, room);
      assert.equal(told?.until, mute.until);
      assert.equal(told?.reason, "calm down");

      bob.send({ message: "still here", cid: "c1" });
      const [refused] = await bob.waitForMatching(
        (f) => f.type === "error" && f.code === "muted",
        1,
      );
      assert.equal(refused?.until, mute.until);
      assert.equal(refused?.reason, "calm down");
      assert.match(String(refused?.error), /muted .*calm down/);
      // Bob still reads: Ann's message reaches him.
      ann.send({ message: "hello bob" });
      await bob.waitForMatching((f) => f.message === "hello bob", 1);
      assert.deepEqual(
        (await storedMessages(server, room)).map((m) => m.message),
        ["hello bob"],
      );

      const id = idOf(mute);
      assert.deepEqual(await listed(server, `/api/rooms/${room}/mutes`), [id]);
      assert.ok((await listed(server, "/api/mutes")).includes(id));
      await expect(server, 204, "DELETE", `/api/mutes/${id}`);
      await bob.waitForType("unmuted", 1);
      bob.send({ message: "sorry" });
      await ann.waitForMatching((f) => f.message === "sorry", 1);
      await expect(server, 404, "DELETE", `/api/mutes/${id}`);
    },
  );

  await t.step(
    "a name nobody holds in the room is 404 no_such_user, and nothing is imposed",
    async () => {
      const room = uniqueRoom("nobody");
      for (const kind of ["mutes", "bans"]) {
        const answer = await expect(
          server,
          404,
          "POST",
          `/api/rooms/${room}/${kind}`,
          { user: "ghost", duration: 60 },
        );
        assert.equal(answer.code, "no_such_user");
        assert.deepEqual(
          await listed(server, `/api/rooms/${room}/${kind}`),
          [],
        );
      }
    },
  );

  await t.step(
    "the audit log holds each action, by api, newest first, by room, in pages",
    async () => {
      const room = uniqueRoom("audit");
      await using carl = await TestClient.join(
        server.wsUrl(`/ws/chat/${room}/?name=carl&key=carl-browser-key-001`),
      );
      carl.send({ message: "to delete" });
      await carl.waitForType("message", 1);
      await expect(server, 204, "DELETE", `/api/rooms/${room}/messages/1`);
      const mute = idOf(
        await expect(server, 201, "POST", `/api/rooms/${room}/mutes`, {
          user: "carl",
          duration: 30,
          reason: "r1",
        }),
      );
      await expect(server, 204, "DELETE", `/api/mutes/${mute}`);
      const ban = idOf(
        await expect(server, 201, "POST", `/api/rooms/${room}/bans`, {
          sub: "u-audited",
          duration: 3600,
          reason: "r2",
        }),
      );
      await expect(server, 204, "DELETE", `/api/bans/${ban}`);
      await expect(server, 200, "POST", `/api/rooms/${room}/disconnect`, {
        user: "carl",
      });

      const first = await expect(
        server,
        200,
        "GET",
        `/api/audit?room=${room}&limit=4`,
      );
      const second = await expect(
        server,
        200,
        "GET",
        `/api/audit?room=${room}&limit=4&before=${first.next}`,
      );
      assert.equal(second.next, null);
      const entries = [
        ...first.entries as Record<string, unknown>[],
        ...second.entries as Record<string, unknown>[],
      ];
      assert.deepEqual(
        entries.map((e) => [e.action, e.actor, e.room]),
        [
          ["disconnect", "api", room],
          ["unban", "api", room],
          ["ban", "api", room],
          ["unmute", "api", room],
          ["mute", "api", room],
          ["delete", "api", room],
        ],
      );
      assert.equal(first.next, entries[3]?.id);
      const ids = entries.map((e) => Number(e.id));
      assert.deepEqual(ids, [...ids].sort((a, b) => b - a));
      const byAction = new Map(entries.map((e) => [e.action, e]));
      assert.equal(byAction.get("delete")?.messageId, 1);
      assert.equal(byAction.get("mute")?.sanctionId, mute);
      assert.equal(byAction.get("mute")?.reason, "r1");
      assert.equal(byAction.get("mute")?.user, "carl");
      assert.equal(byAction.get("unban")?.sanctionId, ban);
      assert.equal(byAction.get("disconnect")?.user, "carl");

      // Unfiltered, the newest entries of every room; a limit of one pages.
      const newest = await expect(server, 200, "GET", "/api/audit?limit=1");
      assert.deepEqual(
        (newest.entries as Record<string, unknown>[]).map((e) => e.id),
        [entries[0]?.id],
      );
      assert.equal(newest.next, entries[0]?.id);
      const all = await expect(server, 200, "GET", "/api/audit");
      assert.ok((all.entries as unknown[]).length <= 50);
    },
  );

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
      const answer = await expect(server, 400, "POST", path, body);
      assert.match(String(answer.error), says, JSON.stringify(body));
    }
    const notJson = await fetch(`${server.origin}/api/rooms/${room}/bans`, {
      method: "POST",
      headers: auth,
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
      const answer = await expect(server, 400, "GET", `/api/audit?${query}`);
      assert.match(String(answer.error), says);
    }
    assert.deepEqual(await listed(server, `/api/rooms/${room}/mutes`), []);
    assert.deepEqual(await listed(server, `/api/rooms/${room}/bans`), []);
  });

  await t.step(
    "lifting what is not in force is 404, a ban's id as a mute's too",
    async () => {
      const ban = idOf(
        await expect(server, 201, "POST", `/api/rooms/${uniqueRoom()}/bans`, {
          address: "192.0.2.44",
          duration: 60,
        }),
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
        const answer = await expect(server, 404, "DELETE", path);
        assert.match(String(answer.error), /is in force/);
      }
      await expect(server, 204, "DELETE", `/api/bans/${ban}`);
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
        { Authorization: KEY },
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
          const answer = await expect(server, 401, method, path, sent, headers);
          assert.match(String(answer.error), /Bearer <CHAT_API_KEY>/);
        }
      }
      assert.equal(target.socket.readyState, WebSocket.OPEN);
      assert.deepEqual(await listed(server, `/api/rooms/${room}/mutes`), []);
      assert.deepEqual(await listed(server, `/api/rooms/${room}/bans`), []);
      const audit = await expect(server, 200, "GET", `/api/audit?room=${room}`);
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
    const response = await call(server, method, path, body);
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
      env: { ...SHARED_ROOMS_ENV, REDIS_URL: redis.url, CHAT_API_KEY: KEY },
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
    ];
    for (const [method, path, body, says] of requests) {
      const answer = await expect(server, 503, method, path, body);
      assert.match(String(answer.error), says);
    }
    await redis.start();
    await waitUntil(async () => {
      const response = await fetch(`${server.origin}/api/bans`, {
        headers: auth,
      });
      const text = await response.text();
      return response.status === 200 && !text.includes("u-outage");
    }, "the bans answering again, without the refused one");
  },
});
