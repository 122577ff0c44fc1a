/**
 * The webhook events of the conversation: an owner's edit, a reaction
 * toggled and an own delete, made by real sockets, reach the receiver
 * signed and in order after the message's `message.created`, on SQLite
 * and on Redis; a refused change writes no event.
 *
 * @module
 */

import assert from "node:assert/strict";
import { startServer, uniqueRoom } from "../testkit/server.ts";
import { type Frame, TestClient } from "../testkit/test_client.ts";
import {
  type ReceivedEvent,
  startWebhookReceiver,
} from "../testkit/webhook_receiver.ts";
import {
  API_KEY,
  assertAttemptsVerify,
  onSqliteAndRedis,
  SECRET,
  webhookSettings,
} from "../testkit/webhooks.ts";
import { OPTIONAL_SIGN_IN, signedToken } from "../testkit/tokens.ts";

const ALICE = "alice-key-0123456789";
const BOB = "bob-key-0123456789ab";

function path(room: string, query: Record<string, string>): string {
  return `/ws/chat/${room}/?${new URLSearchParams(query)}`;
}

/** Sends `frame` and waits for the `count`-th frame of `type`. */
async function sendAndWait(
  client: TestClient,
  frame: Record<string, unknown>,
  type: string,
): Promise<Frame> {
  const seen = client.ofType(type).length;
  client.send(frame);
  const frames = await client.waitForType(type, seen + 1);
  const last = frames.at(-1);
  assert.ok(last);
  return last;
}

/** The room's events of `type`, in the order they arrived. */
function ofType(events: readonly ReceivedEvent[], type: string) {
  return events.filter((e) => e.type === type);
}

async function conversationEvents(
  t: Deno.TestContext,
  store: Record<string, string>,
): Promise<void> {
  await using receiver = await startWebhookReceiver({ secret: SECRET });
  await using server = await startServer({
    ...webhookSettings(receiver.url),
    CHAT_API_KEY: API_KEY,
    CHAT_RATE_LIMIT: "0",
    ...OPTIONAL_SIGN_IN,
    ...store,
  });
  const room = uniqueRoom("hooks-conv");
  await using alice = await TestClient.join(
    server.wsUrl(path(room, { name: "alice", key: ALICE })),
  );
  await using bob = await TestClient.join(
    server.wsUrl(path(room, { name: "bob", key: BOB })),
  );
  const sent = await sendAndWait(
    alice,
    { type: "message", message: "helo" },
    "message",
  );
  const id = Number(sent.id);

  bob.send({ type: "edit", id, message: "not yours" });
  const [refused] = await bob.waitForMatching(
    (f) => f.type === "error" && f.id === id,
    1,
  );
  assert.equal(refused?.code, "not_owner");
  const edit = await sendAndWait(
    alice,
    { type: "edit", id, message: "hello" },
    "edit",
  );
  const reactions: Frame[] = [];
  for (
    const [client, emoji] of [
      [bob, "👍"],
      [alice, "🎉"],
      [alice, "👍"],
      [bob, "👍"],
    ] as const
  ) {
    reactions.push(
      await sendAndWait(client, { type: "react", id, emoji }, "reactions"),
    );
  }
  await sendAndWait(alice, { type: "delete", id }, "delete");
  await receiver.waitFor(
    (events) => events.some((e) => e.type === "message.deleted"),
    "the delete event",
  );
  const events = receiver.events.filter((e) =>
    e.room === room && e.type.startsWith("message.")
  );

  await t.step(
    "the edit, each toggle and the delete follow message.created in order",
    () => {
      assert.deepEqual(events.map((e) => e.type), [
        "message.created",
        "message.edited",
        "message.reactions",
        "message.reactions",
        "message.reactions",
        "message.reactions",
        "message.deleted",
      ]);
      assert.ok(events.every((e) => e.data.id === id));
    },
  );

  await t.step(
    "message.edited carries the new text, when, and who edited it; the refused edit none",
    () => {
      assert.deepEqual(ofType(events, "message.edited")[0]?.data, {
        id,
        message: "hello",
        edited: edit.edited,
        user: "alice",
        verified: false,
      });
      assert.ok(
        !receiver.events.some((e) => JSON.stringify(e).includes("not yours")),
      );
    },
  );

  await t.step(
    "message.reactions carries who toggled what, and the state the members got",
    () => {
      const toggles = ofType(events, "message.reactions").map((e) => e.data);
      assert.deepEqual(
        toggles.map(({ emoji, user, added, verified }) => ({
          emoji,
          user,
          added,
          verified,
        })),
        [
          { emoji: "👍", user: "bob", added: true, verified: false },
          { emoji: "🎉", user: "alice", added: true, verified: false },
          { emoji: "👍", user: "alice", added: true, verified: false },
          { emoji: "👍", user: "bob", added: false, verified: false },
        ],
      );
      assert.deepEqual(
        toggles.map((data) => data.reactions),
        reactions.map((frame) => frame.reactions),
      );
      assert.deepEqual(toggles.at(-1)?.reactions, [
        { emoji: "🎉", count: 1, users: ["alice"] },
        { emoji: "👍", count: 1, users: ["alice"] },
      ]);
    },
  );

  await t.step(
    "every attempt verifies with standardwebhooks",
    () => assertAttemptsVerify(receiver.attempts, events),
  );

  await t.step(
    "a signed user's edit and reaction name their sub",
    async () => {
      const token = await signedToken({ sub: "user-7", name: "ana" });
      await using ana = await TestClient.join(
        server.wsUrl(path(room, { token })),
      );
      const mine = await sendAndWait(
        ana,
        { type: "message", message: "signed" },
        "message",
      );
      const signedId = Number(mine.id);
      await sendAndWait(
        ana,
        { type: "edit", id: signedId, message: "signed, edited" },
        "edit",
      );
      await sendAndWait(
        ana,
        { type: "react", id: signedId, emoji: "👍" },
        "reactions",
      );
      await receiver.waitFor(
        (all) =>
          all.some((e) =>
            e.type === "message.reactions" && e.data.id === signedId
          ),
        "the signed user's reaction event",
      );
      const edited = receiver.events.find((e) =>
        e.type === "message.edited" && e.data.id === signedId
      );
      assert.equal(edited?.data.user, "ana");
      assert.equal(edited?.data.verified, true);
      assert.equal(edited?.data.sub, "user-7");
      const reacted = receiver.events.find((e) =>
        e.type === "message.reactions" && e.data.id === signedId
      );
      assert.equal(reacted?.data.verified, true);
      assert.equal(reacted?.data.sub, "user-7");
    },
  );
}

onSqliteAndRedis(
  "edits, reactions and own deletes reach the webhook receiver signed and in order",
  conversationEvents,
);
