/**
 * The SQLite file under a running store: it follows its path to the file
 * there now (a backup put back, a file moved away, a file deleted), and it
 * reports damage, found at open or met later, as `corrupt`.
 *
 * @module
 */

import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { parseRoomName, type RoomName } from "../chat/room_name.ts";
import { fileAt, isWhole } from "../adapters/sqlite/file.ts";
import { openSqliteStore } from "../adapters/sqlite/store.ts";
import { type Store, StoreError } from "../chat/store.ts";
import { idBounds, sqliteOptions } from "../testkit/defaults.ts";
import { recordingLogger, waitUntil } from "../testkit/server.ts";

function room(name: string): RoomName {
  const parsed = parseRoomName(name);
  if (!parsed.ok) throw new Error(parsed.error);
  return parsed.name;
}

const lobby = room("lobby");

async function append(store: Store, text: string): Promise<number> {
  const { message } = await store.messages.append(lobby, {
    user: "u",
    message: text,
    ts: new Date().toISOString(),
  });
  return message.id;
}

async function texts(store: Store): Promise<string[]> {
  return (await store.messages.latest(lobby, 100)).map((m) => m.message);
}

/** The texts of the lobby in the file at `path`, opened anew. */
async function textsOnReopen(path: string): Promise<string[]> {
  const reopened = openSqliteStore(sqliteOptions(path));
  try {
    return await texts(reopened);
  } finally {
    await reopened.close();
  }
}

/**
 * Runs `work` with a fresh folder and the path of a database file in it,
 * removed afterwards.
 */
async function withDir(
  work: (place: { dir: string; path: string }) => Promise<void>,
): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "chat-database-" });
  try {
    await work({ dir, path: `${dir}/chat.db` });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/**
 * Opens the store at `path` and waits until its checkpoint thread has its
 * own connection to the file (two descriptors of this process name it):
 * a thread that starts after the file was replaced would open the new
 * one beside the old one's log, which no store can be kept from.
 */
async function openStore(
  path: string,
  options: Parameters<typeof sqliteOptions>[1] = {},
): Promise<Store> {
  const store = openSqliteStore(sqliteOptions(path, options));
  const opened = () =>
    [...Deno.readDirSync("/proc/self/fd")].filter((entry) => {
      try {
        return Deno.readLinkSync(`/proc/self/fd/${entry.name}`) === path;
      } catch (error) {
        // Closed between the listing and the look.
        if (error instanceof Deno.errors.NotFound) return false;
        throw error;
      }
    }).length;
  await waitUntil(() => opened() >= 2, "the checkpoint thread opening");
  return store;
}

/**
 * Waits until `store` has left the file of `epoch` for the one at its
 * path: it looks at most every 250 ms, on a call.
 */
async function followed(store: Store, epoch: string): Promise<string> {
  let now = epoch;
  await waitUntil(async () => {
    now = (await store.messages.bounds(lobby)).epoch;
    return now !== epoch;
  }, "the store opening the file now at its path");
  return now;
}

Deno.test("sqlite database: follows its path", async (t) => {
  await t.step(
    "a copy of the file put back (a backup restored) gets a new epoch; ids go on from the copy",
    async () => {
      await withDir(async ({ dir, path }) => {
        const log = recordingLogger();
        const store = await openStore(path, { log });
        try {
          for (const text of ["a", "b", "c"]) await append(store, text);
          const { epoch } = await store.messages.bounds(lobby);
          const copier = new DatabaseSync(path);
          copier.exec(`VACUUM INTO '${dir}/backup.db'`);
          copier.close();
          await append(store, "d");
          await Deno.rename(`${dir}/backup.db`, path);
          const now = await followed(store, epoch);
          assert.match(now, /^[0-9a-f]{16}$/);
          assert.deepEqual(idBounds(await store.messages.bounds(lobby)), {
            first: 1,
            last: 3,
          });
          assert.equal(await append(store, "e"), 4);
          assert.deepEqual(await texts(store), ["a", "b", "c", "e"]);
          const [replaced] = await log.waitFor((e) =>
            e.event === "store.file_replaced"
          );
          assert.equal(replaced?.path, path);
        } finally {
          await store.close();
        }
        assert.deepEqual(await textsOnReopen(path), ["a", "b", "c", "e"]);
      });
    },
  );

  await t.step(
    "a file moved away alone: its log is set aside, not read as the new file's",
    async () => {
      await withDir(async ({ dir, path }) => {
        const store = await openStore(path);
        try {
          for (const text of ["a", "b"]) await append(store, text);
          const { epoch } = await store.messages.bounds(lobby);
          await Deno.rename(path, `${dir}/moved.db`);
          // An empty file is an empty SQLite database.
          await Deno.writeFile(path, new Uint8Array());
          await followed(store, epoch);
          assert.deepEqual(await texts(store), []);
          assert.equal(await append(store, "new"), 1);
          const aside = [...Deno.readDirSync(dir)].map((e) => e.name)
            .filter((name) => name.startsWith("chat.db-wal.replaced-"));
          assert.equal(aside.length, 1, "the old log is kept aside");
        } finally {
          await store.close();
        }
        // The file moved away holds what was written to it: its log was
        // copied into it before it was left.
        const moved = new DatabaseSync(`${dir}/moved.db`);
        try {
          const rows = moved.prepare("SELECT COUNT(*) AS n FROM messages")
            .get();
          assert.equal(rows?.n, 2);
        } finally {
          moved.close();
        }
      });
    },
  );

  await t.step(
    "another file put in place while a connection reads the old one: the old log, which could not be copied, is not read as the new file's",
    async () => {
      await withDir(async ({ dir, path }) => {
        const other = openSqliteStore(sqliteOptions(`${dir}/other.db`));
        await append(other, "x");
        await other.close();
        const store = await openStore(path);
        const reader = new DatabaseSync(path);
        try {
          await append(store, "a");
          const { epoch } = await store.messages.bounds(lobby);
          // A read transaction holds the log: what follows cannot be
          // copied into the file.
          reader.exec("BEGIN");
          reader.prepare("SELECT COUNT(*) FROM messages").get();
          for (const text of ["b", "c", "d"]) await append(store, text);
          await Deno.rename(path, `${dir}/moved.db`);
          await Deno.rename(`${dir}/other.db`, path);
          await followed(store, epoch);
          assert.deepEqual(await texts(store), ["x"]);
          assert.equal(await append(store, "y"), 2);
          assert.deepEqual(await texts(store), ["x", "y"]);
        } finally {
          reader.close();
          await store.close();
        }
      });
    },
  );

  await t.step(
    "a deleted file: writes go on to it and the probe says so, until a file is put back and followed",
    async () => {
      await withDir(async ({ path }) => {
        const log = recordingLogger();
        const store = await openStore(path, { log });
        try {
          await append(store, "kept");
          const { epoch } = await store.messages.bounds(lobby);
          for (const suffix of ["", "-wal", "-shm"]) {
            await Deno.remove(`${path}${suffix}`);
          }
          await waitUntil(
            () => store.ping().then(() => false, () => true),
            "the probe failing",
          );
          await assert.rejects(
            store.ping(),
            (error) =>
              error instanceof StoreError && error.kind === "io" &&
              error.message.includes(`${path} was deleted`),
          );
          await log.waitFor((e) => e.event === "store.file_missing");
          await assert.rejects(Deno.stat(path), Deno.errors.NotFound);
          assert.equal(await append(store, "still"), 2);
          await Deno.writeFile(path, new Uint8Array());
          await followed(store, epoch);
          await store.ping();
          assert.deepEqual(idBounds(await store.messages.bounds(lobby)), {
            first: 0,
            last: 0,
          });
          assert.equal(await append(store, "again"), 1);
        } finally {
          await store.close();
        }
      });
    },
  );

  await t.step("a file in memory has an epoch and stays put", async () => {
    const store = openSqliteStore(sqliteOptions(":memory:"));
    try {
      await append(store, "a");
      const { epoch } = await store.messages.bounds(lobby);
      assert.match(epoch, /^[0-9a-f]{16}$/);
      assert.equal(
        (await store.messages.append(lobby, {
          user: "u",
          message: "b",
          ts: "t",
        })).epoch,
        epoch,
      );
    } finally {
      await store.close();
    }
  });
});

Deno.test("a file is whole once it holds every page its header counts", async () => {
  await withDir(async ({ dir, path }) => {
    const store = openSqliteStore(sqliteOptions(path));
    for (const text of ["a", "b", "c"]) await append(store, text);
    await store.close();
    const bytes = await Deno.readFile(path);
    assert.ok(bytes.length > 4096, `a file of ${bytes.length} bytes`);
    const whole = fileAt(path);
    assert.ok(whole);
    assert.equal(isWhole(path, whole), true);
    const copying = `${dir}/copying.db`;
    await Deno.writeFile(copying, bytes.subarray(0, bytes.length - 4096));
    const part = fileAt(copying);
    assert.ok(part);
    assert.equal(isWhole(copying, part), false);
    await Deno.writeFile(`${dir}/empty.db`, new Uint8Array());
    const empty = fileAt(`${dir}/empty.db`);
    assert.ok(empty);
    assert.equal(isWhole(`${dir}/empty.db`, empty), true);
  });
});
