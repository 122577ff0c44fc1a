import assert from "node:assert/strict";
import {
  startServer,
  storedMessages,
  type TestServer,
  uniqueRoom,
  waitUntil,
} from "../testkit/server.ts";
import { TestClient } from "../testkit/test_client.ts";

/** Sends one message and returns its stored frame or its refusal. */
async function sendOne(client: TestClient, message: string) {
  const before = client.frames.length;
  client.send({ type: "message", message });
  const [answer] = await client.waitForMatching(
    (frame) =>
      client.frames.indexOf(frame) >= before &&
      ((frame.type === "message" && frame.message === message) ||
        frame.type === "error"),
    1,
  );
  assert.ok(answer);
  return answer;
}

async function health(server: TestServer) {
  const response = await fetch(`${server.origin}/healthz`);
  return { status: response.status, body: await response.json() };
}

Deno.test("storage has bounds", async (t) => {
  await t.step(
    "past CHAT_MAX_ROOMS a new room's message is refused, others go on",
    async () => {
      await using server = await startServer({
        CHAT_MAX_ROOMS: "2",
        CHAT_RATE_LIMIT: "0",
      });
      const [a, b, c] = [uniqueRoom("a"), uniqueRoom("b"), uniqueRoom("c")];
      await using inA = await TestClient.join(server.wsUrl(`/ws/chat/${a}/`));
      await using inB = await TestClient.join(server.wsUrl(`/ws/chat/${b}/`));
      await using inC = await TestClient.join(server.wsUrl(`/ws/chat/${c}/`));
      assert.equal((await sendOne(inA, "in a")).type, "message");
      assert.equal((await sendOne(inB, "in b")).type, "message");
      const refused = await sendOne(inC, "in c");
      assert.equal(refused.code, "unavailable");
      assert.match(String(refused.error), /keeps no more rooms/);
      assert.equal((await sendOne(inA, "a again")).type, "message");
      assert.deepEqual(await storedMessages(server, c), [], "reads go on");
      assert.equal(
        (await health(server)).status,
        200,
        "a configured bound is not a failure",
      );
    },
  );

  await t.step(
    "messages older than CHAT_HISTORY_MAX_AGE are deleted",
    async () => {
      await using server = await startServer({
        CHAT_HISTORY_MAX_AGE: "1s",
        CHAT_RATE_LIMIT: "0",
      });
      const room = uniqueRoom("age");
      await using client = await TestClient.join(
        server.wsUrl(`/ws/chat/${room}/`),
      );
      const first = await sendOne(client, "soon gone");
      assert.equal(first.id, 1);
      // The sweep runs every 100 ms; wait until the message has aged out.
      await waitUntil(
        async () => (await storedMessages(server, room)).length === 0,
        "the message aging out",
        5000,
      );
      const next = await sendOne(client, "fresh");
      assert.equal(next.id, 2, "ids go on while someone is in the room");
      assert.deepEqual(
        (await storedMessages(server, room)).map((m) => m.message),
        ["fresh"],
      );
    },
  );

  await t.step(
    "past CHAT_MAX_DB_BYTES sends are refused, /healthz says so, reads go on",
    async () => {
      await using server = await startServer({
        CHAT_MAX_DB_BYTES: String(256 * 1024),
        CHAT_MAX_MESSAGE_CHARS: "20000",
        CHAT_MAX_FRAME_BYTES: "65536",
        CHAT_RATE_LIMIT: "0",
      });
      const room = uniqueRoom("size");
      await using client = await TestClient.join(
        server.wsUrl(`/ws/chat/${room}/`),
      );
      let refusal: Record<string, unknown> | undefined;
      let stored = 0;
      for (let i = 0; i < 100 && !refusal; i++) {
        const answer = await sendOne(client, `${i} `.padEnd(20_000, "x"));
        if (answer.type === "error") refusal = answer;
        else stored += 1;
      }
      assert.ok(refusal, "the cap was reached");
      assert.equal(refusal.code, "unavailable");
      assert.match(String(refusal.error), /storage is full/);
      const { status, body } = await health(server);
      assert.equal(status, 503);
      assert.equal(body.store, "full");
      assert.match(
        body.reason,
        /size limit of 262144 bytes \(CHAT_MAX_DB_BYTES\)/,
      );
      assert.equal((await storedMessages(server, room)).length, stored);
    },
  );
});
