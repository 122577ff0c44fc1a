/**
 * Several server processes sharing rooms through a real redis-server: every
 * message reaches every member once and in id order whichever process holds
 * its socket, `since=` recovers across processes, presence spans them and
 * forgets a killed one, and a Redis outage is reported, survived and
 * repaired.
 *
 * @module
 */

import assert from "node:assert/strict";
import { CloseCode } from "../client/protocol.js";
import {
  SERVER,
  type ServerProcess,
  SHARED_ROOMS_ENV,
  startServerProcess,
} from "../testkit/process.ts";
import { CollectingSocket } from "../testkit/message_collector.ts";
import { ignoreWithoutRedis, startRedis, TEST_CA } from "../testkit/redis.ts";
import { storedMessages, uniqueRoom, waitUntil } from "../testkit/server.ts";
import { type Frame, TestClient } from "../testkit/test_client.ts";

/** Settings for every process of these tests: limits off, quick presence. */
function sharedEnv(redisUrl: string): Record<string, string> {
  return {
    ...SHARED_ROOMS_ENV,
    REDIS_URL: redisUrl,
    CHAT_MAX_CONNECTIONS_PER_IP: "1000",
    CHAT_API_KEY: API_KEY,
  };
}

const API_KEY = "backend-key-for-processes-0123456789";

function startProcess(redisUrl: string): Promise<ServerProcess> {
  return startServerProcess({ args: SERVER.run(), env: sharedEnv(redisUrl) });
}

/** Waits until `/healthz` answers `status`; returns that answer's body. */
async function healthBecomes(
  server: ServerProcess,
  status: number,
  timeoutMs = 10_000,
): Promise<Record<string, unknown>> {
  let last: { status: number; body: Record<string, unknown> } | undefined;
  try {
    await waitUntil(
      async () => {
        const response = await fetch(`${server.origin}/healthz`);
        last = { status: response.status, body: await response.json() };
        return last.status === status;
      },
      `/healthz answering ${status}`,
      timeoutMs,
    );
  } catch (error) {
    throw new Error(`${error}; it last said ${JSON.stringify(last)}`);
  }
  return last?.body ?? {};
}

Deno.test({
  name: "rooms shared by server processes through Redis",
  ignore: ignoreWithoutRedis,
  async fn(t) {
    const password = "pw-never-shown";
    await using redis = await startRedis({ persistent: true, password });
    await using a = await startProcess(redis.url);
    await using b = await startProcess(redis.url);

    await t.step(
      "a burst from both processes reaches every member once, in id order; other rooms get nothing",
      async () => {
        const room = uniqueRoom("burst");
        const quiet = uniqueRoom("quiet");
        const members = Array.from(
          { length: 40 },
          (_, index) =>
            new CollectingSocket(
              (index % 2 ? a : b).wsUrl(`/ws/chat/${room}/?name=m${index}`),
            ),
        );
        const bystanders = [a, b].map((server, index) =>
          new CollectingSocket(
            server.wsUrl(`/ws/chat/${quiet}/?name=q${index}`),
          )
        );
        try {
          await Promise.all([...members, ...bystanders].map((m) => m.admitted));
          const senders = members.slice(0, 4); // two on each process
          const perSender = 1000;
          for (let index = 0; index < perSender; index++) {
            for (const [number, sender] of senders.entries()) {
              sender.socket.send(
                JSON.stringify({ message: `s${number} #${index}` }),
              );
            }
          }
          const total = senders.length * perSender;
          await Promise.all(members.map((m) => m.waitFor(total, 60_000)));
          const expected = Array.from({ length: total }, (_, i) => i + 1);
          for (const [index, member] of members.entries()) {
            assert.deepEqual(member.ids, expected, `member m${index}`);
          }
          // A marker into the quiet room, sent after the burst: once each
          // bystander has it, anything leaked would have come before it.
          bystanders[0]?.socket.send(JSON.stringify({ message: "marker" }));
          await Promise.all(bystanders.map((m) => m.waitFor(1, 10_000)));
          for (const bystander of bystanders) {
            assert.deepEqual(bystander.ids, [1]);
          }
        } finally {
          await Promise.all(
            [...members, ...bystanders].map((m) => m.close()),
          );
        }
      },
    );

    await t.step(
      "the server API deletes and disconnects on every process",
      async () => {
        const room = uniqueRoom("api");
        await using onA = await TestClient.join(
          a.wsUrl(`/ws/chat/${room}/?name=ann`),
        );
        const troll = await TestClient.join(
          a.wsUrl(`/ws/chat/${room}/?name=troll`),
        );
        await using onB = await TestClient.join(
          b.wsUrl(`/ws/chat/${room}/?name=bob`),
        );
        troll.send({ message: "spam" });
        await onB.waitForType("message", 1);
        const auth = { Authorization: `Bearer ${API_KEY}` };
        const deleted = await fetch(
          `${b.origin}/api/rooms/${room}/messages/1`,
          { method: "DELETE", headers: auth },
        );
        assert.equal(deleted.status, 204);
        for (const client of [onA, onB]) {
          const [frame] = await client.waitForType("delete", 1);
          assert.equal(frame?.id, 1);
        }
        const removed = await fetch(
          `${b.origin}/api/rooms/${room}/disconnect`,
          {
            method: "POST",
            headers: { ...auth, "Content-Type": "application/json" },
            body: JSON.stringify({ user: "troll" }),
          },
        );
        assert.equal(removed.status, 200);
        // Counted by process B in Redis, for a socket on process A.
        assert.deepEqual(await removed.json(), { closed: 1 });
        assert.equal((await troll.closed).code, CloseCode.RemovedBySite);
        assert.deepEqual(await storedMessages(a, room), []);
      },
    );

    await t.step(
      "a client that left process A gets exactly what it missed from process B",
      async () => {
        const room = uniqueRoom("since");
        await using speaker = await TestClient.join(
          b.wsUrl(`/ws/chat/${room}/?name=speaker`),
        );
        const leaver = await TestClient.join(
          a.wsUrl(`/ws/chat/${room}/?name=leaver`),
        );
        speaker.send({ message: "seen" });
        const [seen] = await leaver.waitForType("message", 1);
        await leaver.close();
        for (const text of ["missed 1", "missed 2", "missed 3"]) {
          speaker.send({ message: text });
        }
        await speaker.waitForType("message", 4);
        await using back = await TestClient.connect(
          b.wsUrl(`/ws/chat/${room}/?name=leaver&since=${seen?.id}`),
        );
        const [history] = await back.waitForType("history", 1);
        assert.equal(history?.recovered, true);
        assert.deepEqual(
          (history?.messages as Frame[] | undefined)?.map((m) => m.message),
          ["missed 1", "missed 2", "missed 3"],
        );
      },
    );

    await t.step(
      "presence spans processes, and a killed process's users leave within the TTL",
      async () => {
        const room = uniqueRoom("presence");
        await using c = await startProcess(redis.url);
        await using watcher = await TestClient.join(
          a.wsUrl(`/ws/chat/${room}/?name=watcher`),
        );
        const onB = await TestClient.join(
          b.wsUrl(`/ws/chat/${room}/?name=on-b`),
        );
        const victim = await TestClient.join(
          c.wsUrl(`/ws/chat/${room}/?name=victim`),
        );
        const [presence] = await victim.waitForType("presence", 1);
        assert.deepEqual(
          (presence?.users as Frame[] | undefined)?.map((u) => u.name),
          ["on-b", "victim", "watcher"],
        );
        await watcher.waitForMatching(
          (f) => f.type === "join" && f.user === "victim",
          1,
        );
        await c.stop("SIGKILL");
        await watcher.waitForMatching(
          (f) => f.type === "leave" && f.user === "victim",
          1,
          10_000,
        );
        await onB.waitForMatching(
          (f) => f.type === "leave" && f.user === "victim",
          1,
          10_000,
        );
        const response = await fetch(
          `${a.origin}/api/rooms/${room}/presence`,
        );
        const body: { users: { name: string }[] } = await response.json();
        assert.deepEqual(body.users.map((u) => u.name), ["on-b", "watcher"]);
        await onB.close();
        await victim.closed;
      },
    );

    await t.step(
      "while Redis is down sends get `unavailable`, /healthz and the server API's disconnect 503 (closing nobody); after it, traffic resumes with history intact",
      async () => {
        const room = uniqueRoom("outage");
        await using onA = await TestClient.join(
          a.wsUrl(`/ws/chat/${room}/?name=ann`),
        );
        await using onB = await TestClient.join(
          b.wsUrl(`/ws/chat/${room}/?name=bob`),
        );
        onA.send({ message: "before" });
        await onB.waitForType("message", 1);

        await redis.stop();
        onA.send({ message: "during", cid: "during-1" });
        const [refused] = await onA.waitForType("error", 1);
        assert.equal(refused?.code, "unavailable");
        assert.equal(refused?.cid, "during-1");
        const health = await healthBecomes(a, 503);
        assert.match(String(health.reason), /Redis at redis:\/\/127\.0\.0\.1/);
        assert.ok(!JSON.stringify(health).includes(password));
        const late = await TestClient.connect(
          b.wsUrl(`/ws/chat/${room}/?name=late`),
        );
        assert.equal((await late.closed).code, CloseCode.InternalError);
        // The server API cannot count ann's sockets: it says so and closes
        // none (ann sends again below).
        const kick = await fetch(`${a.origin}/api/rooms/${room}/disconnect`, {
          method: "POST",
          headers: {
            Authorization: `Bearer ${API_KEY}`,
            "Content-Type": "application/json",
          },
          body: JSON.stringify({ user: "ann" }),
        });
        assert.equal(kick.status, 503);
        assert.match((await kick.json()).error, /Nobody was disconnected/);

        await redis.start();
        await healthBecomes(a, 200);
        await healthBecomes(b, 200);
        onA.send({ message: "after", cid: "during-1" });
        const delivered = await onB.waitForType("message", 2, 10_000);
        assert.deepEqual(delivered.map((m) => m.message), ["before", "after"]);
        assert.deepEqual(
          (await storedMessages(b, room)).map((m) => m.message),
          ["before", "after"],
        );
      },
    );

    await t.step("the Redis password appears in no log line", () => {
      const logs = a.output() + b.output();
      assert.match(logs, /"event":"redis\.down"/);
      assert.match(logs, /redis:\/\/127\.0\.0\.1:\d+\/0/);
      assert.ok(!logs.includes(password));
    });
  },
});

Deno.test({
  name: "a rediss:// URL carries everything over TLS",
  ignore: ignoreWithoutRedis,
  async fn() {
    await using redis = await startRedis({ tls: true, password: "tls-pass" });
    // Deno trusts the test CA through DENO_CERT, as an operator would add a
    // private CA.
    await using server = await startServerProcess({
      args: SERVER.run(),
      env: { ...sharedEnv(redis.url), DENO_CERT: TEST_CA },
    });
    const room = uniqueRoom("tls");
    await using client = await TestClient.join(
      server.wsUrl(`/ws/chat/${room}/?name=secure`),
    );
    client.send({ message: "over tls" });
    await client.waitForType("message", 1);
    assert.deepEqual(
      (await storedMessages(server, room)).map((m) => m.message),
      ["over tls"],
    );
    assert.match(
      server.output(),
      new RegExp(`data in Redis at rediss://127\\.0\\.0\\.1:${redis.port}/0`),
    );
    assert.ok(!server.output().includes("tls-pass"));
  },
});
