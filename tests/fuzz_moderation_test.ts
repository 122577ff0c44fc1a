/**
 * Property-based fuzzing (fast-check) of moderator frames from users who
 * moderate nothing: random `mute`, `ban`, `unmute` and `unban` frames about
 * members online, unknown names and anything else, with random durations
 * and reasons, from a guest and from a plain signed user. Each gets exactly
 * one error frame (`not_moderator`, or `bad_frame` / `bad_duration` when
 * the frame itself is malformed, which the server checks first), the socket
 * stays open, and nothing changes: no sanction in `GET /api/bans` or
 * `/api/mutes` and no entry in the audit log. Afterwards the server is
 * still well (see testkit/fuzz.ts).
 *
 * @module
 */

import assert from "node:assert/strict";
import fc from "fast-check";
import { MAX_SANCTION_SECONDS } from "../chat/moderation_frames.ts";
import { FUZZ_ENV, stillWell, storeAnchor } from "../testkit/fuzz.ts";
import {
  apiExpect,
  listedIds,
  MODERATION_API_KEY,
} from "../testkit/moderation_api.ts";
import { recordingLogger, startServer, uniqueRoom } from "../testkit/server.ts";
import { type Frame, TestClient } from "../testkit/test_client.ts";
import { OPTIONAL_SIGN_IN, signedToken } from "../testkit/tokens.ts";

/** What a moderator frame from someone who moderates nothing may get. */
const REFUSALS = ["not_moderator", "bad_frame", "bad_duration"];

/** Moderator frames about members, strangers and anything, with anything. */
const moderatorFrame: fc.Arbitrary<string> = fc.record(
  {
    type: fc.constantFrom("mute", "ban", "unmute", "unban"),
    user: fc.oneof(
      fc.constantFrom("guest", "plain", "nobody", "", " ", "a".repeat(200)),
      fc.string({ unit: "binary", maxLength: 120 }),
      fc.jsonValue({ maxDepth: 1 }),
    ),
    duration: fc.oneof(
      fc.constant(null),
      fc.constantFrom(1, 60, MAX_SANCTION_SECONDS, MAX_SANCTION_SECONDS + 1),
      fc.integer({ min: -10, max: 2 ** 40 }),
      fc.double(),
      fc.jsonValue({ maxDepth: 1 }),
    ),
    reason: fc.oneof(
      fc.constantFrom("", "spam", "x".repeat(501)),
      fc.string({ unit: "binary", maxLength: 600 }),
      fc.jsonValue({ maxDepth: 1 }),
    ),
  },
  { requiredKeys: ["type"] },
).map((frame) => JSON.stringify(frame));

const isError = (frame: Frame) => frame.type === "error";

Deno.test("fuzzing moderator frames from users who moderate nothing", async (t) => {
  const log = recordingLogger();
  await using server = await startServer({
    ...FUZZ_ENV,
    ...OPTIONAL_SIGN_IN,
    CHAT_API_KEY: MODERATION_API_KEY,
  }, { log });
  const anchor = await storeAnchor(server, 10);
  const room = uniqueRoom("notmod");
  await using guest = await TestClient.join(
    server.wsUrl(`/ws/chat/${room}/?name=guest&key=guest-key-0123456789`),
  );
  const token = await signedToken({ sub: "plain", name: "plain" });
  await using plain = await TestClient.join(
    server.wsUrl(`/ws/chat/${room}/?token=${token}`),
  );
  const senders = [
    { client: guest, answered: 0 },
    { client: plain, answered: 0 },
  ];

  await t.step(
    "a guest's and a plain user's random moderator frames each get one refusal",
    async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.array(fc.tuple(fc.boolean(), moderatorFrame), {
            minLength: 1,
            maxLength: 6,
          }),
          async (sends) => {
            for (const [fromGuest, text] of sends) {
              const sender = fromGuest ? senders[0] : senders[1];
              assert.ok(sender);
              sender.client.send(text);
              sender.answered++;
              const [reply] = (await sender.client.waitForMatching(
                isError,
                sender.answered,
              )).slice(-1);
              assert.ok(
                REFUSALS.includes(String(reply?.code)),
                `${JSON.stringify(reply)} for ${text}`,
              );
              assert.equal(typeof reply?.error, "string");
            }
          },
        ),
        { numRuns: 200 },
      );
      for (const { client, answered } of senders) {
        // Nothing else came: the answer to a frame sent last is next.
        client.send({});
        const errors = await client.waitForMatching(isError, answered + 1);
        assert.equal(errors.length, answered + 1);
        assert.equal(errors.at(-1)?.code, "bad_frame");
        assert.equal(client.socket.readyState, WebSocket.OPEN);
        for (const type of ["moderated", "muted", "unmuted", "role"]) {
          assert.deepEqual(client.ofType(type), [], type);
        }
      }
    },
  );

  await t.step("no sanction was imposed and none audited", async () => {
    assert.deepEqual(await listedIds(server, "/api/bans"), []);
    assert.deepEqual(await listedIds(server, "/api/mutes"), []);
    assert.deepEqual(await listedIds(server, `/api/rooms/${room}/bans`), []);
    assert.deepEqual(await listedIds(server, `/api/rooms/${room}/mutes`), []);
    const audit = await apiExpect(server, 200, "GET", "/api/audit");
    assert.deepEqual(audit.entries, []);
  });

  await t.step("both still speak in the room", async () => {
    for (const [index, { client }] of senders.entries()) {
      client.send({ message: `still here ${index}` });
    }
    for (const { client } of senders) {
      await client.waitForType("message", 2);
      assert.deepEqual(client.messageTexts().toSorted(), [
        "still here 0",
        "still here 1",
      ]);
    }
  });

  await stillWell(t, server, log, anchor);
});
