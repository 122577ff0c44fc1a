import assert from "node:assert/strict";
import {
  byText,
  failedCalls,
  hookCalls,
  HookReceiver,
  onlyMarkerPasses,
  pair,
  SECRET,
  serverWithHook,
} from "../testkit/publish_hook_receiver.ts";
import {
  recordingLogger,
  storedMessages,
  uniqueRoom,
  waitUntil,
} from "../testkit/server.ts";
import { TestClient } from "../testkit/test_client.ts";

Deno.test("publish hook failures", async (t) => {
  await t.step(
    "with the allow policy, a timeout and a 5xx let the message through, logged once per run",
    async () => {
      await using hook = new HookReceiver();
      const log = recordingLogger();
      await using server = await serverWithHook(
        hook,
        { CHAT_PUBLISH_HOOK_TIMEOUT_MS: "100" },
        log,
      );
      const room = uniqueRoom("fail_allow");
      await using members = await pair(server, room);
      hook.answer = hook.never;
      members.sender.send({ type: "message", message: "unheard", cid: "c-1" });
      await members.reader.waitForMatching(byText("unheard"), 1);
      hook.answer = () => new Response("down", { status: 503 });
      members.sender.send({ type: "message", message: "broken", cid: "c-2" });
      await members.reader.waitForMatching(byText("broken"), 1);
      hook.answer = () => Response.json({ action: "replace", message: " " });
      members.sender.send({ type: "message", message: "blank", cid: "c-3" });
      await members.reader.waitForMatching(byText("blank"), 1);
      hook.answer = () => new Response("not json");
      members.sender.send({ type: "message", message: "garbled", cid: "c-4" });
      await members.reader.waitForMatching(byText("garbled"), 1);
      hook.answer = () => Response.redirect("http://127.0.0.1:9/", 307);
      members.sender.send({ type: "message", message: "moved", cid: "c-6" });
      await members.reader.waitForMatching(byText("moved"), 1);
      hook.answer = () =>
        Response.json({ action: "allow", padding: "x".repeat(70_000) });
      members.sender.send({ type: "message", message: "bloated", cid: "c-7" });
      await members.reader.waitForMatching(byText("bloated"), 1);
      hook.answer = () => Response.json({ action: "allow" });
      members.sender.send({ type: "message", message: "fine", cid: "c-5" });
      await members.reader.waitForMatching(byText("fine"), 1);
      assert.deepEqual(
        (await storedMessages(server, room)).map((m) => m.message),
        ["unheard", "broken", "blank", "garbled", "moved", "bloated", "fine"],
      );
      const failing = log.events.filter((e) =>
        e.event === "publish_hook.failing"
      );
      assert.equal(failing.length, 1, "one line for the run of failures");
      assert.match(String(failing[0]?.reason), /within 100 ms/);
      await log.waitFor((e) => e.event === "publish_hook.recovered");
      assert.equal(
        log.events.find((e) => e.event === "publish_hook.recovered")?.failed,
        6,
      );
      assert.ok(!JSON.stringify(log.events).includes(SECRET.slice(6)));
      assert.equal(await hookCalls(server, "failed"), 6);
    },
  );

  await t.step(
    "with the reject policy, a timeout and a 5xx refuse the message as unavailable",
    async () => {
      await using hook = new HookReceiver();
      await using server = await serverWithHook(hook, {
        CHAT_PUBLISH_HOOK_TIMEOUT_MS: "100",
        CHAT_PUBLISH_HOOK_FAILURE: "reject",
      });
      const room = uniqueRoom("fail_reject");
      await using members = await pair(server, room);
      hook.answer = hook.never;
      members.sender.send({ type: "message", message: "unheard", cid: "c-1" });
      await hook.waitForCalls(1);
      hook.answer = () => new Response("oops", { status: 500 });
      members.sender.send({ type: "message", message: "broken", cid: "c-2" });
      const errors = await members.sender.waitForType("error", 2);
      assert.deepEqual(
        errors.map((f) => [f.code, f.cid]).sort(),
        [["unavailable", "c-1"], ["unavailable", "c-2"]],
      );
      hook.answer = () => Response.json({ action: "allow" });
      await onlyMarkerPasses(server, room, members);
    },
  );

  await t.step(
    "closing the server ends the questions still out, without waiting for the timeout",
    async () => {
      await using hook = new HookReceiver();
      const log = recordingLogger();
      const server = await serverWithHook(
        hook,
        { CHAT_PUBLISH_HOOK_TIMEOUT_MS: "30000" },
        log,
      );
      const room = uniqueRoom("closing");
      const client = await TestClient.join(server.wsUrl(`/ws/chat/${room}/`));
      hook.answer = hook.never;
      client.send({ type: "message", message: "too late", cid: "c-1" });
      await hook.waitForCalls(1);
      await server[Symbol.asyncDispose]();
      await client.closed;
      // Ended at once: it does not wait for its 30 s timeout.
      await waitUntil(
        async () => await failedCalls(server) === 1,
        "the end of the question",
        5000,
      );
      // Ended by the close, not failed: nothing to tell the operator.
      assert.deepEqual(
        log.events.filter((e) => String(e.event).startsWith("publish_hook")),
        [],
      );
    },
  );
});
