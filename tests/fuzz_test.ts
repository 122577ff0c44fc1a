/**
 * Property-based fuzzing of a running server (fast-check): random text
 * frames, random binary frames, random bytes on the raw port and random
 * paths. Every input gets its documented answer, and afterwards the server
 * still serves pages, still delivers messages, has logged no error, and
 * still holds every message it accepted.
 *
 * @module
 */

import assert from "node:assert/strict";
import { CloseCode } from "../client/protocol.js";
import fc from "fast-check";
import { rawStatus } from "../testkit/raw_socket.ts";
import {
  recordingLogger,
  startServer,
  storedMessages,
  type TestServer,
  uniqueRoom,
} from "../testkit/server.ts";
import { type Frame, TestClient } from "../testkit/test_client.ts";

const MAX_FRAME_BYTES = 4096;
const MAX_MESSAGE_CHARS = 200;
const FRAME_ERRORS = ["invalid_json", "bad_frame", "empty", "too_long"];

const encoder = new TextEncoder();

/** A message the server acknowledged by echoing it with an id. */
interface Accepted {
  readonly room: string;
  readonly id: number;
  readonly message: string;
}

/**
 * What the protocol (docs/protocol.md) says a text frame under the size
 * limit must get: the echo of its message, or an error with this code.
 */
function expectedAnswer(
  text: string,
): { echo: string } | { error: string } {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { error: "invalid_json" };
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    return { error: "bad_frame" };
  }
  const type = "type" in value ? value.type : undefined;
  if (type !== undefined && type !== "message") return { error: "bad_frame" };
  const message = "message" in value ? value.message : undefined;
  if (typeof message !== "string" || !message.isWellFormed()) {
    return { error: "bad_frame" };
  }
  if (message.trim() === "") return { error: "empty" };
  if ([...message].length > MAX_MESSAGE_CHARS) return { error: "too_long" };
  return { echo: message };
}

const isReply = (frame: Frame) =>
  frame.type === "message" || frame.type === "error";

/** Text that is mostly not JSON, JSON that is mostly not a frame, and frames. */
const textFrame: fc.Arbitrary<string> = fc.oneof(
  fc.string({ unit: "binary", maxLength: 300 }),
  fc.json({ maxDepth: 3 }),
  fc.record(
    {
      type: fc.oneof(fc.constant("message"), fc.jsonValue({ maxDepth: 1 })),
      message: fc.oneof(
        fc.string({ unit: "binary", maxLength: 250 }),
        fc.string({ unit: "grapheme", minLength: 190, maxLength: 210 }),
        fc.constantFrom("", " \t\n", "\u0000", "<script>alert(1)</script>"),
        // Lone surrogates survive JSON.stringify as \ud800-style escapes.
        fc.string({
          unit: fc.integer({ min: 0xd800, max: 0xdfff }).map((code) =>
            String.fromCharCode(code)
          ),
          minLength: 1,
          maxLength: 3,
        }),
        fc.jsonValue({ maxDepth: 1 }),
      ),
      extra: fc.jsonValue({ maxDepth: 1 }),
    },
    { requiredKeys: [] },
  ).map((frame) => JSON.stringify(frame)),
);

/** Path segments: valid rooms, percent-encoded anything, broken escapes. */
const pathSegment = fc.oneof(
  fc.constantFrom("lobby", "잡담", "caf%C3%A9", "room_1"),
  fc.stringMatching(/^[a-z0-9_.\-]{1,12}$/),
  fc.webSegment(),
  fc.string({ unit: "binary", maxLength: 120 }).map(encodeURIComponent),
  fc.stringMatching(/^[%0-9a-fA-Fg.\/]{0,40}$/),
  fc.string({ unit: "grapheme-ascii", maxLength: 60 })
    .map((text) => text.replace(/[\s#?]/g, "")),
  fc.constantFrom("", "..", ".", "%2e%2e", "%00", "a".repeat(101)),
);

/** Every route, with `*` where a random segment goes, and some non-routes. */
const pathTemplate = fc.constantFrom(
  "/chat/*/",
  "/chat/*",
  "/ws/chat/*/",
  "/ws/chat/*",
  "/api/rooms/*/messages",
  "/api/rooms",
  "/static/*",
  "/*",
  "/*/*/*",
);

/** Query strings with the parameters the routes read, and random ones. */
const query = fc.oneof(
  fc.constant(""),
  fc.webQueryParameters().map((q) => `?${q}`),
  fc.record({
    key: fc.constantFrom("name", "since", "before", "limit"),
    value: fc.oneof(
      fc.string({ unit: "binary", maxLength: 50 }).map(encodeURIComponent),
      fc.stringMatching(/^[%0-9a-fA-F-.e+]{0,30}$/),
      fc.bigInt({ min: -(2n ** 70n), max: 2n ** 70n }).map(String),
    ),
  }).map(({ key, value }) => `?${key}=${value}`),
);

/** Codes an edit, delete or react may be refused with (docs/protocol.md). */
const CHANGE_ERRORS = [
  "bad_frame",
  "empty",
  "too_long",
  "no_key",
  "not_owner",
  "no_such_message",
  "edit_window_passed",
  "edits_off",
  "too_many_reactions",
  "not_emoji",
];

/**
 * Edit, delete, react and typing frames about the messages `ids` (someone
 * else's), about ids nobody holds, and about anything.
 */
function changeFrame(ids: readonly number[]): fc.Arbitrary<string> {
  const id = fc.oneof(
    fc.constantFrom(...ids),
    fc.integer({ min: -5, max: 1_000_000 }),
    fc.jsonValue({ maxDepth: 1 }),
  );
  return fc.record(
    {
      type: fc.constantFrom("edit", "delete", "react", "typing"),
      id,
      message: fc.oneof(
        fc.string({ unit: "binary", maxLength: 250 }),
        fc.constantFrom("", " ", "fixed"),
        fc.jsonValue({ maxDepth: 1 }),
      ),
      emoji: fc.oneof(
        fc.constantFrom("👍", "❤️", "👩‍💻", "🇰🇷", "1️⃣", "a", "👍👍", "", " 👍"),
        fc.string({ unit: "grapheme", maxLength: 3 }),
        fc.jsonValue({ maxDepth: 1 }),
      ),
    },
    { requiredKeys: ["type"] },
  ).map((frame) => JSON.stringify(frame));
}

const isChangeReply = (frame: Frame) =>
  frame.type === "error" || frame.type === "reactions";

const UPGRADE_HEADERS = [
  "Upgrade: websocket",
  "Connection: Upgrade",
  "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==",
  "Sec-WebSocket-Version: 13",
];

function port(server: TestServer): number {
  return Number(new URL(server.origin).port);
}

Deno.test("fuzzing a running server", async (t) => {
  const log = recordingLogger();
  await using server = await startServer({
    CHAT_MAX_FRAME_BYTES: String(MAX_FRAME_BYTES),
    CHAT_MAX_MESSAGE_CHARS: String(MAX_MESSAGE_CHARS),
    // Every random frame must reach the parser, not the rate limiter, and
    // every random upgrade the route, not the connect rate.
    CHAT_RATE_LIMIT: "0",
    CHAT_CONNECT_RATE: "0",
  }, { log });

  // Messages stored before the fuzzing, which must all be there after it.
  const anchorRoom = uniqueRoom("anchor");
  {
    await using writer = await TestClient.join(
      server.wsUrl(`/ws/chat/${anchorRoom}/`),
    );
    for (let i = 0; i < 20; i++) writer.send({ message: `before ${i}` });
    await writer.waitForType("message", 20);
  }
  const anchorBefore = await storedMessages(server, anchorRoom);
  assert.equal(anchorBefore.length, 20);

  const accepted: Accepted[] = [];

  await t.step(
    "random text frames get their documented answer on a socket that stays usable",
    async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.array(textFrame, { minLength: 1, maxLength: 6 }),
          async (texts) => {
            const room = uniqueRoom("fuzz");
            await using client = await TestClient.join(
              server.wsUrl(`/ws/chat/${room}/`),
            );
            for (const [index, text] of texts.entries()) {
              client.send(text);
              const replies = await client.waitForMatching(isReply, index + 1);
              assert.equal(replies.length, index + 1, "one reply per frame");
              const reply = replies[index];
              assert.ok(reply);
              const expected = expectedAnswer(text);
              if ("echo" in expected) {
                assert.equal(reply.type, "message", JSON.stringify(reply));
                assert.equal(reply.message, expected.echo);
                assert.equal(reply.room, room);
                assert.ok(Number.isSafeInteger(reply.id));
                accepted.push({
                  room,
                  id: Number(reply.id),
                  message: expected.echo,
                });
              } else {
                assert.equal(reply.type, "error", JSON.stringify(reply));
                assert.equal(reply.code, expected.error);
                assert.ok(FRAME_ERRORS.includes(String(reply.code)));
                assert.equal(typeof reply.error, "string");
              }
            }
            // Still usable after whatever it was sent, and nothing extra.
            client.send({ message: "still here" });
            const replies = await client.waitForMatching(
              isReply,
              texts.length + 1,
            );
            assert.equal(replies.length, texts.length + 1);
            assert.equal(replies.at(-1)?.message, "still here");
            assert.equal(client.socket.readyState, WebSocket.OPEN);
          },
        ),
        { numRuns: 300 },
      );
    },
  );

  await t.step(
    "random edit, delete, react and typing frames get their answer and change nobody else's message",
    async () => {
      const room = uniqueRoom("owned");
      const owned = (key: string) =>
        server.wsUrl(`/ws/chat/${room}/?key=${key}`);
      {
        await using owner = await TestClient.join(
          owned("owner-key-0123456789"),
        );
        for (let i = 0; i < 5; i++) owner.send({ message: `owned ${i}` });
        await owner.waitForType("message", 5);
      }
      const before = await storedMessages(server, room);
      const ids = before.map((message) => message.id);
      await fc.assert(
        fc.asyncProperty(
          fc.array(changeFrame(ids), { minLength: 1, maxLength: 6 }),
          fc.boolean(),
          async (texts, keyed) => {
            await using client = await TestClient.join(
              keyed
                ? owned("fuzzer-key-0123456789")
                : server.wsUrl(`/ws/chat/${room}/`),
            );
            let answered = 0;
            for (const text of texts) {
              client.send(text);
              // Typing is never answered; every other frame once.
              if (JSON.parse(text).type === "typing") continue;
              answered++;
              const [reply] = (await client.waitForMatching(
                isChangeReply,
                answered,
              )).slice(-1);
              assert.ok(reply);
              if (reply.type === "error") {
                assert.ok(
                  CHANGE_ERRORS.includes(String(reply.code)),
                  JSON.stringify(reply),
                );
              } else {
                assert.equal(JSON.parse(text).type, "react");
              }
            }
            // Nothing else came: the answer to a frame sent last is next.
            client.send({});
            const replies = await client.waitForMatching(
              isChangeReply,
              answered + 1,
            );
            assert.equal(replies.length, answered + 1);
            assert.equal(replies.at(-1)?.code, "bad_frame");
            assert.equal(client.socket.readyState, WebSocket.OPEN);
          },
        ),
        { numRuns: 150 },
      );
      assert.deepEqual(await storedMessages(server, room), before);
    },
  );

  await t.step(
    "random large frames close with 1009 exactly when over the byte limit",
    async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.string({ unit: "binary", minLength: 900, maxLength: 2200 }),
          async (text) => {
            const room = uniqueRoom("big");
            await using client = await TestClient.join(
              server.wsUrl(`/ws/chat/${room}/`),
            );
            client.send(text);
            if (encoder.encode(text).length > MAX_FRAME_BYTES) {
              const closed = await client.closed;
              assert.equal(closed.code, CloseCode.MessageTooBig);
            } else {
              const [reply] = await client.waitForMatching(isReply, 1);
              assert.equal(reply?.type, "error");
              assert.equal(client.socket.readyState, WebSocket.OPEN);
            }
          },
        ),
        { numRuns: 30 },
      );
    },
  );

  await t.step("random binary frames close with 1003", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.uint8Array({ maxLength: 2048 }),
        async (bytes) => {
          const room = uniqueRoom("binary");
          await using client = await TestClient.join(
            server.wsUrl(`/ws/chat/${room}/`),
          );
          client.socket.send(bytes);
          const closed = await client.closed;
          assert.equal(closed.code, CloseCode.UnsupportedData);
        },
      ),
      { numRuns: 20 },
    );
  });

  await t.step(
    "random bytes on the port get a 4xx or a closed connection",
    async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.oneof(
            fc.uint8Array({ minLength: 1, maxLength: 1024 }),
            // A request line, then garbage where the headers should be.
            fc.uint8Array({ maxLength: 512 }).map((garbage) =>
              new Uint8Array([
                ...encoder.encode("GET /chat/ HTTP/1.1\r\n"),
                ...garbage,
                ...encoder.encode("\r\n\r\n"),
              ])
            ),
          ),
          async (bytes) => {
            const status = await rawStatus(port(server), bytes);
            assert.ok(
              status === undefined || (status >= 200 && status < 500),
              `status ${status}`,
            );
          },
        ),
        { numRuns: 150 },
      );
    },
  );

  await t.step(
    "random paths, queries and upgrades answer below 500",
    async () => {
      await fc.assert(
        fc.asyncProperty(
          pathTemplate,
          fc.array(pathSegment, { minLength: 3, maxLength: 3 }),
          query,
          fc.boolean(),
          async (template, segments, search, upgrade) => {
            let next = 0;
            const path = template.replace(/\*/g, () => segments[next++] ?? "");
            const target = `${path}${search}`;
            const request = [
              `GET ${target} HTTP/1.1`,
              `Host: 127.0.0.1:${port(server)}`,
              ...(upgrade ? UPGRADE_HEADERS : ["Connection: close"]),
              "",
              "",
            ].join("\r\n");
            const status = await rawStatus(
              port(server),
              encoder.encode(request),
            );
            assert.ok(status !== undefined, `no answer to ${target}`);
            assert.ok(status < 500, `${status} for ${target}`);
          },
        ),
        { numRuns: 600 },
      );
    },
  );

  await t.step("afterwards the server still serves pages", async () => {
    for (const path of ["/chat/", "/chat/after_fuzz/", "/healthz"]) {
      const response = await fetch(`${server.origin}${path}`);
      await response.body?.cancel();
      assert.equal(response.status, 200, path);
    }
  });

  await t.step("afterwards the server still delivers messages", async () => {
    const url = server.wsUrl(`/ws/chat/${uniqueRoom("after")}/`);
    await using alice = await TestClient.join(url);
    await using bob = await TestClient.join(url);
    alice.send({ message: "after the storm" });
    for (const client of [alice, bob]) {
      await client.waitForType("message", 1);
      assert.deepEqual(client.messageTexts(), ["after the storm"]);
    }
  });

  await t.step("no stored message is gone", async () => {
    assert.deepEqual(await storedMessages(server, anchorRoom), anchorBefore);
    assert.ok(accepted.length > 0, "the fuzzing got some messages accepted");
    const rooms = Map.groupBy(accepted, (message) => message.room);
    for (const [room, messages] of rooms) {
      const stored = await storedMessages(server, room);
      for (const { id, message } of messages) {
        assert.deepEqual(
          stored.find((entry) => entry.id === id),
          { id, message },
          `message ${id} of ${room}`,
        );
      }
    }
  });

  await t.step("nothing was logged as an error", () => {
    const errors = log.events.filter((event) => event.level === "error");
    assert.deepEqual(errors, []);
  });
});
