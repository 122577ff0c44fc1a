import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { openSqliteStore } from "../adapters/sqlite/store.ts";
import { sqliteOptions } from "../testkit/defaults.ts";
import { waitUntil } from "../testkit/server.ts";
import {
  fill,
  lobby,
  logGeneration,
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

Deno.test("sqlite store: a message adds one page to the log, which starts over once copied", async (t) => {
  await t.step("a message adds one page to the log, not two", async () => {
    await withDir(async (dir) => {
      const path = `${dir}/pages.db`;
      const store = openSqliteStore(sqliteOptions(path));
      await fill(store, lobby, 2);
      const frames = await framesWritten(path, () => fill(store, lobby, 1));
      await store.close();
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
          await store.close();
        }
      });
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
        await store.close();
        assert.equal(frames, 1);
      });
    },
  );
});

Deno.test("sqlite store: the file is shared by writers and outlives them", async (t) => {
  await t.step("messages survive closing and reopening the file", async () => {
    await withDir(async (dir) => {
      const path = `${dir}/nested/chat.db`;
      const first = openSqliteStore(sqliteOptions(path));
      await fill(first, lobby, 3);
      await first.close();
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
      await second.close();
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
      await one.close();
      await two.close();
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
