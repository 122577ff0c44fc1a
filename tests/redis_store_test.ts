import assert from "node:assert/strict";
import { RedisConnection } from "../adapters/redis/connection.ts";
import {
  KEY_PREFIX,
  openRedisStore,
  type RedisStoreOptions,
} from "../adapters/redis/store.ts";
import { openRedisBus } from "../adapters/redis/bus.ts";
import { NodePresence } from "../chat/presence.ts";
import { parseRoomName, type RoomName } from "../chat/room_name.ts";
import { type Store, StoreError } from "../chat/store.ts";
import { DEFAULTS, idBounds } from "../testkit/defaults.ts";
import { ignoreWithoutRedis, startRedis } from "../testkit/redis.ts";
import { freePort } from "../testkit/process.ts";
import { recordingLogger, waitUntil } from "../testkit/server.ts";

function room(name: string): RoomName {
  const parsed = parseRoomName(name);
  if (!parsed.ok) throw new Error(parsed.error);
  return parsed.name;
}

function options(
  url: string,
  overrides: Partial<RedisStoreOptions> = {},
): RedisStoreOptions {
  return {
    url: new URL(url),
    historyMax: DEFAULTS.historyMax,
    dedupeWindow: DEFAULTS.recoveryLimit,
    maxRooms: DEFAULTS.maxRooms,
    presenceTtlMs: DEFAULTS.presenceTtlMs,
    ...overrides,
  };
}

const message = (text: string, cid?: string) => ({
  user: "alice",
  message: text,
  ts: new Date().toISOString(),
  ...(cid === undefined ? {} : { cid }),
});

async function usingStores<T>(
  url: string,
  count: number,
  work: (stores: Store[]) => Promise<T>,
  overrides: Partial<RedisStoreOptions> = {},
): Promise<T> {
  const stores: Store[] = [];
  try {
    for (let index = 0; index < count; index++) {
      stores.push(await openRedisStore(options(url, overrides)));
    }
    return await work(stores);
  } finally {
    await Promise.all(stores.map((store) => store.close()));
  }
}

Deno.test({
  name: "redis store: messages",
  ignore: ignoreWithoutRedis,
  async fn(t) {
    await using redis = await startRedis();

    await t.step(
      "two processes appending at once get ids 1..n, each once",
      async () => {
        await usingStores(redis.url, 2, async ([a, b]) => {
          assert.ok(a && b);
          const lobby = room("lobby");
          const results = await Promise.all(
            Array.from(
              { length: 400 },
              (_, index) =>
                (index % 2 ? a : b).messages.append(
                  lobby,
                  message(`m${index}`),
                ),
            ),
          );
          const ids = results.map((result) => result.message.id).sort((x, y) =>
            x - y
          );
          assert.deepEqual(ids, Array.from({ length: 400 }, (_, i) => i + 1));
          const stored = await a.messages.after(lobby, 0, 1000);
          assert.deepEqual(stored.map((m) => m.id), ids);
          assert.deepEqual(idBounds(await b.messages.bounds(lobby)), {
            first: 1,
            last: 400,
          });
        });
      },
    );

    await t.step(
      "history, since and older pages read by id, oldest first",
      async () => {
        await usingStores(redis.url, 1, async ([store]) => {
          assert.ok(store);
          const r = room("pages");
          for (let index = 1; index <= 10; index++) {
            await store.messages.append(r, message(`text ${index} 한국어 🎉`));
          }
          const ids = (list: { id: number }[]) => list.map(({ id }) => id);
          assert.deepEqual(ids(await store.messages.latest(r, 3)), [8, 9, 10]);
          assert.deepEqual(ids(await store.messages.after(r, 7, 2)), [8, 9]);
          assert.deepEqual(ids(await store.messages.before(r, 4, 5)), [
            1,
            2,
            3,
          ]);
          const [first] = await store.messages.after(r, 0, 1);
          assert.equal(first?.message, "text 1 한국어 🎉");
          assert.equal(first?.room, r);
          const [used, unused] = await store.messages.positions([
            r,
            room("never-used"),
          ]);
          assert.equal(used?.last, 10);
          assert.match(used?.epoch ?? "", /^[0-9a-f]{16}$/);
          assert.deepEqual(unused, { last: 0, epoch: "" });
        });
      },
    );

    await t.step(
      "a repeated cid is stored once and answered again",
      async () => {
        await usingStores(redis.url, 2, async ([a, b]) => {
          assert.ok(a && b);
          const r = room("cids");
          const first = await a.messages.append(r, message("once", "c-1"));
          const again = await b.messages.append(r, message("once", "c-1"));
          assert.equal(first.duplicate, false);
          assert.equal(again.duplicate, true);
          assert.equal(again.message.id, first.message.id);
          assert.equal(again.message.cid, "c-1");
          assert.equal((await a.messages.bounds(r)).last, 1);
        });
      },
    );

    await t.step(
      "past CHAT_MAX_ROOMS a new room is refused, existing ones go on",
      async () => {
        await using small = await startRedis();
        await usingStores(small.url, 1, async ([store]) => {
          assert.ok(store);
          await store.messages.append(room("one"), message("a"));
          await store.messages.append(room("two"), message("b"));
          await assert.rejects(
            store.messages.append(room("three"), message("c")),
            (error: unknown) =>
              error instanceof StoreError && error.kind === "limit" &&
              /at most 2 rooms \(CHAT_MAX_ROOMS\)/.test(error.message),
          );
          await store.messages.append(room("one"), message("still"));
        }, { maxRooms: 2 });
      },
    );

    await t.step(
      "history keeps at least CHAT_HISTORY_MAX messages and trims the rest",
      async () => {
        await usingStores(redis.url, 1, async ([store]) => {
          assert.ok(store);
          const r = room("trimmed");
          for (let index = 0; index < 1000; index++) {
            await store.messages.append(r, message(`m${index}`));
          }
          const { first, last } = await store.messages.bounds(r);
          assert.equal(last, 1000);
          assert.ok(first > 1, `nothing was trimmed (first ${first})`);
          assert.ok(last - first + 1 >= 100, `kept ${last - first + 1}`);
        }, { historyMax: 100 });
      },
    );

    await t.step(
      "expiry deletes old messages and forgets a room left empty",
      async () => {
        await usingStores(redis.url, 1, async ([store]) => {
          assert.ok(store);
          const old = room("old-room");
          const mixed = room("mixed-room");
          const at = (iso: string) => ({ ...message("x"), ts: iso });
          await store.messages.append(old, at("2020-01-01T00:00:00.000Z"));
          await store.messages.append(mixed, at("2020-01-01T00:00:00.000Z"));
          await store.messages.append(mixed, at("2030-01-01T00:00:00.000Z"));
          const removed = await store.messages.expire(
            "2025-01-01T00:00:00.000Z",
          );
          assert.ok(removed >= 2, `removed ${removed}`);
          assert.deepEqual(idBounds(await store.messages.bounds(old)), {
            first: 0,
            last: 0,
          });
          assert.deepEqual(idBounds(await store.messages.bounds(mixed)), {
            first: 2,
            last: 2,
          });
        });
      },
    );

    await t.step(
      "a store write while Redis is down is `unreachable`",
      async () => {
        await using gone = await startRedis();
        await usingStores(gone.url, 1, async ([store]) => {
          assert.ok(store);
          await gone.stop();
          await assert.rejects(
            store.messages.append(room("down"), message("lost?")),
            (error: unknown) =>
              error instanceof StoreError && error.kind === "unreachable" &&
              error.message.includes(`127.0.0.1:${gone.port}/0`),
          );
          await assert.rejects(store.ping(), StoreError);
          // Back again: the same store writes without being reopened.
          await gone.start();
          // Redis says nothing when it is back: ask until a ping passes.
          await waitUntil(async () => {
            try {
              await store.ping();
              return true;
            } catch (error) {
              if (!(error instanceof StoreError)) throw error;
              return false;
            }
          }, "a ping once Redis is back");
          const after = await store.messages.append(
            room("down"),
            message("back"),
          );
          assert.equal(after.message.id, 1);
        });
      },
    );
  },
});

Deno.test({
  name: "redis store: epochs",
  ignore: ignoreWithoutRedis,
  async fn(t) {
    await using redis = await startRedis();
    const raw = await RedisConnection.open(
      new URL(redis.url),
      "store",
      recordingLogger(),
    );
    try {
      await t.step(
        "a log not begun yet has an expiring epoch, which its first message keeps for good",
        async () => {
          await usingStores(redis.url, 1, async ([store]) => {
            assert.ok(store);
            const r = room("unbegun");
            const before = await store.messages.bounds(r);
            assert.deepEqual(idBounds(before), { first: 0, last: 0 });
            assert.match(before.epoch, /^[0-9a-f]{16}$/);
            const key = `${KEY_PREFIX}epoch:${r}`;
            assert.ok(Number(await raw.run(["PTTL", key])) > 0);
            assert.equal((await store.messages.bounds(r)).epoch, before.epoch);
            const appended = await store.messages.append(r, message("first"));
            assert.equal(appended.epoch, before.epoch);
            assert.equal(await raw.run(["PTTL", key]), -1);
          });
        },
      );

      await t.step(
        "a Redis restarted without its data begins each log again under another epoch",
        async () => {
          await usingStores(redis.url, 1, async ([store]) => {
            assert.ok(store);
            const r = room("restarted");
            for (const text of ["a", "b", "c"]) {
              await store.messages.append(r, message(text));
            }
            const { epoch } = await store.messages.bounds(r);
            await redis.stop();
            await redis.start();
            await waitUntil(
              () =>
                Promise.all([store.ping(), raw.run(["PING"])]).then(
                  () => true,
                  () => false,
                ),
              "the connections coming back",
            );
            const [position] = await store.messages.positions([r]);
            assert.deepEqual(position, { last: 0, epoch: "" });
            const again = await store.messages.append(r, message("again"));
            assert.equal(again.message.id, 1);
            assert.match(again.epoch, /^[0-9a-f]{16}$/);
            assert.notEqual(again.epoch, epoch);
            assert.deepEqual(await store.messages.positions([r]), [
              { last: 1, epoch: again.epoch },
            ]);
          });
        },
      );

      await t.step(
        "a log whose counter and messages were lost (evicted) does not keep its old epoch",
        async () => {
          await usingStores(redis.url, 1, async ([store]) => {
            assert.ok(store);
            const r = room("evicted");
            const first = await store.messages.append(r, message("a"));
            await raw.run([
              "DEL",
              `${KEY_PREFIX}seq:${r}`,
              `${KEY_PREFIX}msgs:${r}`,
            ]);
            const next = await store.messages.append(r, message("b"));
            assert.equal(next.message.id, 1);
            assert.notEqual(next.epoch, first.epoch);
          });
        },
      );

      await t.step(
        "a resent cid is answered with the epoch of its log",
        async () => {
          await usingStores(redis.url, 1, async ([store]) => {
            assert.ok(store);
            const r = room("resent");
            const first = await store.messages.append(r, message("x", "c-9"));
            const again = await store.messages.append(r, message("x", "c-9"));
            assert.equal(again.duplicate, true);
            assert.equal(again.epoch, first.epoch);
          });
        },
      );
    } finally {
      await raw.close();
    }
  },
});

Deno.test({
  name: "redis store: connecting",
  ignore: ignoreWithoutRedis,
  async fn(t) {
    await t.step(
      "an unreachable Redis is one error naming it, without the password",
      async () => {
        const port = freePort();
        await assert.rejects(
          openRedisStore(options(`redis://:hunter2@127.0.0.1:${port}/3`)),
          (error: unknown) => {
            assert.ok(error instanceof StoreError);
            assert.equal(error.kind, "unreachable");
            assert.match(
              error.message,
              new RegExp(
                `^Redis at redis://127\\.0\\.0\\.1:${port}/3 is unreachable`,
              ),
            );
            assert.ok(!error.message.includes("hunter2"));
            return true;
          },
        );
      },
    );

    await t.step(
      "a password and a database number in the URL are used, never logged",
      async () => {
        await using redis = await startRedis({ password: "s3cret-pass" });
        const log = recordingLogger();
        const url = `redis://:s3cret-pass@127.0.0.1:${redis.port}/5`;
        const store = await openRedisStore({ ...options(url), log });
        try {
          await store.messages.append(room("db5"), message("hello"));
          assert.equal((await store.messages.bounds(room("db5"))).last, 1);
        } finally {
          await store.close();
        }
        await assert.rejects(
          openRedisStore(
            options(`redis://:wrong-pass@127.0.0.1:${redis.port}/5`),
          ),
          (error: unknown) =>
            error instanceof StoreError &&
            !error.message.includes("wrong-pass"),
        );
        assert.ok(!JSON.stringify(log.events).includes("s3cret-pass"));
      },
    );
  },
});

Deno.test({
  name: "redis store: presence",
  ignore: ignoreWithoutRedis,
  async fn(t) {
    await using redis = await startRedis();

    await t.step(
      "first and last connection of a name, over nodes",
      async () => {
        await usingStores(redis.url, 2, async ([a, b]) => {
          assert.ok(a && b);
          const r = room("presence");
          assert.deepEqual(
            await a.presence.join({
              room: r,
              user: "ann",
              node: "n1",
              owner: "o1",
            }),
            {
              taken: false,
              first: true,
            },
          );
          assert.deepEqual(
            await b.presence.join({
              room: r,
              user: "ann",
              node: "n2",
              owner: "o1",
            }),
            {
              taken: false,
              first: false,
            },
          );
          assert.deepEqual(
            await b.presence.join({
              room: r,
              user: "ann",
              node: "n2",
              owner: "o2",
            }),
            {
              taken: true,
            },
          );
          assert.deepEqual(await a.presence.list(r, { limit: 10 }), [
            { name: "ann", connections: 2, verified: false },
          ]);
          assert.deepEqual(await a.presence.leave(r, "ann", "n1"), {
            last: false,
          });
          assert.deepEqual(await b.presence.leave(r, "ann", "n2"), {
            last: true,
          });
          assert.equal(await a.presence.count(r), 0);
          await a.presence.join({
            room: r,
            user: "signed-one",
            node: "n1",
            owner: "signed:abc",
          });
          assert.deepEqual(await b.presence.list(r, { limit: 10 }), [
            { name: "signed-one", connections: 1, verified: true },
          ]);
          await a.presence.leave(r, "signed-one", "n1");
        });
      },
    );

    await t.step(
      "a name that looks like one online is refused to another owner, on any process",
      async () => {
        await usingStores(redis.url, 2, async ([a, b]) => {
          assert.ok(a && b);
          const r = room("lookalikes");
          assert.deepEqual(
            await a.presence.join({
              room: r,
              user: "alice",
              node: "n1",
              owner: "o1",
            }),
            {
              taken: false,
              first: true,
            },
          );
          for (const like of ["Alice", "ALICE", "\u0391lice", "alice."]) {
            assert.deepEqual(
              await b.presence.join({
                room: r,
                user: like,
                node: "n2",
                owner: "o2",
              }),
              {
                taken: true,
              },
              like,
            );
          }
          // The same browser may hold both spellings in two tabs.
          assert.deepEqual(
            await b.presence.join({
              room: r,
              user: "Alice",
              node: "n2",
              owner: "o1",
            }),
            {
              taken: false,
              first: true,
            },
          );
          // A heartbeat of another owner never adds a look-alike.
          await b.presence.heartbeat("n3", [
            { room: r, user: "ALICE", owner: "o2", connections: 1 },
          ]);
          assert.deepEqual(
            (await a.presence.list(r, { limit: 10 })).map((u) => u.name),
            ["Alice", "alice"],
          );
          await a.presence.leave(r, "alice", "n1");
          assert.deepEqual(
            await a.presence.join({
              room: r,
              user: "ALICE",
              node: "n4",
              owner: "o2",
            }),
            {
              taken: true,
            },
            "Alice is still online",
          );
          await b.presence.leave(r, "Alice", "n2");
          assert.deepEqual(
            await a.presence.join({
              room: r,
              user: "ALICE",
              node: "n4",
              owner: "o2",
            }),
            {
              taken: false,
              first: true,
            },
          );
          await a.presence.leave(r, "ALICE", "n4");
          await a.presence.removeNode("n3");
        });
      },
    );

    await t.step("lists page in name order; rooms count names", async () => {
      await usingStores(redis.url, 1, async ([store]) => {
        assert.ok(store);
        const r = room("paged");
        for (const name of ["dan", "bea", "cy", "ari", "가람"]) {
          await store.presence.join({
            room: r,
            user: name,
            node: "n1",
            owner: `owner-${name}`,
          });
        }
        const names = async (after?: string) =>
          (await store.presence.list(r, {
            limit: 2,
            ...(after === undefined ? {} : { after }),
          })).map(({ name }) => name);
        assert.deepEqual(await names(), ["ari", "bea"]);
        assert.deepEqual(await names("bea"), ["cy", "dan"]);
        assert.deepEqual(await names("dan"), ["가람"]);
        assert.equal(await store.presence.count(r), 5);
        assert.deepEqual(
          (await store.presence.rooms()).find(({ name }) => name === r),
          { name: r, online: 5 },
        );
        await store.presence.removeNode("n1");
        assert.equal(await store.presence.count(r), 0);
      });
    });

    await t.step(
      "a silent node is swept after its TTL; its users are reported gone",
      async () => {
        await usingStores(redis.url, 1, async ([store]) => {
          assert.ok(store);
          const r = room("swept");
          await store.presence.join({
            room: r,
            user: "gone",
            node: "dead-node",
            owner: "o-gone",
          });
          await store.presence.join({
            room: r,
            user: "stays",
            node: "live-node",
            owner: "o-stays",
          });
          let departures: { room: string; user: string }[] = [];
          const deadline = Date.now() + 5000;
          while (departures.length === 0 && Date.now() < deadline) {
            await store.presence.heartbeat("live-node", [
              { room: r, user: "stays", owner: "o-stays", connections: 1 },
            ]);
            departures = await store.presence.sweep();
          }
          assert.deepEqual(departures, [{ room: r, user: "gone" }]);
          assert.deepEqual(await store.presence.list(r, { limit: 10 }), [
            { name: "stays", connections: 1, verified: false },
          ]);
        }, { presenceTtlMs: 200 });
      },
    );

    await t.step(
      "a heartbeat restores a node that was swept while it stalled",
      async () => {
        await usingStores(redis.url, 1, async ([store]) => {
          assert.ok(store);
          const r = room("restored");
          await store.presence.join({
            room: r,
            user: "slow",
            node: "stalled",
            owner: "o-slow",
          });
          await store.presence.removeNode("stalled");
          assert.equal(await store.presence.count(r), 0);
          await store.presence.heartbeat("stalled", [
            { room: r, user: "slow", owner: "o-slow", connections: 2 },
          ]);
          assert.deepEqual(await store.presence.list(r, { limit: 10 }), [
            { name: "slow", connections: 2, verified: false },
          ]);
          assert.deepEqual(
            await store.presence.join({
              room: r,
              user: "slow",
              node: "x",
              owner: "other",
            }),
            {
              taken: true,
            },
          );
          await store.presence.removeNode("stalled");
        });
      },
    );

    await t.step(
      "a heartbeat never counts a connection under a name another owner holds",
      async () => {
        await usingStores(redis.url, 1, async ([store]) => {
          assert.ok(store);
          const r = room("held");
          await store.presence.join({
            room: r,
            user: "ann",
            node: "n1",
            owner: "o1",
          });
          // What a node whose claim of the name was refused, but which had
          // already counted it, would send.
          await store.presence.heartbeat("n2", [
            { room: r, user: "ann", owner: "o2", connections: 1 },
          ]);
          assert.deepEqual(await store.presence.list(r, { limit: 10 }), [
            { name: "ann", connections: 1, verified: false },
          ]);
          assert.deepEqual(await store.presence.leave(r, "ann", "n1"), {
            last: true,
          });
          assert.equal(await store.presence.count(r), 0);
          await store.presence.removeNode("n2");
        });
      },
    );

    await t.step(
      "a node's heartbeat sent while one of its joins is in flight keeps the name",
      async () => {
        await usingStores(redis.url, 1, async ([store]) => {
          assert.ok(store);
          const r = room("in-flight");
          const presence = new NodePresence({
            store: store.presence,
            heartbeatMs: 60_000,
            announce: () => {},
          });
          try {
            // Both go out on the one connection, the join first: the
            // heartbeat reaches Redis after it, before its answer is back.
            const joined = presence.join(r, "ann", "o1");
            const refreshed = presence.refresh();
            assert.deepEqual(await joined, { taken: false, first: true });
            await refreshed;
            assert.deepEqual(await store.presence.list(r, { limit: 10 }), [
              { name: "ann", connections: 1, verified: false },
            ]);
            // A refused claim in flight is not counted by the heartbeat.
            await store.presence.join({
              room: r,
              user: "bo",
              node: "another-node",
              owner: "o-bo",
            });
            const refused = presence.join(r, "bo", "o2");
            const again = presence.refresh();
            assert.deepEqual(await refused, { taken: true });
            await again;
            await presence.refresh();
            assert.deepEqual(await store.presence.list(r, { limit: 10 }), [
              { name: "ann", connections: 1, verified: false },
              { name: "bo", connections: 1, verified: false },
            ]);
          } finally {
            await presence.close();
            await store.presence.removeNode("another-node");
          }
        });
      },
    );
  },
});

Deno.test({
  name: "redis bus",
  ignore: ignoreWithoutRedis,
  async fn(t) {
    await using redis = await startRedis();

    await t.step(
      "a room's subscribers elsewhere get what is published; the sender does not",
      async () => {
        const a = await openRedisBus({ url: new URL(redis.url) });
        const b = await openRedisBus({ url: new URL(redis.url) });
        try {
          const lobby = room("lobby");
          const atA: unknown[] = [];
          const atB: unknown[] = [];
          const other: unknown[] = [];
          const arrived = Promise.withResolvers<void>();
          const subA = a.subscribe(lobby, (data) => atA.push(data));
          const subB = b.subscribe(lobby, (data) => {
            atB.push(data);
            if (data === "marker") arrived.resolve();
          });
          const subOther = b.subscribe(room("other"), (d) => other.push(d));
          await Promise.all([subA.live, subB.live, subOther.live]);
          await a.publish(lobby, "hello\nwith a newline");
          await a.publish(lobby, "marker");
          await arrived.promise;
          assert.deepEqual(atB, ["hello\nwith a newline", "marker"]);
          assert.deepEqual(atA, []);
          assert.deepEqual(other, []);
          subA.close();
          subB.close();
          subOther.close();
          await a.ping();
        } finally {
          await Promise.all([a.close(), b.close()]);
        }
      },
    );
  },
});
