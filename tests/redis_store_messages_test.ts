import assert from "node:assert/strict";
import { RedisConnection } from "../adapters/redis/connection.ts";
import { KEY_PREFIX } from "../adapters/redis/store.ts";
import { StoreError } from "../chat/store.ts";
import { idBounds } from "../testkit/defaults.ts";
import { ignoreWithoutRedis, startRedis } from "../testkit/redis.ts";
import { recordingLogger, waitUntil } from "../testkit/server.ts";
import { message, room, usingStores } from "../testkit/redis_store.ts";

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
