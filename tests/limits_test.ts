import assert from "node:assert/strict";
import { CloseCode } from "../client/protocol.js";
import {
  recordingLogger,
  startServer,
  storedMessages,
  type TestServer,
  uniqueRoom,
  UPGRADE_HEADERS,
  waitUntil,
  within,
} from "../testkit/server.ts";
import { type Frame, TestClient } from "../testkit/test_client.ts";

const UPGRADE = UPGRADE_HEADERS;

async function stored(server: TestServer, room: string): Promise<string[]> {
  return (await storedMessages(server, room)).map(({ message }) => message);
}

async function upgradeStatus(
  server: TestServer,
  path: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; error: string }> {
  const response = await fetch(`${server.origin}${path}`, {
    headers: { ...UPGRADE, ...headers },
  });
  if (response.status === 101) {
    await response.body?.cancel();
    return { status: 101, error: "" };
  }
  const body = await response.json();
  return { status: response.status, error: String(body.error) };
}

Deno.test("bad input", async (t) => {
  await using server = await startServer({
    CHAT_MAX_MESSAGE_CHARS: "10",
    CHAT_MAX_FRAME_BYTES: "1024",
    CHAT_RATE_LIMIT: "0",
  });

  await t.step(
    "a message over CHAT_MAX_MESSAGE_CHARS is refused with too_long and not stored",
    async () => {
      const room = uniqueRoom();
      await using client = await TestClient.join(
        server.wsUrl(`/ws/chat/${room}/`),
      );
      client.send({ message: "12345678901" });
      client.send({ message: "1234567890" });
      const [error] = await client.waitForType("error", 1);
      assert.deepEqual(error, {
        type: "error",
        code: "too_long",
        error: "Message is longer than 10 characters (11)",
      });
      await client.waitForType("message", 1);
      assert.deepEqual(await stored(server, room), ["1234567890"]);
    },
  );

  await t.step(
    "a frame over CHAT_MAX_FRAME_BYTES closes the socket with 1009",
    async () => {
      const room = uniqueRoom();
      const client = await TestClient.join(server.wsUrl(`/ws/chat/${room}/`));
      // 400 Hangul syllables are 1200 UTF-8 bytes in 400 UTF-16 units.
      client.send(JSON.stringify({ message: "가".repeat(400) }));
      const event = await client.closed;
      assert.equal(event.code, CloseCode.MessageTooBig);
      assert.match(event.reason, /larger than 1024 bytes/);
      assert.deepEqual(await stored(server, room), []);
    },
  );

  await t.step("a frame at the byte limit is parsed, not closed", async () => {
    await using client = await TestClient.join(
      server.wsUrl(`/ws/chat/${uniqueRoom()}/`),
    );
    const padding = " ".repeat(1024 - JSON.stringify({ message: "ok" }).length);
    client.send(`{"message":"ok"}${padding}`);
    await client.waitForType("message", 1);
    assert.deepEqual(client.messageTexts(), ["ok"]);
  });

  await t.step("other text is stored and shown exactly as sent", async () => {
    const room = uniqueRoom();
    await using client = await TestClient.join(
      server.wsUrl(`/ws/chat/${room}/`),
    );
    const texts = [
      "잡담 좋아요",
      "👩‍👩‍👧 🎉",
      "שלום עולם",
      "<script>",
      "a\u0000b",
      "\ttab\n",
    ];
    for (const message of texts) client.send({ message });
    await client.waitForType("message", texts.length);
    assert.deepEqual(client.messageTexts(), texts);
    assert.deepEqual(await stored(server, room), texts);
  });

  await t.step(
    "names and paths at and past their limits answer 4xx, never 500",
    async () => {
      const cases: [string, number][] = [
        [`/ws/chat/${"r".repeat(100)}/`, 101],
        [`/ws/chat/${"r".repeat(101)}/`, 400],
        [`/ws/chat/ok/?name=${"n".repeat(32)}`, 101],
        [`/ws/chat/ok/?name=${"n".repeat(33)}`, 400],
        [`/ws/chat/ok/?name=${encodeURIComponent("잡".repeat(32))}`, 101],
        ["/ws/chat/%E0%A4%A/", 400],
        ["/ws/chat/ok/?name=%E0%A4%A", 101],
        ["/ws/chat/ok/?since=99999999999999999999", 400],
      ];
      for (const [path, status] of cases) {
        assert.equal((await upgradeStatus(server, path)).status, status, path);
      }
      for (
        const path of [
          `/chat/${"r".repeat(101)}/`,
          "/chat/%E0%A4%A/",
          "/chat/%/",
          "/api/rooms/%E0%A4%A/messages",
        ]
      ) {
        const response = await fetch(`${server.origin}${path}`);
        await response.body?.cancel();
        assert.ok(
          response.status >= 400 && response.status < 500,
          `${path}: ${response.status}`,
        );
      }
    },
  );

  await t.step(
    "an overlong URL is refused with 414 or 431, never 500",
    async () => {
      const long = await fetch(`${server.origin}/chat/${"x".repeat(9000)}/`);
      await long.body?.cancel();
      assert.equal(long.status, 414);
      const huge = await fetch(
        `${server.origin}/chat/lobby/?q=${"x".repeat(60_000)}`,
      );
      await huge.body?.cancel();
      assert.ok([414, 431].includes(huge.status), String(huge.status));
    },
  );
});

Deno.test("origin check before the upgrade", async (t) => {
  const log = recordingLogger();
  await using server = await startServer({
    ALLOWED_ORIGINS: "https://app.example",
  }, { log });
  const host = new URL(server.origin).host;

  await t.step(
    "the page's own host and listed origins are allowed",
    async () => {
      assert.equal(
        (await upgradeStatus(server, "/ws/chat/a/", { Origin: server.origin }))
          .status,
        101,
      );
      assert.equal(
        (await upgradeStatus(server, "/ws/chat/a/", {
          Origin: "https://app.example",
        })).status,
        101,
      );
    },
  );

  await t.step(
    "a request without Origin (not a browser) is allowed by default",
    async () => {
      assert.equal((await upgradeStatus(server, "/ws/chat/a/")).status, 101);
    },
  );

  await t.step(
    "another origin is refused with 403 and logged with the reason",
    async () => {
      const refused = await upgradeStatus(server, "/ws/chat/a/", {
        Origin: "https://evil.example",
      });
      assert.equal(refused.status, 403);
      assert.match(
        refused.error,
        /^Origin not allowed: https:\/\/evil\.example is neither this page's origin/,
      );
      const entry = log.events.find((e) => e.event === "upgrade.refused");
      assert.ok(entry);
      assert.equal(entry.level, "warn");
      assert.match(
        String(entry.reason),
        new RegExp(
          `evil\\.example is neither this page's origin \\(http://${host}\\)`,
        ),
      );
    },
  );

  await t.step("ALLOWED_ORIGINS=* allows every origin", async () => {
    await using open = await startServer({ ALLOWED_ORIGINS: "*" });
    assert.equal(
      (await upgradeStatus(open, "/ws/chat/a/", {
        Origin: "https://evil.example",
      })).status,
      101,
    );
  });

  await t.step(
    "CHAT_REQUIRE_ORIGIN=1 refuses requests without Origin",
    async () => {
      await using strict = await startServer({ CHAT_REQUIRE_ORIGIN: "1" });
      const refused = await upgradeStatus(strict, "/ws/chat/a/");
      assert.equal(refused.status, 403);
      assert.match(refused.error, /CHAT_REQUIRE_ORIGIN/);
      assert.equal(
        (await upgradeStatus(strict, "/ws/chat/a/", { Origin: strict.origin }))
          .status,
        101,
      );
    },
  );
});

Deno.test("rate limit", async (t) => {
  // The bucket starts with the burst and gains `rate` tokens a second while
  // the test runs, however long that is; no step counts on it gaining none.
  const rate = 1;
  const burst = 10;
  const limits = {
    CHAT_RATE_LIMIT: String(rate),
    CHAT_RATE_BURST: String(burst),
  };
  const isAnswer = (frame: Frame) =>
    frame.type === "message" || frame.type === "error";
  /** The most messages the bucket can let through in `elapsedMs`. */
  const mostAccepted = (elapsedMs: number) =>
    burst + Math.floor((elapsedMs / 1000) * rate);

  await t.step(
    "excess messages get rate_limited and are not stored",
    async () => {
      await using server = await startServer(limits);
      const room = uniqueRoom();
      await using client = await TestClient.join(
        server.wsUrl(`/ws/chat/${room}/`),
      );
      // One at a time, each answered before the next, until one is
      // refused: that happens once the burst is spent, unless a round trip
      // takes as long as a refill (1 s), which the cap turns into a failure.
      const started = performance.now();
      let refusal: Frame | undefined;
      for (let sent = 1; !refusal; sent++) {
        assert.ok(sent <= burst + 50, `no refusal in ${burst + 50} messages`);
        client.send({ message: `m${sent - 1}` });
        const answer = (await client.waitForMatching(isAnswer, sent)).at(-1);
        if (answer?.type === "error") refusal = answer;
      }
      const elapsedMs = performance.now() - started;
      assert.equal(refusal.code, "rate_limited");
      assert.match(
        String(refusal.error),
        /at most 1 per second from your address \(bursts of 10\)/,
      );
      const accepted = client.messageTexts();
      assert.ok(accepted.length >= burst, "the whole burst went through");
      assert.ok(
        accepted.length <= mostAccepted(elapsedMs),
        `${accepted.length} accepted in ${elapsedMs} ms`,
      );
      assert.deepEqual(
        accepted,
        Array.from({ length: accepted.length }, (_, i) => `m${i}`),
      );
      assert.deepEqual(await stored(server, room), accepted, "not stored");
      assert.equal(
        client.socket.readyState,
        WebSocket.OPEN,
        "a short excess is not a flood",
      );
    },
  );

  await t.step(
    "a connection that keeps flooding is closed with 1008",
    async () => {
      await using server = await startServer(limits);
      const room = uniqueRoom();
      const client = await TestClient.join(server.wsUrl(`/ws/chat/${room}/`));
      // Far more than the burst plus what can refill before the deadline.
      // Each names itself (cid), and so does its refusal; the echoes of
      // accepted ones come before the close.
      const sent = 500;
      const started = performance.now();
      for (let i = 0; i < sent; i++) {
        client.send({ message: `m${i}`, cid: String(i) });
      }
      const event = await within(client.closed, 30_000, "the close");
      const elapsedMs = performance.now() - started;
      assert.equal(event.code, CloseCode.PolicyViolation);
      assert.match(event.reason, /Flooding/);

      const errors = client.ofType("error");
      assert.ok(errors.every((frame) => frame.code === "rate_limited"));
      const refused = errors.map((frame) => Number(frame.cid));
      const last = refused.at(-1) ?? -1;
      assert.deepEqual(
        refused.slice(-burst),
        Array.from({ length: burst }, (_, i) => last - burst + 1 + i),
        "cut off at the refusal after `burst` refusals in a row",
      );
      assert.ok(refused.every((i) => i >= burst), "the burst goes through");
      // Frames 0 … last were answered, the one after closed the socket, the
      // rest were dropped; the answered ones not refused were accepted.
      const accepted = Array.from({ length: last + 1 }, (_, i) => i)
        .filter((i) => !refused.includes(i))
        .map((i) => `m${i}`);
      assert.ok(
        accepted.length <= mostAccepted(elapsedMs),
        `${accepted.length} accepted in ${elapsedMs} ms`,
      );
      assert.deepEqual(client.messageTexts(), accepted, "each one echoed");
      await waitUntil(
        async () => (await stored(server, room)).length >= accepted.length,
        "storing the accepted messages",
      );
      assert.deepEqual(await stored(server, room), accepted);
    },
  );

  await t.step("CHAT_RATE_LIMIT=0 turns the limit off", async () => {
    await using server = await startServer({ CHAT_RATE_LIMIT: "0" });
    await using client = await TestClient.join(
      server.wsUrl(`/ws/chat/${uniqueRoom()}/`),
    );
    for (let i = 0; i < 100; i++) client.send({ message: `m${i}` });
    await client.waitForType("message", 100);
    assert.equal(client.ofType("error").length, 0);
  });
});

Deno.test("connection limits", async (t) => {
  await t.step(
    "over CHAT_MAX_CONNECTIONS_PER_IP is refused with 429 before the upgrade",
    async () => {
      const log = recordingLogger();
      await using server = await startServer({
        CHAT_MAX_CONNECTIONS_PER_IP: "3",
      }, { log });
      const url = server.wsUrl(`/ws/chat/${uniqueRoom()}/`);
      const clients = [
        await TestClient.join(url),
        await TestClient.join(url),
        await TestClient.join(url),
      ];
      const refused = await upgradeStatus(server, "/ws/chat/x/");
      assert.equal(refused.status, 429);
      assert.match(
        refused.error,
        /Too many connections from your address \(limit 3\)/,
      );
      await clients[0]?.close();
      // The server frees the place when it sees the close, and logs it.
      await log.waitFor((event) => event.event === "socket.close", 1);
      assert.equal((await upgradeStatus(server, "/ws/chat/x/")).status, 101);
      await Promise.all(clients.map((c) => c.close()));
    },
  );

  await t.step("over CHAT_MAX_CONNECTIONS is refused with 503", async () => {
    await using server = await startServer({
      CHAT_MAX_CONNECTIONS: "2",
      CHAT_MAX_CONNECTIONS_PER_IP: "2",
    });
    const url = server.wsUrl(`/ws/chat/${uniqueRoom()}/`);
    await using a = await TestClient.join(url);
    await using b = await TestClient.join(url);
    const refused = await upgradeStatus(server, "/ws/chat/x/");
    assert.equal(refused.status, 503);
    assert.match(refused.error, /limit of 2 connections/);
    assert.equal(a.socket.readyState + b.socket.readyState, 2 * WebSocket.OPEN);
  });
});
