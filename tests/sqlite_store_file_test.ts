import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { SCHEMA_VERSION } from "../adapters/sqlite/schema.ts";
import { folderOf } from "../adapters/sqlite/open.ts";
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
  withDir,
} from "../testkit/sqlite_store.ts";

Deno.test("the folder of a database path is the one created for it", () => {
  assert.equal(folderOf("data/chat.db"), "data");
  assert.equal(folderOf("/var/lib/chat/chat.db"), "/var/lib/chat");
  assert.equal(folderOf("a//b.db"), "a");
  assert.equal(folderOf("/chat.db"), "/");
  assert.equal(folderOf("chat.db"), ".");
  assert.equal(folderOf("./chat.db"), ".");
});

Deno.test(
  "a health probe writes at most once a second, however often it is asked",
  async () => {
    await withDir(async (dir) => {
      let clock = 1_000;
      const store = openSqliteStore(
        sqliteOptions(`${dir}/chat.db`, { now: () => clock++ }),
      );
      const reader = new DatabaseSync(`${dir}/chat.db`);
      const checkedAt = () =>
        reader.prepare("SELECT checked_at FROM health").get()?.checked_at;
      try {
        await store.ping();
        const first = checkedAt();
        assert.equal(typeof first, "number", "the first probe wrote");
        for (let i = 0; i < 20; i++) await store.ping();
        assert.equal(
          checkedAt(),
          first,
          "no probe wrote again within a second",
        );
      } finally {
        reader.close();
        await store.close();
      }
    });
  },
);

Deno.test("sqlite store: schema migrations", async (t) => {
  await t.step(
    "records the schema version and reopens without re-running",
    async () => {
      await withDir((dir) => {
        const path = `${dir}/chat.db`;
        openSqliteStore(sqliteOptions(path)).close();
        openSqliteStore(sqliteOptions(path)).close();
        const db = new DatabaseSync(path);
        assert.deepEqual({ ...db.prepare("PRAGMA user_version").get() }, {
          user_version: SCHEMA_VERSION,
        });
        db.close();
      });
    },
  );

  await t.step(
    "a file of the previous version goes on from the last ids it handed out",
    async () => {
      await withDir(async (dir) => {
        const path = `${dir}/chat.db`;
        openSqliteStore(sqliteOptions(path)).close();
        // As the version before the id floor left it: ids 1-5 kept, 6 and
        // 7 handed out and deleted since (and no name keys yet, which came
        // after, nor message owners, edits and reactions, nor moderation).
        const db = new DatabaseSync(path);
        db.exec(
          "DROP INDEX presence_by_key; ALTER TABLE presence DROP COLUMN name_key",
        );
        db.exec(
          `DROP TRIGGER messages_notes_go; DROP TABLE edits; DROP TABLE reactions;
           ALTER TABLE messages DROP COLUMN owner`,
        );
        db.exec(
          "DROP TABLE sanctions; DROP TABLE sanction_addresses; DROP TABLE audit",
        );
        db.exec(`PRAGMA user_version = ${SCHEMA_VERSION - 4}`);
        db.exec("INSERT INTO rooms (name, last_id) VALUES ('lobby', 7)");
        const insert = db.prepare(
          "INSERT INTO messages (room, id, user, message, ts) VALUES ('lobby', ?, 'u', ?, 't')",
        );
        for (let id = 1; id <= 5; id++) {
          insert.run(id, new TextEncoder().encode(`m${id}`));
        }
        db.close();
        const store = openSqliteStore(sqliteOptions(path));
        assert.deepEqual(idBounds(await store.messages.bounds(lobby)), {
          first: 1,
          last: 7,
        });
        assert.equal(await appendOne(store, lobby), 8);
        await store.close();
      });
    },
  );

  await t.step("refuses a file written by a newer server", async () => {
    await withDir((dir) => {
      const path = `${dir}/chat.db`;
      const db = new DatabaseSync(path);
      db.exec(`PRAGMA user_version = ${SCHEMA_VERSION + 1}`);
      db.close();
      assert.throws(
        () => openSqliteStore(sqliteOptions(path)),
        (error: unknown) =>
          error instanceof StoreError &&
          /newer than this server/.test(error.message),
      );
    });
  });
});

Deno.test(
  "joins and leaves are copied into the file by the checkpoint thread while it runs, not by a commit",
  async () => {
    await withDir(async (dir) => {
      const path = `${dir}/presence.db`;
      const store = openSqliteStore(sqliteOptions(path));
      try {
        // A message starts the thread, which copies the log and starts it
        // over a second later.
        await fill(store, lobby, 1);
        const started = logGeneration(path);
        await waitUntil(
          () => logGeneration(path) !== started,
          "the thread copied the message",
        );
        const copied = logGeneration(path);
        // People coming and going: 400 pages of log, under SQLite's own
        // mark (1000), so only the thread can copy them.
        for (let i = 0; i < 100; i++) {
          await store.presence.join({
            room: other,
            user: `p${i}`,
            node: "n1",
            owner: `owner-${i}`,
          });
          await store.presence.leave(other, `p${i}`, "n1");
        }
        await waitUntil(
          () => logGeneration(path) !== copied,
          "the thread copied the joins and leaves",
        );
      } finally {
        await store.close();
      }
    });
  },
);
