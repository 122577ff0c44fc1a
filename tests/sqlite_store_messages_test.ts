import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { openSqliteStore } from "../adapters/sqlite/store.ts";
import { StoreError } from "../chat/store.ts";
import { idBounds, sqliteOptions } from "../testkit/defaults.ts";
import { waitUntil } from "../testkit/server.ts";
import {
  appendOne,
  fill,
  lobby,
  logGeneration,
  other,
  room,
  withDir,
} from "../testkit/sqlite_store.ts";

/**
 * Runs `work` while a second connection to `path` holds a read transaction
 * (on a snapshot from before `work`): meanwhile nothing copies the log
 * into the file or starts it over, neither the store's checkpoint thread
 * nor the store itself.
 */
async function withLogHeld<T>(
  path: string,
  work: () => Promise<T>,
): Promise<T> {
  const reader = new DatabaseSync(path);
  try {
    reader.exec("BEGIN");
    reader.prepare("SELECT COUNT(*) FROM health").get();
    try {
      return await work();
    } finally {
      reader.exec("COMMIT");
    }
  } finally {
    reader.close();
  }
}

/**
 * How many frames (pages) `write` adds to the write-ahead log of `path`:
 * the log is emptied first (through a second connection; the store's
 * checkpoint thread may be copying it at that moment, and SQLite refuses a
 * second checkpoint meanwhile, so it is tried until it ran), then measured
 * by its size while it is held.
 */
async function framesWritten(
  path: string,
  write: () => Promise<void>,
): Promise<number> {
  const reader = new DatabaseSync(path);
  let pageSize: number;
  try {
    pageSize = Number(reader.prepare("PRAGMA page_size").get()?.page_size);
    await waitUntil(
      () => reader.prepare("PRAGMA wal_checkpoint(TRUNCATE)").get()?.busy === 0,
      "the log was emptied",
    );
  } finally {
    reader.close();
  }
  return await withLogHeld(path, async () => {
    await write();
    const header = 32;
    const frame = 24 + pageSize;
    return (Deno.statSync(`${path}-wal`).size - header) / frame;
  });
}

Deno.test("sqlite store: messages", async (t) => {
  await t.step("ids start at 1 and increase strictly, per room", async () => {
    const store = openSqliteStore(sqliteOptions(":memory:"));
    const a1 = await store.messages.append(lobby, {
      user: "a",
      message: "x",
      ts: "t1",
    });
    const b1 = await store.messages.append(other, {
      user: "b",
      message: "y",
      ts: "t2",
    });
    const a2 = await store.messages.append(lobby, {
      user: "a",
      message: "z",
      ts: "t3",
    });
    assert.deepEqual([a1, b1, a2].map((r) => r.message.id), [1, 1, 2]);
    assert.deepEqual(a2.message, {
      id: 2,
      room: lobby,
      user: "a",
      message: "z",
      ts: "t3",
    });
    assert.deepEqual(idBounds(await store.messages.bounds(lobby)), {
      first: 1,
      last: 2,
    });
    assert.deepEqual(idBounds(await store.messages.bounds(room("empty"))), {
      first: 0,
      last: 0,
    });
    store.close();
  });

  await t.step("keeps text exactly as sent", async () => {
    const store = openSqliteStore(sqliteOptions(":memory:"));
    const text = "안녕 👋 <script>x</script> مرحبا \u0000 end";
    await store.messages.append(lobby, { user: "ü", message: text, ts: "t" });
    assert.equal((await store.messages.latest(lobby, 1))[0]?.message, text);
    store.close();
  });

  await t.step(
    "appends of one turn are stored together, in order; a refused one leaves the rest",
    async () => {
      const store = openSqliteStore(
        sqliteOptions(":memory:", { maxRooms: 2 }),
      );
      const rooms = [lobby, other, room("third"), lobby, other, lobby];
      // All in one turn: one transaction, ids in the order of the calls.
      const results = await Promise.allSettled(
        rooms.map((target, index) =>
          store.messages.append(target, {
            user: "u",
            message: `m${index}`,
            ts: "t",
          })
        ),
      );
      const ids = results.map((result) =>
        result.status === "fulfilled" ? result.value.message.id : "refused"
      );
      assert.deepEqual(ids, [1, 1, "refused", 2, 2, 3]);
      const refused = results[2];
      assert.ok(refused?.status === "rejected");
      assert.ok(refused.reason instanceof StoreError);
      assert.equal(refused.reason.kind, "limit");
      assert.deepEqual(
        (await store.messages.latest(lobby, 10)).map((m) => m.message),
        ["m0", "m3", "m5"],
      );
      await store.close();
    },
  );

  await t.step(
    "expiry deletes each room's messages from before the cut-off, and no others",
    async () => {
      const store = openSqliteStore(sqliteOptions(":memory:"));
      const at = (minute: number) =>
        `2026-11-24T10:${String(minute).padStart(2, "0")}:00.000Z`;
      for (
        const [target, minutes] of [[lobby, [1, 2, 5, 6]], [other, [
          3,
          4,
        ]]] as const
      ) {
        for (const minute of minutes) {
          await store.messages.append(target, {
            user: "u",
            message: `at ${minute}`,
            ts: at(minute),
          });
        }
      }
      const quiet = room("quiet");
      await store.messages.append(quiet, {
        user: "u",
        message: "x",
        ts: at(7),
      });

      assert.equal(await store.messages.expire(at(5)), 4);
      assert.deepEqual(
        (await store.messages.latest(lobby, 10)).map((m) => m.message),
        ["at 5", "at 6"],
      );
      assert.deepEqual(await store.messages.latest(other, 10), []);
      assert.equal((await store.messages.latest(quiet, 10)).length, 1);
      // A room left with no message and nobody online is forgotten: its
      // ids start again.
      assert.deepEqual(idBounds(await store.messages.bounds(other)), {
        first: 0,
        last: 0,
      });
      assert.equal(await store.messages.expire(at(5)), 0, "nothing twice");
      await store.close();
    },
  );

  await t.step(
    "retention keeps the newest historyMax and ids keep counting",
    async () => {
      const store = openSqliteStore(
        sqliteOptions(":memory:", { historyMax: 5 }),
      );
      await fill(store, lobby, 12);
      const kept = await store.messages.latest(lobby, 100);
      assert.deepEqual(kept.map((m) => m.id), [8, 9, 10, 11, 12]);
      assert.deepEqual(idBounds(await store.messages.bounds(lobby)), {
        first: 8,
        last: 12,
      });
      const next = await store.messages.append(lobby, {
        user: "u",
        message: "n",
        ts: "t",
      });
      assert.equal(next.message.id, 13);
      store.close();
    },
  );

  await t.step(
    "no id is handed out twice, even after the newest messages were deleted",
    async () => {
      const store = openSqliteStore(sqliteOptions(":memory:"));
      await fill(store, lobby, 3);
      assert.equal(await store.messages.remove(lobby, 3), true);
      assert.deepEqual(idBounds(await store.messages.bounds(lobby)), {
        first: 1,
        last: 3,
      });
      assert.equal(await appendOne(store, lobby), 4);
      for (const id of [1, 2, 4]) await store.messages.remove(lobby, id);
      assert.deepEqual(
        (await store.messages.positions([lobby])).map(({ last }) => last),
        [4],
      );
      assert.equal(await appendOne(store, lobby), 5);
      store.close();
    },
  );

  await t.step(
    "a room that expiry empties while someone is in it keeps counting",
    async () => {
      const store = openSqliteStore(sqliteOptions(":memory:"));
      await store.presence.join({
        room: lobby,
        user: "ann",
        node: "node-a",
        owner: "owner-a",
      });
      await appendOne(store, lobby, "2026-11-24T10:00:00.000Z");
      await appendOne(store, lobby, "2026-11-24T10:01:00.000Z");
      assert.equal(await store.messages.expire("2026-11-24T11:00:00.000Z"), 2);
      assert.deepEqual(idBounds(await store.messages.bounds(lobby)), {
        first: 0,
        last: 2,
      });
      assert.equal(
        await appendOne(store, lobby, "2026-11-24T11:30:00.000Z"),
        3,
      );
      store.close();
    },
  );

  await t.step("a message adds one page to the log, not two", async () => {
    await withDir(async (dir) => {
      const path = `${dir}/pages.db`;
      const store = openSqliteStore(sqliteOptions(path));
      await fill(store, lobby, 2);
      const frames = await framesWritten(path, () => fill(store, lobby, 1));
      store.close();
      assert.equal(frames, 1);
    });
  });

  await t.step(
    "the log starts over once it is copied, not in the next message's commit",
    async () => {
      await withDir(async (dir) => {
        const path = `${dir}/restart.db`;
        const store = openSqliteStore(sqliteOptions(path));
        try {
          await fill(store, lobby, 1);
          const first = logGeneration(path);
          // The checkpoint thread copies the log a second after a write.
          await waitUntil(
            () => logGeneration(path) !== first,
            "the log started over without another message",
          );
          const second = logGeneration(path);
          await withLogHeld(path, () => fill(store, lobby, 1));
          // Started over, it would sync a new header: a disk flush.
          assert.equal(logGeneration(path), second, "the message appended");
          assert.equal((await store.messages.latest(lobby, 10)).length, 2);
        } finally {
          store.close();
        }
      });
    },
  );

  await t.step(
    "a full room is pruned a 64th at a time, never more than that over",
    async () => {
      const store = openSqliteStore(
        sqliteOptions(":memory:", { historyMax: 128 }),
      );
      await fill(store, lobby, 129);
      assert.deepEqual(idBounds(await store.messages.bounds(lobby)), {
        first: 1,
        last: 129,
      });
      await fill(store, lobby, 1);
      assert.deepEqual(idBounds(await store.messages.bounds(lobby)), {
        first: 3,
        last: 130,
      });
      assert.equal((await store.messages.latest(lobby, 1000)).length, 128);
      store.close();
    },
  );

  await t.step(
    "a message in a full room also adds one page to the log",
    async () => {
      await withDir(async (dir) => {
        const path = `${dir}/full.db`;
        const store = openSqliteStore(
          sqliteOptions(path, { historyMax: 640 }),
        );
        await fill(store, lobby, 650);
        const frames = await framesWritten(path, () => fill(store, lobby, 1));
        store.close();
        assert.equal(frames, 1);
      });
    },
  );

  await t.step(
    "latest, after and before return oldest first within limits",
    async () => {
      const store = openSqliteStore(sqliteOptions(":memory:"));
      await fill(store, lobby, 10);
      const idsOf = (list: { id: number }[]) => list.map((m) => m.id);
      assert.deepEqual(idsOf(await store.messages.latest(lobby, 3)), [
        8,
        9,
        10,
      ]);
      assert.deepEqual(idsOf(await store.messages.after(lobby, 4, 3)), [
        5,
        6,
        7,
      ]);
      assert.deepEqual(idsOf(await store.messages.after(lobby, 8, 50)), [
        9,
        10,
      ]);
      assert.deepEqual(idsOf(await store.messages.after(lobby, 10, 50)), []);
      assert.deepEqual(idsOf(await store.messages.before(lobby, 5, 3)), [
        2,
        3,
        4,
      ]);
      assert.deepEqual(idsOf(await store.messages.before(lobby, 3, 50)), [
        1,
        2,
      ]);
      assert.deepEqual(idsOf(await store.messages.before(lobby, 1, 50)), []);
      store.close();
    },
  );

  await t.step("messages survive closing and reopening the file", async () => {
    await withDir(async (dir) => {
      const path = `${dir}/nested/chat.db`;
      const first = openSqliteStore(sqliteOptions(path));
      await fill(first, lobby, 3);
      first.close();
      const second = openSqliteStore(sqliteOptions(path));
      assert.deepEqual(
        (await second.messages.latest(lobby, 10)).map((m) => m.message),
        ["m1", "m2", "m3"],
      );
      assert.equal(
        (await second.messages.append(lobby, {
          user: "u",
          message: "m4",
          ts: "t",
        })).message.id,
        4,
      );
      second.close();
    });
  });

  await t.step("two writers on one file never collide", async () => {
    await withDir(async (dir) => {
      const path = `${dir}/chat.db`;
      const one = openSqliteStore(sqliteOptions(path));
      const two = openSqliteStore(sqliteOptions(path));
      const ids: number[] = [];
      for (let i = 0; i < 50; i++) {
        const writer = i % 3 === 0 ? one : two;
        ids.push(
          (await writer.messages.append(lobby, {
            user: "u",
            message: `${i}`,
            ts: "t",
          })).message.id,
        );
      }
      assert.deepEqual(ids, Array.from({ length: 50 }, (_, i) => i + 1));
      one.close();
      two.close();
    });
  });

  await t.step(
    "four isolates opening a fresh file at once all write, with unique ids",
    async () => {
      await withDir(async (dir) => {
        const path = `${dir}/fresh.db`;
        const results = await Promise.all(Array.from({ length: 4 }, () => {
          const worker = new Worker(
            new URL("../testkit/store_worker.ts", import.meta.url),
            { type: "module" },
          );
          const done = Promise.withResolvers<unknown>();
          worker.onmessage = (event: MessageEvent<unknown>) =>
            done.resolve(event.data);
          worker.onerror = (event) => done.reject(event.message);
          worker.postMessage({ path, room: "lobby", count: 50 });
          return done.promise.finally(() => worker.terminate());
        }));
        const ids = results.flatMap((result) => {
          assert.ok(
            typeof result === "object" && result !== null && "ids" in result,
            JSON.stringify(result),
          );
          assert.ok(Array.isArray(result.ids));
          return result.ids;
        });
        assert.equal(ids.length, 200);
        assert.deepEqual(
          [...ids].sort((a, b) => a - b),
          Array.from({ length: 200 }, (_, i) => i + 1),
        );
      });
    },
  );
});
