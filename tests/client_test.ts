/**
 * The client library (client/chat_client.js) against the real server on
 * real sockets: chatting, renames, the online list, older pages, the
 * outbox bound, refusals and close(). Reconnecting, recovery, tokens and
 * the closes that stop it are in client_reconnect_test.ts.
 *
 * @module
 */

import assert from "node:assert/strict";
import { ChatError } from "../client/chat_client.js";
import {
  loggedClient,
  openClient,
  rejectsWith,
  texts,
} from "../testkit/library_client.ts";
import { freePort } from "../testkit/process.ts";
import { startServer, storedMessages, uniqueRoom } from "../testkit/server.ts";

const ENV = { CHAT_RATE_LIMIT: "0", CHAT_CONNECT_RATE: "0" };

Deno.test("two clients chat through the library", async (t) => {
  await using server = await startServer(ENV);
  const room = uniqueRoom("lib");
  using alice = await openClient(server.origin, { room, name: "alice" });
  using bob = await openClient(server.origin, { room, name: "bob" });

  await t.step("send() resolves with the stored frame and its id", async () => {
    const stored = await alice.client.send("hello bob");
    assert.equal(stored.type, "message");
    assert.equal(stored.user, "alice");
    assert.equal(stored.message, "hello bob");
    assert.equal(stored.room, room);
    assert.ok(Number.isInteger(stored.id) && stored.id > 0);
    assert.equal(typeof stored.cid, "string");
    const [held] = await storedMessages(server, room);
    assert.deepEqual(held, { id: stored.id, message: "hello bob" });
  });

  await t.step("each sees the other's message once, in id order", async () => {
    const reply = await bob.client.send("hi alice");
    // A last message each way: anything repeated would have come before it.
    await alice.client.send("end");
    for (const { log } of [alice, bob]) {
      await log.waitFor("message", (m) => m.message === "end");
      assert.deepEqual(texts(log), ["hello bob", "hi alice", "end"]);
      const ids = log.of("message").map((m) => m.id);
      assert.deepEqual(ids, [...ids].sort((a, b) => a - b));
    }
    assert.equal(bob.client.lastId, alice.client.lastId);
    assert.equal(alice.log.of("message")[1]?.id, reply.id);
  });

  await t.step("state, you and the history event say where it is", () => {
    assert.equal(alice.client.state, "open");
    assert.equal(alice.client.you, "alice");
    assert.equal(alice.client.room, room);
    assert.equal(alice.client.pending, 0);
    const [history] = alice.log.of("history");
    assert.equal(history?.recovered, false);
    assert.equal(history?.missed, false);
    assert.equal(history?.epoch, alice.client.epoch);
    assert.deepEqual(
      alice.log.of("state").map((s) => s.state).filter((s) =>
        s !== "connecting"
      ),
      ["open"],
    );
  });

  await t.step("a late joiner gets the history as message events", async () => {
    using carol = await openClient(server.origin, { room, name: "carol" });
    assert.deepEqual(texts(carol.log), ["hello bob", "hi alice", "end"]);
    assert.equal(carol.client.oldestId, alice.log.of("message")[0]?.id);
    // The history event comes before the messages it carries.
    assert.equal(
      carol.log.all.findIndex((e) => e.type === "history") <
        carol.log.all.findIndex((e) => e.type === "message"),
      true,
    );
  });

  await t.step(
    "a refused message rejects with the protocol's code",
    async () => {
      const sent = alice.client.send("   ");
      await rejectsWith(sent, "empty");
      const [error] = await alice.log.waitFor(
        "error",
        (e) => e.code === "empty",
      );
      assert.ok(error instanceof ChatError);
      await rejectsWith(alice.client.send("x".repeat(5000)), "too_long");
      assert.equal(alice.client.pending, 0);
    },
  );
});

Deno.test("renames and the online list through the library", async (t) => {
  await using server = await startServer(ENV);
  const room = uniqueRoom("names");
  using alice = await openClient(server.origin, { room, name: "alice" });

  const bob = await openClient(server.origin, { room, name: "bob" });

  await t.step("the online list follows a join", async () => {
    await alice.log.waitFor("presence", () => alice.client.online.has("bob"));
    assert.deepEqual([...alice.client.online.keys()].sort(), ["alice", "bob"]);
    assert.equal(alice.client.online.get("bob")?.verified, false);
    assert.equal(alice.client.count, 2);
  });

  await t.step(
    "rename() resolves with the server's name; others see it",
    async () => {
      const given = await bob.client.rename("Ｂｏｂ  Two ");
      assert.equal(given, "Bob Two", "the server's normalised name");
      assert.equal(bob.client.you, "Bob Two");
      const [renamed] = await alice.log.waitFor("rename");
      assert.deepEqual(renamed, {
        from: "bob",
        to: "Bob Two",
        verified: false,
      });
      await alice.log.waitFor(
        "presence",
        () => alice.client.online.has("Bob Two"),
      );
      assert.deepEqual(
        [...alice.client.online.keys()].sort(),
        ["Bob Two", "alice"],
      );
      const stored = await bob.client.send("as Bob Two");
      assert.equal(stored.user, "Bob Two");
    },
  );

  await t.step("a refused rename rejects and keeps the name", async () => {
    await rejectsWith(bob.client.rename("alice"), "name_taken");
    await rejectsWith(bob.client.rename("a\u200Bb"), "bad_name");
    await rejectsWith(bob.client.rename("admin"), "bad_name");
    assert.equal(bob.client.you, "Bob Two");
    assert.equal(await bob.client.rename("bob"), "bob");
    await alice.log.waitFor("rename", (r) => r.to === "bob");
    assert.deepEqual([...alice.client.online.keys()].sort(), ["alice", "bob"]);
  });

  await t.step("the online list follows a leave", async () => {
    bob[Symbol.dispose]();
    await alice.log.waitFor("presence", () => !alice.client.online.has("bob"));
    assert.deepEqual([...alice.client.online.keys()], ["alice"]);
    assert.equal(alice.client.count, 1);
    const left = alice.log.of("presence").flatMap((p) => p.left);
    assert.ok(left.includes("bob"), JSON.stringify(left));
  });
});

Deno.test("loadOlder() pages back through the HTTP API", async () => {
  await using server = await startServer({ ...ENV, CHAT_HISTORY: "4" });
  const room = uniqueRoom("older");
  {
    using writer = await openClient(server.origin, { room, name: "writer" });
    const sends = [];
    for (let n = 1; n <= 11; n++) sends.push(writer.client.send(`m${n}`));
    await Promise.all(sends);
  }
  using reader = await openClient(server.origin, { room, name: "reader" });
  assert.deepEqual(texts(reader.log), ["m8", "m9", "m10", "m11"]);
  const pages: string[][] = [];
  while (pages.length < 10) {
    const page = await reader.client.loadOlder(3);
    if (page.length === 0) break;
    pages.push(page.map((m) => m.message));
    assert.equal(reader.client.oldestId, page[0]?.id);
  }
  assert.deepEqual(pages, [
    ["m5", "m6", "m7"],
    ["m2", "m3", "m4"],
    ["m1"],
  ]);
  assert.deepEqual(texts(reader.log), ["m8", "m9", "m10", "m11"]);
});

Deno.test("the outbox is bounded: one send past the limit is refused", async () => {
  await using server = await startServer(ENV);
  const room = uniqueRoom("outbox");
  // Sent before the socket is open: all three wait in the outbox.
  using alice = loggedClient(server.origin, {
    room,
    name: "alice",
    outboxLimit: 2,
  });
  const first = alice.client.send("one");
  const second = alice.client.send("two");
  await rejectsWith(alice.client.send("three"), "outbox_full");
  assert.equal(alice.client.pending, 2);
  const stored = await Promise.all([first, second]);
  assert.deepEqual(stored.map((m) => m.message), ["one", "two"]);
  assert.equal(alice.client.pending, 0);
  assert.ok(
    alice.log.of("error").some((e) => e.code === "outbox_full"),
    "the refusal is an error event too",
  );
  assert.deepEqual(
    (await storedMessages(server, room)).map((m) => m.message),
    ["one", "two"],
  );
});

Deno.test("close() rejects what waits and leaves nothing running", async (t) => {
  await t.step("while connected", async () => {
    await using server = await startServer(ENV);
    const room = uniqueRoom("close");
    const alice = loggedClient(server.origin, { room, name: "alice" });
    await alice.log.waitFor("state", (d) => d.state === "open");
    const waiting = alice.client.send("never acknowledged");
    alice.client.close();
    await rejectsWith(waiting, "closed");
    await rejectsWith(alice.client.send("after"), "closed");
    assert.equal(alice.client.state, "closed");
    assert.equal(alice.log.of("state").at(-1)?.state, "closed");
    alice[Symbol.dispose]();
  });

  await t.step("while reconnecting to a server that is not there", async () => {
    // Nothing listens on the port: the client retries with backoff.
    const url = `http://127.0.0.1:${freePort()}`;
    const lost = loggedClient(url, {
      room: uniqueRoom("nowhere"),
      backoff: { baseMs: 20, capMs: 50 },
    });
    const waiting = lost.client.send("queued");
    await lost.log.waitFor("state", (d) => d.state === "reconnecting", 3);
    lost.client.close();
    await rejectsWith(waiting, "closed");
    assert.equal(lost.client.state, "closed");
    lost[Symbol.dispose]();
    // The sanitizers fail this step if a timer, socket or request is left.
  });
});

Deno.test("a message the site deletes comes as a delete event", async () => {
  const KEY = "backend-key-0123456789abcdef0123";
  await using server = await startServer({ ...ENV, CHAT_API_KEY: KEY });
  const room = uniqueRoom("delete");
  using alice = await openClient(server.origin, { room, name: "alice" });
  const stored = await alice.client.send("regrettable");
  const response = await fetch(
    `${server.origin}/api/rooms/${room}/messages/${stored.id}`,
    { method: "DELETE", headers: { Authorization: `Bearer ${KEY}` } },
  );
  assert.equal(response.status, 204);
  await response.body?.cancel();
  const [deleted] = await alice.log.waitFor("delete");
  assert.deepEqual(deleted, { id: stored.id });
});
