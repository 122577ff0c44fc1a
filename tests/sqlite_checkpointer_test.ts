/**
 * The checkpoint thread: when it copies the log into the file, that it runs
 * from start to close, and how it tells of failures.
 *
 * @module
 */

import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import {
  Checkpointer,
  type CheckpointerOptions,
} from "../adapters/sqlite/checkpointer.ts";
import type { Schedule } from "../chat/presence_batch.ts";
import { waitUntil, within } from "../testkit/server.ts";

/** Timers the test fires by hand. */
function manualSchedule() {
  const tasks = new Set<() => void>();
  const schedule: Schedule = (task) => {
    const entry = () => {
      tasks.delete(entry);
      task();
    };
    tasks.add(entry);
    return () => tasks.delete(entry);
  };
  return {
    schedule,
    get pending() {
      return tasks.size;
    },
    runAll() {
      for (const task of [...tasks]) task();
    },
  };
}

/**
 * A database file in WAL mode whose own connection never checkpoints, with
 * `rows` rows of 1 KiB written to its log.
 */
async function logOnlyDatabase(rows: number) {
  const dir = await Deno.makeTempDir({ prefix: "chat-checkpoint-" });
  const path = `${dir}/chat.db`;
  const db = new DatabaseSync(path);
  db.exec("PRAGMA journal_mode = WAL");
  db.exec("PRAGMA wal_autocheckpoint = 0");
  db.exec("CREATE TABLE t (x TEXT)");
  const insert = db.prepare("INSERT INTO t (x) VALUES (?)");
  const write = (count: number) => {
    for (let i = 0; i < count; i++) insert.run("x".repeat(1024));
  };
  write(rows);
  return {
    path,
    /** Writes `count` more rows of 1 KiB to the log. */
    write,
    fileSize: () => Deno.statSync(path).size,
    /** Descriptors of this process (any thread's) open on the folder's files. */
    filesOpen: () =>
      [...Deno.readDirSync("/proc/self/fd")].filter(({ name }) => {
        try {
          return Deno.readLinkSync(`/proc/self/fd/${name}`).startsWith(dir);
        } catch (error) {
          // Closed between the listing and the look.
          if (error instanceof Deno.errors.NotFound) return false;
          throw error;
        }
      }).length,
    /** Resolves once the file grew by most of the log since `size`. */
    copied: (size: number) =>
      waitUntil(
        () => Deno.statSync(path).size > size + 40 * 1024,
        "the log copied into the file",
      ),
    /** Closes the test's own connection, before the end of the test. */
    closeConnection: () => {
      if (db.isOpen) db.close();
    },
    async [Symbol.asyncDispose]() {
      if (db.isOpen) db.close();
      await Deno.remove(dir, { recursive: true });
    },
  };
}

/** A checkpointer of `path` on the test's timers, quiet about trouble. */
function checkpointerOf(
  path: string,
  timers: ReturnType<typeof manualSchedule>,
  options: Partial<CheckpointerOptions> = {},
): Checkpointer {
  return new Checkpointer({
    path,
    onTrouble: () => {},
    schedule: timers.schedule,
    ...options,
  });
}

Deno.test("the checkpoint thread", async (t) => {
  await t.step(
    "a small write is copied into the file when its delay is up, not before",
    async () => {
      await using database = await logOnlyDatabase(50);
      const timers = manualSchedule();
      await using checkpointer = checkpointerOf(database.path, timers);
      const before = database.fileSize();
      checkpointer.wrote(1024);
      assert.equal(timers.pending, 1, "the checkpoint is due later");
      timers.runAll();
      await database.copied(before);
    },
  );

  await t.step(
    "a large write is copied at once, without waiting for the delay",
    async () => {
      await using database = await logOnlyDatabase(50);
      const timers = manualSchedule();
      await using checkpointer = checkpointerOf(database.path, timers, {
        eagerBytes: 32 * 1024,
      });
      const before = database.fileSize();
      checkpointer.wrote(50 * 1024);
      assert.equal(checkpointer.running, true);
      await database.copied(before);
    },
  );

  await t.step(
    "once the whole log is copied, and nothing was written since, the owner is told",
    async () => {
      await using database = await logOnlyDatabase(50);
      const timers = manualSchedule();
      let told = 0;
      await using checkpointer = checkpointerOf(database.path, timers, {
        onLogCopied: () => told++,
      });
      checkpointer.wrote(1024);
      timers.runAll();
      checkpointer.wrote(1024); // while the checkpoint runs
      // Answered after the one in flight, by the same thread.
      await checkpointer.checkpoint();
      assert.equal(told, 0, "not with a write still to copy");
      timers.runAll();
      await waitUntil(() => told === 1, "the owner told");
    },
  );

  await t.step(
    "the thread runs from the start to the close, idle or not",
    async () => {
      await using database = await logOnlyDatabase(1);
      const timers = manualSchedule();
      const checkpointer = checkpointerOf(database.path, timers, {
        eagerBytes: 1,
      });
      try {
        // Started with it: a thread started later, in a descriptor flood,
        // would end the process.
        assert.equal(checkpointer.running, true, "running before any write");
        await checkpointer.started;
        assert.ok(database.filesOpen() > 0, "its connection is open");
        checkpointer.wrote(1);
        await checkpointer.checkpoint();
        assert.equal(timers.pending, 0, "nothing scheduled to stop it");
        assert.equal(checkpointer.running, true, "still running when idle");
      } finally {
        await checkpointer.close();
      }
      assert.equal(checkpointer.running, false);
      assert.equal(timers.pending, 0, "close leaves no timer");
    },
  );

  await t.step(
    "a failing checkpoint is told once, retried, and its recovery told",
    async () => {
      const dir = await Deno.makeTempDir({ prefix: "chat-checkpoint-" });
      const path = `${dir}/chat.db`;
      await Deno.writeTextFile(path, "this is no database, but a text file");
      const timers = manualSchedule();
      const told: (string | undefined)[] = [];
      const checkpointer = new Checkpointer({
        path,
        onTrouble: (reason) => told.push(reason),
        schedule: timers.schedule,
      });
      try {
        // Opening its connection failed: told, and the thread stays.
        await checkpointer.started;
        assert.equal(told.length, 1, JSON.stringify(told));
        assert.equal(checkpointer.running, true);
        for (let attempt = 0; attempt < 2; attempt++) {
          checkpointer.wrote(1);
          timers.runAll();
          await waitUntil(
            () => timers.pending === 1,
            "the retry scheduled after the failure",
          );
        }
        assert.equal(told.length, 1, JSON.stringify(told));
        assert.match(String(told[0]), /SQLite checkpoint failed: .*database/);

        await Deno.remove(path);
        const db = new DatabaseSync(path);
        db.exec("PRAGMA journal_mode = WAL");
        db.close();
        timers.runAll();
        await waitUntil(() => told.length === 2, "the recovery told");
        assert.equal(told[1], undefined);
      } finally {
        await checkpointer.close();
        await Deno.remove(dir, { recursive: true });
      }
    },
  );

  await t.step(
    "closing fails a checkpoint in flight and ignores later writes",
    async () => {
      await using database = await logOnlyDatabase(1);
      const timers = manualSchedule();
      const checkpointer = checkpointerOf(database.path, timers);
      const inFlight = checkpointer.checkpoint();
      const closed = checkpointer.close();
      await within(
        assert.rejects(inFlight, /closed/),
        5000,
        "the checkpoint in flight to fail",
      );
      await closed;
      checkpointer.wrote(1_000_000);
      assert.equal(checkpointer.running, false);
      assert.equal(timers.pending, 0);
    },
  );

  await t.step(
    "close resolves once the thread has let go of the file",
    async () => {
      await using database = await logOnlyDatabase(1);
      const timers = manualSchedule();
      const checkpointer = checkpointerOf(database.path, timers);
      await checkpointer.checkpoint();
      // A log that takes the next checkpoint a while to copy, so that
      // closing meets it in flight.
      database.write(4000);
      // The thread's connection is now the file's last one. (SQLite keeps
      // a closed connection's descriptors open while another connection of
      // the process holds locks on the same file, so the test's own would
      // otherwise show as the thread's.)
      database.closeConnection();
      assert.ok(database.filesOpen() > 0, "the thread has the file open");
      const inFlight = assert.rejects(checkpointer.checkpoint(), /closed/);
      await checkpointer.close();
      await inFlight;
      // Nothing of it can touch the file, or the folder its owner then
      // removes, any more.
      assert.equal(database.filesOpen(), 0);
    },
  );
});
