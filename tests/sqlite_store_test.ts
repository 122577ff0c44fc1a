import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { parseRoomName, type RoomName } from "../chat/room_name.ts";
import { SCHEMA_VERSION } from "../adapters/sqlite/schema.ts";
import { folderOf } from "../adapters/sqlite/open.ts";
import { openSqliteStore } from "../adapters/sqlite/store.ts";
import { type Store, StoreError } from "../chat/store.ts";
import { idBounds, sqliteOptions } from "../testkit/defaults.ts";
import { waitUntil } from "../testkit/server.ts";

function room(name: string): RoomName {
  const parsed = parseRoomName(name);
  if (!parsed.ok) throw new Error(parsed.error);
  return parsed.name;
}

const lobby = room("lobby");
const other = room("잡담");

async function fill(store: Store, target: RoomName, count: number) {
  for (let i = 1; i <= count; i++) {
    await store.messages.append(target, {
      user: "u",
      message: `m${i}`,
      ts: "t",
    });
  }
}

/** Appends one message to `target`; resolves with the id it was given. */
async function appendOne(
  store: Store,
  target: RoomName,
  ts = "t",
): Promise<number> {
  const { message } = await store.messages.append(target, {
    user: "u",
    message: "m",
    ts,
  });
  return message.id;
}

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

/** The log's checkpoint sequence number and salt: new each time it starts over. */
function logGeneration(path: string): string {
  const file = Deno.openSync(`${path}-wal`);
  try {
    const header = new Uint8Array(20);
    file.readSync(header);
    return header.subarray(12, 20).join(",");
  } finally {
    file.close();
  }
}

async function withDir(
  work: (dir: string) => void | Promise<void>,
): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "chat-store-" });
  try {
    await work(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
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
        // after).
        const db = new DatabaseSync(path);
        db.exec(
          "DROP INDEX presence_by_key; ALTER TABLE presence DROP COLUMN name_key",
        );
        db.exec(`PRAGMA user_version = ${SCHEMA_VERSION - 2}`);
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
        store.close();
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

Deno.test("sqlite store: presence", async (t) => {
  let clock = 1_000_000;
  const store = openSqliteStore(sqliteOptions(":memory:", {
    presenceTtlMs: 1000,
    now: () => clock,
  }));
  const presence = store.presence;

  await t.step("first and last connection of a name, over nodes", async () => {
    assert.deepEqual(
      await presence.join({
        room: lobby,
        user: "alice",
        node: "n1",
        owner: "A",
      }),
      {
        taken: false,
        first: true,
      },
    );
    assert.deepEqual(
      await presence.join({
        room: lobby,
        user: "alice",
        node: "n2",
        owner: "A",
      }),
      {
        taken: false,
        first: false,
      },
    );
    assert.deepEqual(
      await presence.join({ room: lobby, user: "bob", node: "n1", owner: "B" }),
      {
        taken: false,
        first: true,
      },
    );
    assert.deepEqual(await presence.list(lobby, { limit: 100 }), [
      { name: "alice", connections: 2, verified: false },
      { name: "bob", connections: 1, verified: false },
    ]);
    assert.deepEqual(await presence.rooms(), [{ name: lobby, online: 2 }]);
    assert.deepEqual(await presence.leave(lobby, "alice", "n1"), {
      last: false,
    });
    assert.deepEqual(await presence.leave(lobby, "alice", "n2"), {
      last: true,
    });
    assert.deepEqual(await presence.list(lobby, { limit: 100 }), [{
      name: "bob",
      connections: 1,
      verified: false,
    }]);
  });

  await t.step(
    "a name that looks like one online is refused to another owner, not to its own",
    async () => {
      const room = parseRoomName("lookalikes");
      assert.ok(room.ok);
      const r = room.name;
      assert.deepEqual(
        await presence.join({ room: r, user: "alice", node: "k1", owner: "A" }),
        {
          taken: false,
          first: true,
        },
      );
      for (const like of ["Alice", "ALICE", "\u0391lice", "alice."]) {
        assert.deepEqual(
          await presence.join({ room: r, user: like, node: "k2", owner: "B" }),
          {
            taken: true,
          },
          like,
        );
      }
      // The same browser may hold both spellings in two tabs.
      assert.deepEqual(
        await presence.join({ room: r, user: "Alice", node: "k2", owner: "A" }),
        {
          taken: false,
          first: true,
        },
      );
      // A heartbeat rewrites the rows with their keys: still taken.
      await presence.heartbeat("k1", [
        { room: r, user: "alice", owner: "A", connections: 1 },
      ]);
      assert.deepEqual(
        await presence.join({ room: r, user: "ALICE", node: "k3", owner: "B" }),
        {
          taken: true,
        },
      );
      await presence.leave(r, "alice", "k1");
      await presence.leave(r, "Alice", "k2");
      assert.deepEqual(
        await presence.join({ room: r, user: "ALICE", node: "k3", owner: "B" }),
        {
          taken: false,
          first: true,
        },
      );
      await presence.leave(r, "ALICE", "k3");
    },
  );

  await t.step(
    "a name online is refused to another owner on any node, until it leaves",
    async () => {
      assert.deepEqual(
        await presence.join({
          room: lobby,
          user: "zoe",
          node: "n1",
          owner: "Z",
        }),
        {
          taken: false,
          first: true,
        },
      );
      assert.deepEqual(
        await presence.join({
          room: lobby,
          user: "zoe",
          node: "n2",
          owner: "impostor",
        }),
        {
          taken: true,
        },
      );
      assert.deepEqual(
        await presence.join({
          room: lobby,
          user: "zoe",
          node: "n2",
          owner: "Z",
        }),
        {
          taken: false,
          first: false,
        },
      );
      assert.deepEqual(await presence.list(lobby, { limit: 100 }), [
        { name: "bob", connections: 1, verified: false },
        { name: "zoe", connections: 2, verified: false },
      ]);
      await presence.leave(lobby, "zoe", "n1");
      await presence.leave(lobby, "zoe", "n2");
      assert.deepEqual(
        await presence.join({
          room: lobby,
          user: "zoe",
          node: "n2",
          owner: "Y",
        }),
        {
          taken: false,
          first: true,
        },
      );
      await presence.leave(lobby, "zoe", "n2");
    },
  );

  await t.step(
    "a node that stops refreshing is swept, and its users leave",
    async () => {
      await presence.join({
        room: other,
        user: "carol",
        node: "n3",
        owner: "C",
      });
      await presence.join({
        room: other,
        user: "dave",
        node: "n4",
        owner: "D",
      });
      clock += 600;
      await presence.heartbeat("n4", [{
        room: other,
        user: "dave",
        owner: "D",
        connections: 1,
      }]);
      await presence.heartbeat("n1", [{
        room: lobby,
        user: "bob",
        owner: "B",
        connections: 1,
      }]);
      clock += 600;
      assert.deepEqual(await presence.list(other, { limit: 100 }), [{
        name: "dave",
        connections: 1,
        verified: false,
      }]);
      assert.deepEqual(await presence.sweep(), [{
        room: other,
        user: "carol",
      }]);
      assert.deepEqual(await presence.sweep(), []);
    },
  );

  await t.step(
    "a heartbeat restores a node's entries after a sweep",
    async () => {
      clock += 5000;
      await presence.sweep();
      assert.deepEqual(await presence.list(other, { limit: 100 }), []);
      await presence.heartbeat("n4", [{
        room: other,
        user: "dave",
        owner: "D",
        connections: 2,
      }]);
      assert.deepEqual(await presence.list(other, { limit: 100 }), [{
        name: "dave",
        connections: 2,
        verified: false,
      }]);
    },
  );

  await t.step("removing a node reports who left with it", async () => {
    await presence.join({ room: other, user: "erin", node: "n5", owner: "E" });
    await presence.join({ room: other, user: "dave", node: "n5", owner: "D" });
    const gone = await presence.removeNode("n5");
    assert.deepEqual(gone, [{ room: other, user: "erin" }]);
    assert.deepEqual(await presence.list(other, { limit: 100 }), [{
      name: "dave",
      connections: 2,
      verified: false,
    }]);
  });

  await t.step(
    "a heartbeat puts back the node's own counts where its rows differ",
    async () => {
      const beat = room("heartbeat");
      await presence.join({ room: beat, user: "fay", node: "n6", owner: "F" });
      await presence.join({ room: beat, user: "fay", node: "n6", owner: "F" });
      await presence.join({ room: beat, user: "gus", node: "n6", owner: "G" });
      // The node counts one connection of fay (a leave whose write failed).
      await presence.heartbeat("n6", [
        { room: beat, user: "fay", owner: "F", connections: 1 },
        { room: beat, user: "gus", owner: "G", connections: 1 },
      ]);
      assert.deepEqual(
        (await presence.list(beat, { limit: 100 })).map((u) => [
          u.name,
          u.connections,
        ]),
        [["fay", 1], ["gus", 1]],
      );
      clock += 600;
      // Counts that match are refreshed: still online past the first TTL.
      await presence.heartbeat("n6", [
        { room: beat, user: "fay", owner: "F", connections: 1 },
        { room: beat, user: "gus", owner: "G", connections: 1 },
      ]);
      clock += 600;
      assert.equal(await presence.count(beat), 2);
    },
  );

  store.close();
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
