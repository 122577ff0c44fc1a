import assert from "node:assert/strict";
import { SignJWT } from "jose";
import { startServer, storedMessages, uniqueRoom } from "../testkit/server.ts";
import { type Frame, TestClient } from "../testkit/test_client.ts";
import {
  HookReceiver,
  serverWithHook,
} from "../testkit/publish_hook_receiver.ts";

const ALICE = "alice-key-0123456789";
const BOB = "bob-key-0123456789ab";

function path(room: string, name: string, key?: string): string {
  const query = new URLSearchParams({ name, ...(key ? { key } : {}) });
  return `/ws/chat/${room}/?${query}`;
}

/** Sends a message and waits for its echo; resolves its id. */
async function say(client: TestClient, message: string): Promise<number> {
  const seen = client.ofType("message").length;
  client.send({ type: "message", message });
  const frames = await client.waitForType("message", seen + 1);
  return Number(frames.at(-1)?.id);
}

function errorFor(client: TestClient, id: number, count = 1) {
  return client.waitForMatching(
    (f) => f.type === "error" && f.id === id,
    count,
  );
}

Deno.test("conversation: ownership, edit, delete and refusals", async (t) => {
  await using server = await startServer({ CHAT_RATE_LIMIT: "0" });
  const room = uniqueRoom("conv");

  await t.step(
    "the owner's edit reaches everyone, and history and since= return the edited text",
    async () => {
      await using alice = await TestClient.join(
        server.wsUrl(path(room, "alice", ALICE)),
      );
      await using bob = await TestClient.join(
        server.wsUrl(path(room, "bob", BOB)),
      );
      const id = await say(alice, "helo");
      alice.send({ type: "edit", id, message: "hello" });
      const [edit] = await bob.waitForType("edit", 1);
      assert.equal(edit?.id, id);
      assert.equal(edit?.message, "hello");
      assert.equal(typeof edit?.edited, "string");
      await alice.waitForType("edit", 1);
      await using late = await TestClient.join(
        server.wsUrl(path(room, "carol")),
      );
      const history = late.ofType("history")[0];
      const messages = history?.messages;
      assert.ok(Array.isArray(messages));
      const stored = messages.find((m: Frame) => m.id === id);
      assert.equal(stored?.message, "hello");
      assert.equal(stored?.edited, edit?.edited);
      assert.equal(stored?.owner, undefined, "the owner is never sent");
      await using back = await TestClient.join(
        server.wsUrl(`${path(room, "dave")}&since=${id - 1}`),
      );
      const recovered = back.ofType("history")[0];
      assert.equal(recovered?.recovered, true);
      assert.ok(Array.isArray(recovered?.messages));
      assert.equal(recovered.messages[0]?.message, "hello");
      const api = await storedMessages(server, room);
      assert.equal(api.find((m) => m.id === id)?.message, "hello");
    },
  );

  await t.step(
    "a refused edit or delete is an error frame with the id, and nothing changes",
    async () => {
      await using alice = await TestClient.join(
        server.wsUrl(path(room, "alice", ALICE)),
      );
      await using bob = await TestClient.join(
        server.wsUrl(path(room, "bob", BOB)),
      );
      await using keyless = await TestClient.join(
        server.wsUrl(path(room, "nokey")),
      );
      const id = await say(alice, "mine");
      const theirs = await say(keyless, "keyless");
      bob.send({ type: "edit", id, message: "not yours" });
      bob.send({ type: "delete", id });
      const [notOwner, notOwnerDelete] = await errorFor(bob, id, 2);
      assert.equal(notOwner?.code, "not_owner");
      assert.equal(notOwnerDelete?.code, "not_owner");
      keyless.send({ type: "edit", id: theirs, message: "x" });
      keyless.send({ type: "delete", id: theirs });
      const keylessErrors = await errorFor(keyless, theirs, 2);
      assert.deepEqual(keylessErrors.map((f) => f.code), ["no_key", "no_key"]);
      alice.send({ type: "edit", id: 999_999, message: "x" });
      alice.send({ type: "delete", id: 999_999 });
      const missing = await errorFor(alice, 999_999, 2);
      assert.deepEqual(missing.map((f) => f.code), [
        "no_such_message",
        "no_such_message",
      ]);
      alice.send({ type: "edit", id, message: "   " });
      alice.send({ type: "edit", id, message: "x".repeat(2001) });
      const bad = await errorFor(alice, id, 2);
      assert.deepEqual(bad.map((f) => f.code), ["empty", "too_long"]);
      alice.send({ type: "edit", id: "one", message: "x" });
      await alice.waitForMatching(
        (f) => f.type === "error" && f.code === "bad_frame",
        1,
      );
      const stored = await storedMessages(server, room);
      assert.equal(stored.find((m) => m.id === id)?.message, "mine");
      assert.equal(stored.find((m) => m.id === theirs)?.message, "keyless");
      assert.equal(bob.ofType("edit").length, 0);
      assert.equal(bob.ofType("delete").length, 0);
    },
  );

  await t.step(
    "the owner's delete reaches everyone and leaves history and since=",
    async () => {
      await using alice = await TestClient.join(
        server.wsUrl(path(room, "alice", ALICE)),
      );
      await using bob = await TestClient.join(
        server.wsUrl(path(room, "bob", BOB)),
      );
      const id = await say(alice, "take it back");
      alice.send({ type: "delete", id });
      const [gone] = await bob.waitForType("delete", 1);
      assert.equal(gone?.id, id);
      const stored = await storedMessages(server, room);
      assert.equal(stored.some((m) => m.id === id), false);
      await using back = await TestClient.join(
        server.wsUrl(`${path(room, "dave")}&since=${id - 1}`),
      );
      const recovered = back.ofType("history")[0];
      assert.ok(Array.isArray(recovered?.messages));
      assert.equal(recovered.messages.some((m: Frame) => m.id === id), false);
      alice.send({ type: "delete", id });
      const [again] = await errorFor(alice, id);
      assert.equal(again?.code, "no_such_message");
    },
  );
});

Deno.test("conversation: the edit window", async (t) => {
  await t.step("with CHAT_EDIT_WINDOW_S=0 edits are off", async () => {
    await using server = await startServer({ CHAT_EDIT_WINDOW_S: "0" });
    const room = uniqueRoom("off");
    await using alice = await TestClient.join(
      server.wsUrl(path(room, "alice", ALICE)),
    );
    const id = await say(alice, "typo");
    alice.send({ type: "edit", id, message: "fixed" });
    const [refused] = await errorFor(alice, id);
    assert.equal(refused?.code, "edits_off");
    assert.equal((await storedMessages(server, room))[0]?.message, "typo");
  });

  await t.step("past the window an edit is refused", async () => {
    let now = new Date("2026-01-01T00:00:00Z");
    await using server = await startServer({ CHAT_EDIT_WINDOW_S: "60" }, {
      now: () => now,
    });
    const room = uniqueRoom("late");
    await using alice = await TestClient.join(
      server.wsUrl(path(room, "alice", ALICE)),
    );
    const id = await say(alice, "typo");
    now = new Date("2026-01-01T00:01:01Z");
    alice.send({ type: "edit", id, message: "fixed" });
    const [refused] = await errorFor(alice, id);
    assert.equal(refused?.code, "edit_window_passed");
    assert.equal((await storedMessages(server, room))[0]?.message, "typo");
  });
});

const SECRET = "site-and-chat-share-this-32-byte-secret";

function token(sub: string, name: string): Promise<string> {
  return new SignJWT({ sub, name, exp: Math.floor(Date.now() / 1000) + 600 })
    .setProtectedHeader({ alg: "HS256" })
    .sign(new TextEncoder().encode(SECRET));
}

Deno.test("a signed user's messages are the token's sub's", async (t) => {
  await using server = await startServer({
    CHAT_RATE_LIMIT: "0",
    CHAT_AUTH: "optional",
    CHAT_AUTH_SECRET: SECRET,
  });
  const room = uniqueRoom("signed");
  const socket = async (sub: string, name: string) =>
    await TestClient.join(
      server.wsUrl(`/ws/chat/${room}/?token=${await token(sub, name)}`),
    );

  await t.step(
    "another socket of the same sub edits and deletes it; another sub cannot",
    async () => {
      await using phone = await socket("user-1", "Anna");
      const id = await say(phone, "from my phone");
      await using laptop = await socket("user-1", "Anna");
      await using other = await socket("user-2", "Ben");
      other.send({ type: "edit", id, message: "not yours" });
      const [refused] = await errorFor(other, id);
      assert.equal(refused?.code, "not_owner");
      laptop.send({ type: "edit", id, message: "from my laptop" });
      const [edit] = await other.waitForType("edit", 1);
      assert.equal(edit?.message, "from my laptop");
      laptop.send({ type: "delete", id });
      const [gone] = await other.waitForType("delete", 1);
      assert.equal(gone?.id, id);
    },
  );
});

Deno.test("the publish hook screens an edit as it screens a message", async (t) => {
  await using hook = new HookReceiver();
  await using server = await serverWithHook(hook);
  const room = uniqueRoom("hooked");
  await using alice = await TestClient.join(
    server.wsUrl(path(room, "alice", ALICE)),
  );
  const id = await say(alice, "fine words");

  await t.step(
    "a rejected edit is refused with the site's reason",
    async () => {
      hook.answer = () =>
        Response.json({ action: "reject", reason: "Not here" });
      alice.send({ type: "edit", id, message: "rude words" });
      const [refused] = await errorFor(alice, id);
      assert.equal(refused?.code, "rejected");
      assert.equal(refused?.error, "Not here");
      const question = hook.calls.at(-1)?.payload;
      assert.equal(question?.data.message, "rude words");
      assert.equal(
        (await storedMessages(server, room))[0]?.message,
        "fine words",
      );
    },
  );

  await t.step("a replaced edit is stored as the site has it", async () => {
    hook.answer = () =>
      Response.json({ action: "replace", message: "kind words" });
    alice.send({ type: "edit", id, message: "rude words" });
    const [edit] = await alice.waitForType("edit", 1);
    assert.equal(edit?.message, "kind words");
    assert.equal(
      (await storedMessages(server, room))[0]?.message,
      "kind words",
    );
  });
});
