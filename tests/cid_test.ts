import assert from "node:assert/strict";
import { startServer, storedMessages, uniqueRoom } from "../testkit/server.ts";
import { TestClient } from "../testkit/test_client.ts";

Deno.test("client message ids (cid)", async (t) => {
  await using server = await startServer({ CHAT_RATE_LIMIT: "0" });
  const room = uniqueRoom("cid");
  const url = `/ws/chat/${room}/`;

  await t.step("every copy of a message carries its cid", async () => {
    await using sender = await TestClient.join(server.wsUrl(url));
    await using reader = await TestClient.join(server.wsUrl(url));
    sender.send({ type: "message", message: "hello", cid: "c-1" });
    const [mine] = await sender.waitForType("message", 1);
    const [theirs] = await reader.waitForType("message", 1);
    assert.equal(mine?.cid, "c-1");
    assert.deepEqual(theirs, mine);
    await using late = await TestClient.join(server.wsUrl(url));
    const history = late.ofType("history")[0];
    assert.ok(Array.isArray(history?.messages));
    assert.equal(history.messages.at(-1)?.cid, "c-1");
  });

  await t.step(
    "a resend after a reconnect is stored once and acknowledged with the first id",
    async () => {
      const before = await storedMessages(server, room);
      await using reader = await TestClient.join(server.wsUrl(url));
      let firstId: number;
      {
        await using sender = await TestClient.join(server.wsUrl(url));
        sender.send({ type: "message", message: "only once", cid: "c-2" });
        const [stored] = await sender.waitForType("message", 1);
        firstId = Number(stored?.id);
      }
      // The client did not see the echo (say it dropped first) and resends.
      await using again = await TestClient.join(
        server.wsUrl(`${url}?since=${firstId}`),
      );
      again.send({ type: "message", message: "only once", cid: "c-2" });
      const [ack] = await again.waitForType("message", 1);
      assert.equal(ack?.id, firstId);
      assert.equal(ack?.cid, "c-2");
      // A marker afterwards: everything before it has been delivered.
      again.send({ type: "message", message: "marker", cid: "c-3" });
      await reader.waitForMatching((f) => f.message === "marker", 1);
      assert.deepEqual(
        reader.ofType("message").map((f) => f.message),
        ["only once", "marker"],
        "the other members heard it once",
      );
      const after = await storedMessages(server, room);
      assert.equal(after.length, before.length + 2);
      assert.deepEqual(
        after.slice(-2).map((m) => m.message),
        ["only once", "marker"],
      );
    },
  );

  await t.step(
    "the same text without a cid, or with another, is new",
    async () => {
      await using sender = await TestClient.join(server.wsUrl(url));
      sender.send({ type: "message", message: "twice" });
      sender.send({ type: "message", message: "twice" });
      sender.send({ type: "message", message: "twice", cid: "c-4" });
      sender.send({ type: "message", message: "twice", cid: "c-5" });
      const frames = await sender.waitForType("message", 4);
      assert.equal(new Set(frames.map((f) => f.id)).size, 4);
    },
  );

  await t.step("errors name the refused message by its cid", async () => {
    await using limited = await startServer({
      CHAT_RATE_LIMIT: "1",
      CHAT_RATE_BURST: "1",
      CHAT_MAX_MESSAGE_CHARS: "5",
    });
    await using sender = await TestClient.join(
      limited.wsUrl(`/ws/chat/${uniqueRoom()}/`),
    );
    sender.send({ type: "message", message: "far too long", cid: "long-1" });
    sender.send({ type: "message", message: "ok", cid: "fast-2" });
    const errors = await sender.waitForType("error", 2);
    assert.deepEqual(
      errors.map((f) => [f.code, f.cid]),
      [["too_long", "long-1"], ["rate_limited", "fast-2"]],
    );
  });

  await t.step("a malformed cid is refused as bad_frame", async () => {
    await using sender = await TestClient.join(server.wsUrl(url));
    for (const cid of ["", "x".repeat(65), "has space", 42, null]) {
      sender.send({ type: "message", message: "m", cid });
    }
    const errors = await sender.waitForType("error", 5);
    assert.deepEqual(errors.map((f) => f.code), Array(5).fill("bad_frame"));
    assert.equal(sender.ofType("message").length, 0);
  });
});
