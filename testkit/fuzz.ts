/**
 * What the fuzz tests share: messages stored before the fuzzing (which
 * must all be there after it), and the checks that a fuzzed server is
 * still well: it serves pages, delivers messages, kept what it stored and
 * logged no error.
 *
 * @module
 */

import assert from "node:assert/strict";
import {
  type RecordingLogger,
  storedMessages,
  type TestServer,
  uniqueRoom,
} from "./server.ts";
import { TestClient } from "./test_client.ts";

/** Messages stored before the fuzzing, and the room that holds them. */
export interface Anchor {
  readonly room: string;
  readonly messages: readonly { id: number; message: string }[];
}

/** A server under fuzzing: rate limits off, so every input is parsed. */
export const FUZZ_ENV: Readonly<Record<string, string>> = {
  // Every random frame must reach the parser, not the rate limiter, and
  // every random upgrade the route, not the connect rate.
  CHAT_RATE_LIMIT: "0",
  CHAT_CONNECT_RATE: "0",
};

/** Stores `count` messages in a fresh room before the fuzzing. */
export async function storeAnchor(
  server: TestServer,
  count: number,
): Promise<Anchor> {
  const room = uniqueRoom("anchor");
  {
    await using writer = await TestClient.join(
      server.wsUrl(`/ws/chat/${room}/`),
    );
    for (let i = 0; i < count; i++) writer.send({ message: `before ${i}` });
    await writer.waitForType("message", count);
  }
  const messages = await storedMessages(server, room);
  assert.equal(messages.length, count);
  return { room, messages };
}

/** The server's port, for raw requests. */
export function portOf(server: TestServer): number {
  return Number(new URL(server.origin).port);
}

/**
 * The steps that end every fuzz test: the server still serves pages and
 * delivers messages, still holds the anchor's messages, and `log` holds
 * no error.
 */
export async function stillWell(
  t: Deno.TestContext,
  server: TestServer,
  log: RecordingLogger,
  anchor: Anchor,
): Promise<void> {
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

  await t.step("the messages stored before are all there", async () => {
    assert.deepEqual(
      await storedMessages(server, anchor.room),
      anchor.messages,
    );
  });

  await t.step("nothing was logged as an error", () => {
    const errors = log.events.filter((event) => event.level === "error");
    assert.deepEqual(errors, []);
  });
}
