import assert from "node:assert/strict";
import { CloseCode } from "../client/protocol.js";
import {
  recordingLogger,
  startServer,
  storedMessages,
  uniqueRoom,
} from "../testkit/server.ts";
import { TestClient } from "../testkit/test_client.ts";

const KEY = "test-api-key-0123456789abcdef";
const auth = { Authorization: `Bearer ${KEY}` };

async function call(
  origin: string,
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = auth,
): Promise<Response> {
  return await fetch(`${origin}${path}`, {
    method,
    headers: { "Content-Type": "application/json", ...headers },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
}

/** Asks the server at `origin` to disconnect `user` from `room`. */
async function disconnect(
  origin: string,
  room: string,
  user: string,
): Promise<Response> {
  return await call(origin, "POST", `/api/rooms/${room}/disconnect`, { user });
}

Deno.test("server API", async (t) => {
  // Two servers on one database file: two isolates' worth of members, the
  // bus between them a BroadcastChannel, as under --workers.
  const dir = await Deno.makeTempDir({ prefix: "chat-api-" });
  const log = recordingLogger();
  const env = { CHAT_DB: `${dir}/chat.db`, CHAT_API_KEY: KEY };
  try {
    await using a = await startServer(env, { log });
    await using b = await startServer(env);

    await t.step(
      "a posted message is stored, delivered everywhere and marked as the site's",
      async () => {
        const room = uniqueRoom("api");
        await using onA = await TestClient.join(
          a.wsUrl(`/ws/chat/${room}/?name=ann`),
        );
        await using onB = await TestClient.join(
          b.wsUrl(`/ws/chat/${room}/?name=bob`),
        );
        const response = await call(
          a.origin,
          "POST",
          `/api/rooms/${room}/messages`,
          { user: "Moderator", message: "Welcome!" },
        );
        assert.equal(response.status, 201);
        const frame = await response.json();
        assert.equal(frame.id, 1);
        assert.equal(frame.server, true);
        assert.equal(frame.verified, true);
        for (const client of [onA, onB]) {
          const [message] = await client.waitForType("message", 1);
          assert.equal(message?.message, "Welcome!");
          assert.equal(message?.user, "Moderator");
          assert.equal(message?.server, true);
        }
        onA.send({ message: "thanks" });
        const [, reply] = await onB.waitForType("message", 2);
        assert.equal(reply?.id, 2);
        assert.equal(reply?.verified, false);
        assert.equal(reply?.server, undefined);
      },
    );

    await t.step(
      "a deleted message leaves every member's log, history and since=",
      async () => {
        const room = uniqueRoom("delete");
        await using onA = await TestClient.join(
          a.wsUrl(`/ws/chat/${room}/?name=ann`),
        );
        await using onB = await TestClient.join(
          b.wsUrl(`/ws/chat/${room}/?name=bob`),
        );
        for (const text of ["one", "spam", "three"]) {
          onA.send({ message: text });
        }
        await onB.waitForType("message", 3);
        const response = await call(
          b.origin,
          "DELETE",
          `/api/rooms/${room}/messages/2`,
        );
        assert.equal(response.status, 204);
        for (const client of [onA, onB]) {
          const [deleted] = await client.waitForType("delete", 1);
          assert.deepEqual(deleted, { type: "delete", room, id: 2 });
        }
        assert.deepEqual(
          (await storedMessages(a, room)).map((m) => m.message),
          ["one", "three"],
        );
        await using back = await TestClient.connect(
          a.wsUrl(`/ws/chat/${room}/?name=carl&since=1`),
        );
        const [history] = await back.waitForType("history", 1);
        assert.deepEqual(
          Array.isArray(history?.messages)
            ? history.messages.map((m: { message: string }) => m.message)
            : [],
          ["three"],
        );
        const again = await call(
          a.origin,
          "DELETE",
          `/api/rooms/${room}/messages/2`,
        );
        assert.equal(again.status, 404);
        await again.body?.cancel();
      },
    );

    await t.step(
      "a disconnected user's sockets close on every server, the answer counts them, and others stay",
      async () => {
        const room = uniqueRoom("kick");
        const targetA = await TestClient.join(
          a.wsUrl(`/ws/chat/${room}/?name=troll&key=troll-browser-key-000`),
        );
        const targetB = await TestClient.join(
          b.wsUrl(`/ws/chat/${room}/?name=troll&key=troll-browser-key-000`),
        );
        await using stays = await TestClient.join(
          b.wsUrl(`/ws/chat/${room}/?name=nice`),
        );
        const response = await disconnect(a.origin, room, "troll");
        assert.equal(response.status, 200);
        // Two tabs of one browser, one on each isolate: both counted.
        assert.deepEqual(await response.json(), { closed: 2 });
        for (const target of [targetA, targetB]) {
          const closed = await target.closed;
          assert.equal(closed.code, CloseCode.RemovedBySite);
        }
        await stays.waitForMatching(
          (f) => f.type === "leave" && f.user === "troll",
          1,
        );
        assert.equal(stays.socket.readyState, WebSocket.OPEN);
      },
    );

    await t.step(
      "disconnecting a user who is not there answers that none was closed",
      async () => {
        const room = uniqueRoom("nobody");
        await using present = await TestClient.join(
          b.wsUrl(`/ws/chat/${room}/?name=nice`),
        );
        const response = await disconnect(a.origin, room, "troll");
        assert.equal(response.status, 200);
        assert.deepEqual(await response.json(), { closed: 0 });
        const empty = await disconnect(a.origin, uniqueRoom("empty"), "troll");
        assert.deepEqual(await empty.json(), { closed: 0 });
        assert.equal(present.socket.readyState, WebSocket.OPEN);
      },
    );

    await t.step(
      "a missing or wrong key is 401 and logged without the key",
      async () => {
        const room = uniqueRoom("denied");
        for (
          const headers of [{}, { Authorization: "Bearer wrong" }, {
            Authorization: KEY,
          }]
        ) {
          const response = await call(
            a.origin,
            "POST",
            `/api/rooms/${room}/messages`,
            { user: "x", message: "y" },
            headers,
          );
          assert.equal(response.status, 401);
          await response.body?.cancel();
        }
        assert.deepEqual(await storedMessages(a, room), []);
        const lines = JSON.stringify(log.events);
        assert.match(lines, /api\.unauthorised/);
        assert.ok(!lines.includes(KEY));
      },
    );

    await t.step("bad input is a 400 that says what was wrong", async () => {
      const room = uniqueRoom("bad");
      const cases: [unknown, RegExp][] = [
        [{ message: "no user" }, /"user"/],
        [{ user: "x", message: "   " }, /empty/i],
        [{ user: "x", message: "y".repeat(5000) }, /longer than/],
        [{ user: "\u202Eevil", message: "y" }, /user:/],
        [["not", "an", "object"], /JSON object/],
      ];
      for (const [body, says] of cases) {
        const response = await call(
          a.origin,
          "POST",
          `/api/rooms/${room}/messages`,
          body,
        );
        assert.equal(response.status, 400, JSON.stringify(body));
        assert.match((await response.json()).error, says);
      }
      assert.deepEqual(await storedMessages(a, room), []);
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("without CHAT_API_KEY the server API does not exist", async () => {
  await using server = await startServer();
  const response = await call(
    server.origin,
    "POST",
    `/api/rooms/${uniqueRoom()}/messages`,
    { user: "x", message: "y" },
  );
  assert.equal(response.status, 404);
  await response.body?.cancel();
});

/**
 * Posts `total` bytes of body to `path` over a raw connection, chunked or
 * with a `Content-Length`, writing while reading the answer; stops writing
 * at the answer. Returns its status line and how many body bytes were
 * written by then.
 */
async function postLargeBody(
  port: number,
  path: string,
  total: number,
  framing: "chunked" | "length",
  key = KEY,
): Promise<{ status: string; written: number }> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  const encoder = new TextEncoder();
  const chunk = new Uint8Array(64 * 1024).fill(0x20);
  const head = [
    `POST ${path} HTTP/1.1`,
    `Host: 127.0.0.1:${port}`,
    `Authorization: Bearer ${key}`,
    "Content-Type: application/json",
    framing === "chunked"
      ? "Transfer-Encoding: chunked"
      : `Content-Length: ${total}`,
    "",
    "",
  ].join("\r\n");
  let written = 0;
  let answered = false;
  const writing = (async () => {
    await conn.write(encoder.encode(head));
    const frame = framing === "chunked"
      ? [
        encoder.encode(`${chunk.length.toString(16)}\r\n`),
        chunk,
        encoder.encode("\r\n"),
      ]
      : [chunk];
    while (written < total && !answered) {
      for (const part of frame) await conn.write(part);
      written += chunk.length;
    }
    if (framing === "chunked" && !answered) {
      await conn.write(encoder.encode("0\r\n\r\n"));
    }
  })().catch((error) => {
    // The connection closed under a blocked write: the answer came.
    if (!answered) throw error;
  });
  const buffer = new Uint8Array(4096);
  let text = "";
  // A server that never answers fails the test instead of hanging it.
  const giveUp = setTimeout(() => conn.close(), 10_000);
  try {
    while (!text.includes("\r\n")) {
      const read = await conn.read(buffer);
      if (read === null) break;
      text += new TextDecoder().decode(buffer.subarray(0, read));
    }
  } catch (error) {
    if (
      !(error instanceof Deno.errors.BadResource ||
        error instanceof Deno.errors.Interrupted)
    ) throw error;
    text = "no answer within 10 s";
  } finally {
    clearTimeout(giveUp);
  }
  answered = true;
  const sent = written;
  try {
    conn.close();
  } catch (error) {
    if (!(error instanceof Deno.errors.BadResource)) throw error;
  }
  await writing;
  return { status: text.split("\r\n")[0] ?? "", written: sent };
}

Deno.test("a body over the limit is refused with 413 before it is read whole", async (t) => {
  await using server = await startServer({ CHAT_API_KEY: KEY });
  const port = Number(new URL(server.origin).port);
  const room = uniqueRoom("big");
  const total = 50 * 1024 * 1024;

  for (const framing of ["chunked", "length"] as const) {
    await t.step(
      `${
        framing === "chunked"
          ? "streamed without a length"
          : "with its Content-Length"
      }: 413 long before 50 MB are sent`,
      async () => {
        const { status, written } = await postLargeBody(
          port,
          `/api/rooms/${room}/messages`,
          total,
          framing,
        );
        assert.equal(status, "HTTP/1.1 413 Payload Too Large");
        // Loopback buffers take a few MB before the sender blocks.
        assert.ok(written < total / 4, `wrote ${written} bytes first`);
      },
    );
  }

  await t.step("without the key: 401, and the body is not read", async () => {
    const { status, written } = await postLargeBody(
      port,
      `/api/rooms/${room}/messages`,
      total,
      "chunked",
      "not-the-key",
    );
    assert.equal(status, "HTTP/1.1 401 Unauthorized");
    assert.ok(written < total / 4, `wrote ${written} bytes first`);
  });

  await t.step("the answer is the API's JSON error", async () => {
    const response = await fetch(
      `${server.origin}/api/rooms/${room}/messages`,
      {
        method: "POST",
        headers: { ...auth, "Content-Type": "application/json" },
        body: JSON.stringify({ user: "Site", message: "x".repeat(20_000) }),
      },
    );
    assert.equal(response.status, 413);
    assert.deepEqual(await response.json(), {
      error: "Body is larger than 16384 bytes",
    });
  });
});
