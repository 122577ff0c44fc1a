/**
 * Property-based fuzzing (fast-check) of what a running server hears on a
 * socket: random text frames, random edit, delete, react and typing
 * frames, random large frames and random binary frames. Every frame gets
 * its documented answer, every message the server accepted is still
 * stored, and afterwards the server is still well (see testkit/fuzz.ts).
 * The HTTP side is fuzz_http_test.ts's, moderator frames
 * fuzz_moderation_test.ts's.
 *
 * @module
 */

import assert from "node:assert/strict";
import { CloseCode } from "../client/protocol.js";
import fc from "fast-check";
import { FUZZ_ENV, stillWell, storeAnchor } from "../testkit/fuzz.ts";
import {
  recordingLogger,
  startServer,
  storedMessages,
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

Deno.test("fuzzing the frames of a running server", async (t) => {
  const log = recordingLogger();
  await using server = await startServer({
    ...FUZZ_ENV,
    CHAT_MAX_FRAME_BYTES: String(MAX_FRAME_BYTES),
    CHAT_MAX_MESSAGE_CHARS: String(MAX_MESSAGE_CHARS),
  }, { log });
  const anchor = await storeAnchor(server, 20);

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

  await t.step("every message it accepted is still stored", async () => {
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

  await stillWell(t, server, log, anchor);
});
