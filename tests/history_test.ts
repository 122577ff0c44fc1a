import assert from "node:assert/strict";
import { isRecoverable } from "../chat/history.ts";
import {
  startServer,
  type TestServer,
  uniqueRoom,
  UPGRADE_HEADERS,
} from "../testkit/server.ts";
import { type Frame, TestClient } from "../testkit/test_client.ts";

// These tests seed rooms as fast as they can: no rate limit.
const BULK = { CHAT_RATE_LIMIT: "0" };

function historyOf(client: TestClient): { ids: number[]; recovered: unknown } {
  const [history] = client.ofType("history");
  assert.ok(history, "a history frame");
  const messages = history.messages;
  assert.ok(Array.isArray(messages));
  return {
    ids: messages.map((message: Frame) => Number(message.id)),
    recovered: history.recovered,
  };
}

/** Sends `count` messages as one client and waits until they are stored. */
async function seed(server: TestServer, room: string, count: number) {
  await using writer = await TestClient.join(
    server.wsUrl(`/ws/chat/${room}/?name=seed`),
  );
  for (let i = 1; i <= count; i++) writer.send({ message: `m${i}` });
  await writer.waitForType("message", count);
}

async function historyFor(server: TestServer, room: string, query = "") {
  await using client = await TestClient.join(
    server.wsUrl(`/ws/chat/${room}/${query}`),
  );
  assert.equal(
    client.frames.indexOf(client.ofType("history")[0]),
    0,
    "history comes first",
  );
  return historyOf(client);
}

Deno.test("isRecoverable decides when since= can be answered exactly", () => {
  const kept = { first: 5, last: 20 };
  assert.equal(isRecoverable(20, kept, 100), true, "nothing missed");
  assert.equal(isRecoverable(4, kept, 100), true, "first missed is 5, kept");
  assert.equal(isRecoverable(3, kept, 100), false, "4 was pruned");
  assert.equal(isRecoverable(21, kept, 100), false, "ahead of the room");
  assert.equal(isRecoverable(10, kept, 10), true, "exactly at the cap");
  assert.equal(isRecoverable(9, kept, 10), false, "past the cap");
  assert.equal(isRecoverable(0, { first: 0, last: 0 }, 10), true, "empty room");
  assert.equal(
    isRecoverable(0, { first: 0, last: 3 }, 10),
    false,
    "all pruned",
  );
});

Deno.test("history and recovery", async (t) => {
  await using server = await startServer({
    ...BULK,
    CHAT_RECOVERY_MAX: "5",
    CHAT_HISTORY: "4",
  });

  await t.step(
    "a new connection gets the latest history, oldest first",
    async () => {
      const room = uniqueRoom();
      assert.deepEqual(await historyFor(server, room), {
        ids: [],
        recovered: false,
      });
      await seed(server, room, 6);
      assert.deepEqual(await historyFor(server, room), {
        ids: [3, 4, 5, 6],
        recovered: false,
      });
    },
  );

  await t.step("history frames carry the whole message", async () => {
    const room = uniqueRoom();
    await seed(server, room, 1);
    await using client = await TestClient.join(
      server.wsUrl(`/ws/chat/${room}/`),
    );
    const [history] = client.ofType("history");
    assert.ok(history && Array.isArray(history.messages));
    const [message] = history.messages;
    assert.equal(message.type, "message");
    assert.equal(message.id, 1);
    assert.equal(message.room, room);
    assert.equal(message.user, "seed");
    assert.equal(message.message, "m1");
    assert.ok(!Number.isNaN(Date.parse(message.ts)));
  });

  await t.step("since= recovers exactly the messages after it", async () => {
    const room = uniqueRoom();
    await seed(server, room, 6);
    assert.deepEqual(await historyFor(server, room, "?since=2"), {
      ids: [3, 4, 5, 6],
      recovered: true,
    });
    assert.deepEqual(await historyFor(server, room, "?since=6"), {
      ids: [],
      recovered: true,
    });
  });

  await t.step(
    "a reconnect with since= misses nothing and repeats nothing",
    async () => {
      const room = uniqueRoom();
      const url = server.wsUrl(`/ws/chat/${room}/`);
      const first = await TestClient.join(url);
      first.send({ message: "before the drop" });
      const [seen] = await first.waitForType("message", 1);
      await first.close();
      await seed(server, room, 2); // sent while we were away
      await using again = await TestClient.join(`${url}?since=${seen?.id}`);
      again.send({ message: "after" });
      await again.waitForType("message", 1);
      const recovered = historyOf(again);
      assert.deepEqual(recovered, { ids: [2, 3], recovered: true });
      assert.deepEqual(again.ofType("message").map((f) => f.id), [4]);
    },
  );

  await t.step(
    "a gap past the recovery cap gets the latest history, recovered:false",
    async () => {
      const room = uniqueRoom();
      await seed(server, room, 8);
      assert.deepEqual(await historyFor(server, room, "?since=2"), {
        ids: [5, 6, 7, 8],
        recovered: false,
      });
    },
  );

  await t.step(
    "history names the log's epoch; a since= of another epoch gets the latest history, recovered:false",
    async () => {
      const room = uniqueRoom();
      await seed(server, room, 3);
      await using first = await TestClient.join(
        server.wsUrl(`/ws/chat/${room}/`),
      );
      const epoch = first.ofType("history")[0]?.epoch;
      assert.equal(typeof epoch, "string");
      assert.match(String(epoch), /^[0-9a-f]{16}$/);
      assert.deepEqual(
        await historyFor(server, room, `?since=2&epoch=${epoch}`),
        { ids: [3], recovered: true },
      );
      assert.deepEqual(
        await historyFor(server, room, "?since=2&epoch=0123456789abcdef"),
        { ids: [1, 2, 3], recovered: false },
      );
      const refused = await fetch(
        `${server.origin}/ws/chat/${room}/?since=2&epoch=not%20one`,
        { headers: UPGRADE_HEADERS },
      );
      assert.equal(refused.status, 400);
      assert.match((await refused.json()).error, /epoch must be/);
    },
  );

  await t.step("a since= ahead of the room gets recovered:false", async () => {
    const room = uniqueRoom();
    await seed(server, room, 2);
    assert.deepEqual(await historyFor(server, room, "?since=99"), {
      ids: [1, 2],
      recovered: false,
    });
  });
});

Deno.test("a gap reaching past retention gets recovered:false", async () => {
  await using server = await startServer({
    ...BULK,
    CHAT_HISTORY_MAX: "3",
    CHAT_RECOVERY_MAX: "100",
  });
  const room = uniqueRoom();
  await seed(server, room, 6);
  assert.deepEqual(await historyFor(server, room, "?since=1"), {
    ids: [4, 5, 6],
    recovered: false,
  });
  assert.deepEqual(await historyFor(server, room, "?since=3"), {
    ids: [4, 5, 6],
    recovered: true,
  });
});

Deno.test("history is kept across a server restart", async () => {
  const dir = await Deno.makeTempDir({ prefix: "chat-restart-" });
  try {
    const env = { ...BULK, CHAT_DB: `${dir}/data/chat.db` };
    const room = uniqueRoom();
    {
      await using server = await startServer(env);
      await seed(server, room, 3);
    }
    await using server = await startServer(env);
    assert.deepEqual(await historyFor(server, room), {
      ids: [1, 2, 3],
      recovered: false,
    });
    await seed(server, room, 1);
    assert.deepEqual((await historyFor(server, room)).ids, [1, 2, 3, 4]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("GET /api/rooms/:room/messages pages through older messages", async (t) => {
  await using server = await startServer(BULK);
  const room = uniqueRoom();
  await seed(server, room, 5);
  const get = (query: string) =>
    fetch(`${server.origin}/api/rooms/${room}/messages${query}`);
  const ids = async (query: string) => {
    const response = await get(query);
    assert.equal(response.status, 200, query);
    const body = await response.json();
    return body.messages.map((m: Frame) => m.id);
  };

  await t.step("before and limit, oldest first", async () => {
    assert.deepEqual(await ids("?before=5&limit=2"), [3, 4]);
    assert.deepEqual(await ids("?before=3"), [1, 2]);
    assert.deepEqual(await ids("?before=1"), []);
    assert.deepEqual(await ids("?limit=2"), [4, 5]);
    assert.deepEqual(await ids(""), [1, 2, 3, 4, 5]);
  });

  await t.step("messages are whole frames", async () => {
    const body = await (await get("?limit=1")).json();
    assert.deepEqual(Object.keys(body.messages[0]), [
      "type",
      "id",
      "room",
      "user",
      "message",
      "ts",
      "verified",
    ]);
  });

  await t.step("limit is capped at 200", async () => {
    const big = uniqueRoom();
    await seed(server, big, 205);
    const response = await fetch(
      `${server.origin}/api/rooms/${big}/messages?limit=1000`,
    );
    const body = await response.json();
    assert.equal(body.messages.length, 200);
    assert.equal(body.messages[0].id, 6);
  });

  await t.step("bad parameters are a 400 that says which", async () => {
    const cases: [string, RegExp][] = [
      ["?before=abc", /^before must be a whole number/],
      ["?before=0", /^before must be a whole number from 1/],
      ["?limit=0", /^limit must be a whole number from 1/],
      ["?limit=-5", /^limit must be/],
    ];
    for (const [query, message] of cases) {
      const response = await get(query);
      assert.equal(response.status, 400, query);
      assert.match((await response.json()).error, message, query);
    }
    const badRoom = await fetch(`${server.origin}/api/rooms/a%20b/messages`);
    assert.equal(badRoom.status, 400);
    assert.match((await badRoom.json()).error, /^Cannot read room: Room name/);
  });
});
