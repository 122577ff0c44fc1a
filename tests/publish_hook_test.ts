import assert from "node:assert/strict";
import { SignJWT } from "jose";
import { Webhook } from "standardwebhooks";
import {
  DEFAULT_REJECT_REASON,
  MAX_REJECT_REASON_CHARS,
  parseVerdict,
} from "../adapters/webhooks/publish_hook.ts";
import {
  byText,
  hookCalls,
  HookReceiver,
  onlyMarkerPasses,
  pair,
  SECRET,
  serverWithHook,
} from "../testkit/publish_hook_receiver.ts";
import { storedMessages, uniqueRoom } from "../testkit/server.ts";
import { TestClient } from "../testkit/test_client.ts";

const AUTH_SECRET = "site-and-chat-share-this-32-byte-secret";
const API_KEY = "backend-key-0123456789abcdef0123";

Deno.test("publish hook", async (t) => {
  await using hook = new HookReceiver();
  await using server = await serverWithHook(hook, { CHAT_API_KEY: API_KEY });

  await t.step(
    "an allowed message is stored and delivered, after a signed question",
    async () => {
      const room = uniqueRoom("allow");
      await using members = await pair(server, room);
      hook.answer = () => Response.json({ action: "allow" });
      const before = hook.calls.length;
      members.sender.send({ type: "message", message: "hello", cid: "c-1" });
      const [mine] = await members.sender.waitForType("message", 1);
      await members.reader.waitForMatching(byText("hello"), 1);
      assert.equal(mine?.cid, "c-1");
      const call = hook.calls[before];
      assert.ok(call);
      assert.deepEqual(
        new Webhook(SECRET).verify(call.body, call.headers),
        JSON.parse(call.body),
      );
      assert.equal(call.payload.type, "message.publish");
      assert.equal(call.payload.room, room);
      assert.equal(call.headers["webhook-id"], call.payload.id);
      assert.deepEqual(call.payload.data, {
        user: "ana",
        verified: false,
        message: "hello",
        cid: "c-1",
      });
      assert.deepEqual(
        (await storedMessages(server, room)).map((m) => m.message),
        ["hello"],
      );
    },
  );

  await t.step(
    "a tampered question fails verification",
    () => {
      const call = hook.calls.at(-1);
      assert.ok(call);
      assert.throws(() =>
        new Webhook(SECRET).verify(
          call.body.replace("hello", "hullo"),
          call.headers,
        )
      );
    },
  );

  await t.step(
    "a rejected message reaches only its sender, as `rejected` with the reason and its cid, and is not stored",
    async () => {
      const room = uniqueRoom("reject");
      await using members = await pair(server, room);
      hook.answer = (call) =>
        call.payload.data.message === "buy now"
          ? Response.json({ action: "reject", reason: "No adverts here" })
          : Response.json({ action: "allow" });
      members.sender.send({ type: "message", message: "buy now", cid: "c-2" });
      const [error] = await members.sender.waitForType("error", 1);
      assert.deepEqual(error, {
        type: "error",
        code: "rejected",
        error: "No adverts here",
        cid: "c-2",
      });
      // What follows the rejected message arrives; the reader never
      // received the rejected one before it.
      await onlyMarkerPasses(server, room, members);
      assert.deepEqual(members.sender.messageTexts(), ["marker"]);
    },
  );

  await t.step(
    "a replaced message is stored and delivered with the hook's text",
    async () => {
      const room = uniqueRoom("replace");
      await using members = await pair(server, room);
      hook.answer = () =>
        Response.json({ action: "replace", message: "what the ****" });
      members.sender.send({
        type: "message",
        message: "what the heck",
        cid: "c-4",
      });
      const [mine] = await members.sender.waitForType("message", 1);
      const [theirs] = await members.reader.waitForType("message", 1);
      assert.equal(mine?.message, "what the ****");
      assert.equal(mine?.cid, "c-4");
      assert.equal(theirs?.message, "what the ****");
      assert.deepEqual(
        (await storedMessages(server, room)).map((m) => m.message),
        ["what the ****"],
      );
    },
  );

  await t.step(
    "the server API's messages are not put to the hook",
    async () => {
      const room = uniqueRoom("api");
      await using members = await pair(server, room);
      hook.answer = () => Response.json({ action: "reject", reason: "no" });
      const before = hook.calls.length;
      const response = await fetch(
        `${server.origin}/api/rooms/${room}/messages`,
        {
          method: "POST",
          headers: {
            Authorization: `Bearer ${API_KEY}`,
            "Content-Type": "application/json",
          },
          body: JSON.stringify({ user: "Moderator", message: "from the site" }),
        },
      );
      assert.equal(response.status, 201);
      await response.body?.cancel();
      await members.reader.waitForMatching(byText("from the site"), 1);
      assert.equal(hook.calls.length, before);
    },
  );

  await t.step(
    "messages of a room are stored in the order sent while an earlier answer is slow, and other rooms go on",
    async () => {
      const room = uniqueRoom("order");
      const other = uniqueRoom("other");
      await using members = await pair(server, room);
      await using elsewhere = await TestClient.join(
        server.wsUrl(`/ws/chat/${other}/?name=cy`),
      );
      const slow = Promise.withResolvers<void>();
      hook.answer = async (call) => {
        if (call.payload.data.message === "first") await slow.promise;
        return Response.json({ action: "allow" });
      };
      const before = hook.calls.length;
      members.sender.send({ type: "message", message: "first" });
      members.sender.send({ type: "message", message: "second" });
      // Both questions are out at once: the second was asked (and is
      // answered at once) while the first waits.
      await hook.waitForCalls(before + 2);
      elsewhere.send({ type: "message", message: "elsewhere" });
      await elsewhere.waitForMatching(byText("elsewhere"), 1);
      assert.deepEqual(
        members.reader.messageTexts(),
        [],
        "the second waited for the first",
      );
      slow.resolve();
      const frames = await members.reader.waitForType("message", 2);
      assert.deepEqual(frames.map((f) => f.message), ["first", "second"]);
      assert.ok(Number(frames[0]?.id) < Number(frames[1]?.id));
      await members.sender.waitForType("message", 2);
      assert.deepEqual(members.sender.messageTexts(), ["first", "second"]);
      assert.deepEqual(
        (await storedMessages(server, room)).map((m) => m.message),
        ["first", "second"],
      );
    },
  );

  await t.step("a signed sender is named by its sub and verified", async () => {
    await using signedHook = new HookReceiver();
    await using signed = await serverWithHook(signedHook, {
      CHAT_AUTH: "optional",
      CHAT_AUTH_SECRET: AUTH_SECRET,
    });
    const token = await new SignJWT({
      sub: "user-42",
      name: "Dana",
      exp: Math.floor(Date.now() / 1000) + 3600,
    }).setProtectedHeader({ alg: "HS256" })
      .sign(new TextEncoder().encode(AUTH_SECRET));
    const room = uniqueRoom("signed");
    await using sender = await TestClient.join(
      signed.wsUrl(`/ws/chat/${room}/?token=${token}`),
    );
    sender.send({ type: "message", message: "signed hello" });
    await sender.waitForType("message", 1);
    const call = signedHook.calls[0];
    assert.ok(call);
    assert.deepEqual(call.payload.data, {
      user: "Dana",
      verified: true,
      sub: "user-42",
      message: "signed hello",
    });
    assert.ok(!call.body.includes(token), "no token in the question");
  });

  await t.step("the metrics count the calls by outcome", async () => {
    assert.ok(await hookCalls(server, "allowed") >= 4);
    assert.equal(await hookCalls(server, "rejected"), 1);
    assert.equal(await hookCalls(server, "replaced"), 1);
    assert.equal(await hookCalls(server, "failed"), 0);
  });
});

Deno.test("publish hook answers", async (t) => {
  const max = 20;

  await t.step("allow, reject and replace are read from JSON", () => {
    assert.deepEqual(parseVerdict({ action: "allow" }, max), {
      action: "allow",
    });
    assert.deepEqual(
      parseVerdict({ action: "reject", reason: " No links " }, max),
      { action: "reject", reason: "No links" },
    );
    assert.deepEqual(
      parseVerdict({ action: "replace", message: "fine" }, max),
      { action: "replace", message: "fine" },
    );
  });

  await t.step(
    "a reject keeps its intent without a usable reason, and a long one is cut",
    () => {
      for (const reason of [undefined, "", "   ", 42]) {
        assert.deepEqual(parseVerdict({ action: "reject", reason }, max), {
          action: "reject",
          reason: DEFAULT_REJECT_REASON,
        });
      }
      const long = parseVerdict(
        { action: "reject", reason: "가".repeat(MAX_REJECT_REASON_CHARS + 9) },
        max,
      );
      assert.equal(
        long.action === "reject" && [...long.reason].length,
        MAX_REJECT_REASON_CHARS,
      );
    },
  );

  await t.step("a replacement is checked like a client's message", () => {
    for (
      const message of [undefined, "", "  ", "x".repeat(max + 1), "\uD800"]
    ) {
      assert.throws(
        () => parseVerdict({ action: "replace", message }, max),
        /the hook's (replacement is refused|answer)/,
        JSON.stringify(message),
      );
    }
    assert.deepEqual(
      parseVerdict({ action: "replace", message: "x".repeat(max) }, max),
      { action: "replace", message: "x".repeat(max) },
    );
  });

  await t.step("anything else is a failure", () => {
    for (const value of [null, [], "allow", { action: "drop" }, {}]) {
      assert.throws(() => parseVerdict(value, max), /the hook's answer/);
    }
  });
});
