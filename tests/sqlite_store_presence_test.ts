import assert from "node:assert/strict";
import { claimsIn } from "../testkit/presence_claim.ts";
import { parseRoomName } from "../chat/room_name.ts";
import { openSqliteStore } from "../adapters/sqlite/store.ts";
import { sqliteOptions } from "../testkit/defaults.ts";
import { lobby, other, room } from "../testkit/sqlite_store.ts";

Deno.test("sqlite store: presence", async (t) => {
  let clock = 1_000_000;
  const store = openSqliteStore(sqliteOptions(":memory:", {
    presenceTtlMs: 1000,
    now: () => clock,
  }));
  const presence = store.presence;
  const inLobby = claimsIn(lobby);
  const inOther = claimsIn(other);

  await t.step("first and last connection of a name, over nodes", async () => {
    assert.deepEqual(
      await presence.join(inLobby("alice", "n1", "A")),
      { taken: false, first: true },
    );
    assert.deepEqual(
      await presence.join(inLobby("alice", "n2", "A")),
      { taken: false, first: false },
    );
    assert.deepEqual(
      await presence.join(inLobby("bob", "n1", "B")),
      { taken: false, first: true },
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
      const claim = claimsIn(r);
      assert.deepEqual(
        await presence.join(claim("alice", "k1", "A")),
        { taken: false, first: true },
      );
      for (const like of ["Alice", "ALICE", "\u0391lice", "alice."]) {
        assert.deepEqual(
          await presence.join(claim(like, "k2", "B")),
          { taken: true },
          like,
        );
      }
      // The same browser may hold both spellings in two tabs.
      assert.deepEqual(
        await presence.join(claim("Alice", "k2", "A")),
        { taken: false, first: true },
      );
      // A heartbeat rewrites the rows with their keys: still taken.
      await presence.heartbeat("k1", [
        { room: r, user: "alice", owner: "A", connections: 1 },
      ]);
      assert.deepEqual(
        await presence.join(claim("ALICE", "k3", "B")),
        { taken: true },
      );
      await presence.leave(r, "alice", "k1");
      await presence.leave(r, "Alice", "k2");
      assert.deepEqual(
        await presence.join(claim("ALICE", "k3", "B")),
        { taken: false, first: true },
      );
      await presence.leave(r, "ALICE", "k3");
    },
  );

  await t.step(
    "a name online is refused to another owner on any node, until it leaves",
    async () => {
      assert.deepEqual(
        await presence.join(inLobby("zoe", "n1", "Z")),
        { taken: false, first: true },
      );
      assert.deepEqual(
        await presence.join(inLobby("zoe", "n2", "impostor")),
        { taken: true },
      );
      assert.deepEqual(
        await presence.join(inLobby("zoe", "n2", "Z")),
        { taken: false, first: false },
      );
      assert.deepEqual(await presence.list(lobby, { limit: 100 }), [
        { name: "bob", connections: 1, verified: false },
        { name: "zoe", connections: 2, verified: false },
      ]);
      await presence.leave(lobby, "zoe", "n1");
      await presence.leave(lobby, "zoe", "n2");
      assert.deepEqual(
        await presence.join(inLobby("zoe", "n2", "Y")),
        { taken: false, first: true },
      );
      await presence.leave(lobby, "zoe", "n2");
    },
  );

  await t.step(
    "a node that stops refreshing is swept, and its users leave",
    async () => {
      await presence.join(inOther("carol", "n3", "C"));
      await presence.join(inOther("dave", "n4", "D"));
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
    await presence.join(inOther("erin", "n5", "E"));
    await presence.join(inOther("dave", "n5", "D"));
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
      const inBeat = claimsIn(beat);
      await presence.join(inBeat("fay", "n6", "F"));
      await presence.join(inBeat("fay", "n6", "F"));
      await presence.join(inBeat("gus", "n6", "G"));
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

  await store.close();
});
