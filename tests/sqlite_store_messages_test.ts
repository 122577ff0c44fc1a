import assert from "node:assert/strict";
import { openSqliteStore } from "../adapters/sqlite/store.ts";
import { StoreError } from "../chat/store.ts";
import { idBounds, sqliteOptions } from "../testkit/defaults.ts";
import {
  appendOne,
  fill,
  lobby,
  other,
  room,
} from "../testkit/sqlite_store.ts";

Deno.test("sqlite store: message ids and reads", async (t) => {
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
    await store.close();
  });

  await t.step("keeps text exactly as sent", async () => {
    const store = openSqliteStore(sqliteOptions(":memory:"));
    const text = "안녕 👋 <script>x</script> مرحبا \u0000 end";
    await store.messages.append(lobby, { user: "ü", message: text, ts: "t" });
    assert.equal((await store.messages.latest(lobby, 1))[0]?.message, text);
    await store.close();
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
      await store.close();
    },
  );
});

Deno.test("sqlite store: expiry and retention", async (t) => {
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
      await store.close();
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
      await store.close();
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
      await store.close();
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
      await store.close();
    },
  );
});
