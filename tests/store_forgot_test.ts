/**
 * A store that forgets under a running server: a Redis restarted without
 * persistence, a SQLite file replaced or deleted. Live delivery goes on for
 * everyone (the sender included), each member is told with a history frame
 * that is not recovered before any id of the new log reaches it, an old
 * `since=` from the forgotten log is answered not recovered, and a log line
 * and a metric say what happened.
 *
 * @module
 */

import assert from "node:assert/strict";
import {
  SERVER,
  type ServerProcess,
  SHARED_ROOMS_ENV,
  startServerProcess,
} from "../testkit/process.ts";
import { ignoreWithoutRedis, startRedis } from "../testkit/redis.ts";
import { storedMessages, uniqueRoom, waitUntil } from "../testkit/server.ts";
import { type Frame, TestClient } from "../testkit/test_client.ts";

/** Settings for every server of these tests. */
const ENV = SHARED_ROOMS_ENV;

/** Waits until `/healthz` answers 200. */
function healthy(server: ServerProcess): Promise<void> {
  return waitUntil(async () => {
    const response = await fetch(`${server.origin}/healthz`);
    await response.body?.cancel();
    return response.ok;
  }, `${server.origin}/healthz answering 200`);
}

/** The epoch of the last history frame `client` received, if it said. */
function epochOf(client: TestClient): string | undefined {
  const epoch = client.ofType("history").at(-1)?.epoch;
  return typeof epoch === "string" ? epoch : undefined;
}

/** Message texts of a history or message frame. */
function textsOf(frame: Frame): string[] {
  if (frame.type === "message") return [String(frame.message)];
  if (frame.type !== "history" || !Array.isArray(frame.messages)) return [];
  return frame.messages.map((message: Frame) => String(message.message));
}

/** Waits until `client` has received each of `texts`, live or in a history. */
async function waitForTexts(client: TestClient, texts: string[]) {
  await client.waitForMatching(
    () => {
      const seen = new Set(client.frames.flatMap((f) => textsOf(f as Frame)));
      return texts.every((text) => seen.has(text));
    },
    1,
    15_000,
    `frames carrying ${JSON.stringify(texts)}`,
  );
}

/**
 * Asserts that ids never went back for `client` without a history frame
 * that is not recovered saying so, and that one such frame came.
 */
function assertStartedOver(client: TestClient, who: string) {
  let last = 0;
  let startedOver = false;
  for (const frame of client.frames as Frame[]) {
    if (frame.type === "history") {
      const ids = Array.isArray(frame.messages)
        ? frame.messages.map((message: Frame) => Number(message.id))
        : [];
      if (frame.recovered === false && last > 0) startedOver = true;
      if (frame.recovered === false) last = 0;
      for (const id of ids) {
        assert.ok(id > last, `${who}: history id ${id} after ${last}`);
        last = id;
      }
    } else if (frame.type === "message") {
      const id = Number(frame.id);
      assert.ok(id > last, `${who}: message ${id} after ${last}`);
      last = id;
    }
  }
  assert.ok(startedOver, `${who} was told that its history starts over`);
}

/** The value of `chat_store_forgot_total` on `server`. */
async function forgotCount(server: ServerProcess): Promise<number> {
  const text = await (await fetch(`${server.origin}/metrics`)).text();
  const line = text.split("\n").find((l) =>
    l.startsWith("chat_store_forgot_total ")
  );
  return Number(line?.split(" ")[1] ?? NaN);
}

/**
 * What every case asserts once the store forgot: the next messages reach
 * every member, the sender too, after a history that starts over; an old
 * `since=` with its epoch is not recovered; the log line and the metric.
 */
async function assertLiveAfterForgetting(options: {
  readonly servers: readonly ServerProcess[];
  readonly members: readonly TestClient[];
  readonly room: string;
  readonly since: { readonly id: number; readonly epoch?: string | undefined };
  readonly tag: string;
}) {
  const { servers, members, room, since, tag } = options;
  const texts = [1, 2, 3].map((n) => `${tag} after ${n}`);
  for (const [index, text] of texts.entries()) {
    members[index % members.length]?.send({ message: text });
  }
  for (const [index, member] of members.entries()) {
    await waitForTexts(member, texts);
    assertStartedOver(member, `member ${index}`);
  }
  const server = servers[0];
  assert.ok(server);
  const epoch = since.epoch === undefined ? "" : `&epoch=${since.epoch}`;
  await using back = await TestClient.join(
    server.wsUrl(
      `/ws/chat/${room}/?name=back-${tag}&since=${since.id}${epoch}`,
    ),
  );
  const [history] = back.ofType("history");
  assert.equal(history?.recovered, false, "an old since= is not recovered");
  assert.equal(typeof history?.epoch, "string", "history carries the epoch");
  assert.notEqual(history?.epoch, since.epoch);
  // Sent from both processes at once: in either order.
  assert.deepEqual(textsOf(history ?? { type: "none" }).sort(), texts);
  for (const each of servers) {
    await each.waitForOutput(
      (output) =>
        output.includes('"event":"store.forgot"') &&
        output.includes(`"room":"${room}"`),
    );
    assert.ok(await forgotCount(each) >= 1, "chat_store_forgot_total counts");
  }
}

Deno.test({
  name: "a Redis restarted without persistence under running servers",
  ignore: ignoreWithoutRedis,
  async fn() {
    await using redis = await startRedis();
    const env = { ...ENV, REDIS_URL: redis.url };
    await using a = await startServerProcess({ args: SERVER.run(), env });
    await using b = await startServerProcess({ args: SERVER.run(), env });
    const room = uniqueRoom("redis");
    await using alice = await TestClient.join(
      a.wsUrl(`/ws/chat/${room}/?name=alice`),
    );
    await using bob = await TestClient.join(
      b.wsUrl(`/ws/chat/${room}/?name=bob`),
    );
    for (const n of [1, 2, 3]) alice.send({ message: `before ${n}` });
    await bob.waitForType("message", 3);
    await alice.waitForType("message", 3);
    // A client that leaves before the restart, having seen ids 1 and 2.
    const leaver = await TestClient.join(
      b.wsUrl(`/ws/chat/${room}/?name=leaver`),
    );
    const since = { id: 2, epoch: epochOf(leaver) };
    await leaver.close();

    await redis.stop();
    await redis.start();
    await healthy(a);
    await healthy(b);

    await assertLiveAfterForgetting({
      servers: [a, b],
      members: [alice, bob],
      room,
      since,
      tag: "redis",
    });
  },
});

for (const workers of [1, 2]) {
  Deno.test(`a SQLite file replaced or deleted under a running server, --workers ${workers}`, async (t) => {
    const dir = await Deno.makeTempDir({ prefix: "chat-forgot-" });
    try {
      const path = `${dir}/chat.db`;
      await using server = await startServerProcess({
        args: SERVER.run("--workers", String(workers)),
        env: { ...ENV, CHAT_DB: path },
      });
      // Every worker has opened the file: the port answers with the first.
      await server.waitForOutput(/Chat server ready/);
      const room = uniqueRoom("sqlite");
      await using alice = await TestClient.join(
        server.wsUrl(`/ws/chat/${room}/?name=alice`),
      );
      await using bob = await TestClient.join(
        server.wsUrl(`/ws/chat/${room}/?name=bob`),
      );

      /** How many times the server logged `event`. */
      const logged = (event: string) =>
        server.output().split(`"event":"${event}"`).length - 1;
      /**
       * Waits until every isolate has opened the file now at the path: each
       * looks at most every 250 ms, on its next store call (each second at
       * least), and whatever it stored before went to the file it had open.
       */
      const followed = (times: number) =>
        server.waitForOutput(() =>
          logged("store.file_replaced") >= times * workers
        );

      /** Sends three messages and returns a since= of the log they are in. */
      const chat = async (tag: string) => {
        const before = alice.ofType("message").length;
        for (const n of [1, 2, 3]) alice.send({ message: `${tag} ${n}` });
        await bob.waitForMatching(
          (f) => f.type === "message" && f.message === `${tag} 3`,
          1,
        );
        await alice.waitForType("message", before + 3);
        const leaver = await TestClient.join(
          server.wsUrl(`/ws/chat/${room}/?name=leaver-${tag}`),
        );
        const epoch = epochOf(leaver);
        await leaver.close();
        const ids = alice.ofType("message").map((f) => Number(f.id));
        return { id: Number(ids.at(-2)), epoch };
      };

      await t.step(
        "moved away, with another file put in its place",
        async () => {
          const since = await chat("first");
          await Deno.rename(path, `${dir}/moved.db`);
          // An empty file is an empty SQLite database.
          await Deno.writeFile(`${dir}/fresh.db`, new Uint8Array());
          await Deno.rename(`${dir}/fresh.db`, path);
          await followed(1);
          await assertLiveAfterForgetting({
            servers: [server],
            members: [alice, bob],
            room,
            since,
            tag: "replaced",
          });
          assert.deepEqual(
            (await storedMessages(server, room)).map((m) => m.message).sort(),
            ["replaced after 1", "replaced after 2", "replaced after 3"],
            "what the server holds is the file at the path",
          );
          assert.doesNotMatch(server.output(), /"level":"error"/);
        },
      );

      await t.step("deleted with its log, and made again", async () => {
        const since = await chat("second");
        for (const suffix of ["", "-wal", "-shm"]) {
          await Deno.remove(`${path}${suffix}`).catch((error) => {
            if (!(error instanceof Deno.errors.NotFound)) throw error;
          });
        }
        await server.waitForOutput(() =>
          logged("store.file_missing") >= workers
        );
        await Deno.writeFile(path, new Uint8Array());
        const forgotten = logged("store.forgot");
        await followed(2);
        await assertLiveAfterForgetting({
          servers: [server],
          members: [alice, bob],
          room,
          since,
          tag: "deleted",
        });
        assert.ok(logged("store.forgot") > forgotten, "a second store.forgot");
        assert.doesNotMatch(server.output(), /"level":"error"/);
      });
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  });
}
