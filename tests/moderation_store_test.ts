import assert from "node:assert/strict";
import { StoreError } from "../chat/store.ts";
import type { Sanction } from "../chat/moderation_store.ts";
import { SANCTION_KEY_GRACE_MS } from "../adapters/redis/moderation.ts";
import { openSqliteStore } from "../adapters/sqlite/store.ts";
import { instrumentStore } from "../observability/instrumented_store.ts";
import { noMetrics } from "../chat/metrics.ts";
import { sqliteOptions } from "../testkit/defaults.ts";
import { lobby, other, withDir } from "../testkit/sqlite_store.ts";
import {
  at,
  auditOf,
  bobKey,
  carol,
  freshStep,
  imposeAll,
  iso,
  lift,
  onBob,
  onCarol,
  onEachStore,
  sanction,
} from "../testkit/moderation_store.ts";

onEachStore("keeps mutes and bans", async (t, backend) => {
  const step = freshStep(t, backend);

  await step("a mute is found by its owner in its room only", async (s) => {
    const mute = onCarol("mute", lobby, 10);
    await imposeAll(s, [mute]);
    assert.deepEqual(
      await s.moderation.find("mute", lobby, carol, at(1)),
      mute,
    );
    assert.equal(
      await s.moderation.find("mute", other, carol, at(1)),
      undefined,
    );
    assert.equal(
      await s.moderation.find("ban", lobby, carol, at(1)),
      undefined,
    );
    assert.equal(
      await s.moderation.find(
        "mute",
        lobby,
        { ...carol, owner: "signed:x" },
        at(1),
      ),
      undefined,
    );
  });

  await step("an id is stored once", async (s) => {
    const mute = onCarol("mute", lobby, 10);
    await imposeAll(s, [mute]);
    await assert.rejects(
      s.moderation.impose({ ...mute, reason: "again" }, auditOf(mute)),
      StoreError,
    );
    assert.deepEqual(await s.moderation.list({}, at(1)), [mute]);
    assert.equal((await s.moderation.auditLog({ limit: 10 })).length, 1);
  });

  await step("a ban of every room applies in each room", async (s) => {
    const ban = onCarol("ban", null, null);
    await imposeAll(s, [ban]);
    assert.deepEqual(await s.moderation.find("ban", lobby, carol, at(1)), ban);
    assert.deepEqual(
      await s.moderation.find("ban", other, carol, at(1e6)),
      ban,
    );
  });

  await step("addresses match guests only, and added ones too", async (s) => {
    const ban = onBob("ban", lobby, 60);
    await imposeAll(s, [ban]);
    const newKey = { ...bobKey, owner: "key:new" };
    assert.equal(
      (await s.moderation.find("ban", lobby, newKey, at(1)))?.id,
      ban.id,
    );
    const signedThere = { ...carol, address: bobKey.address };
    assert.equal(
      await s.moderation.find("ban", lobby, signedThere, at(1)),
      undefined,
    );
    const moved = { ...newKey, address: "10.0.0.9" };
    assert.equal(
      await s.moderation.find("ban", lobby, moved, at(1)),
      undefined,
    );
    await s.moderation.addAddress(ban.id, moved.address);
    const found = await s.moderation.find("ban", lobby, moved, at(1));
    assert.deepEqual(found?.target.addresses.toSorted(), [
      "10.0.0.2",
      "10.0.0.9",
    ]);
    await s.moderation.addAddress("ban_none", "10.0.0.7");
    assert.equal(
      await s.moderation.find(
        "ban",
        lobby,
        { ...moved, address: "10.0.0.7" },
        at(1),
      ),
      undefined,
    );
  });

  await step("the longest-lasting of several applies", async (s) => {
    const short = onCarol("ban", lobby, 10);
    const long = onCarol("ban", null, 90);
    const mid = sanction(
      "ban",
      { user: "c", addresses: [carol.address] },
      lobby,
      50,
    );
    await imposeAll(s, [short, long, mid]);
    assert.equal(
      (await s.moderation.find("ban", lobby, carol, at(1)))?.id,
      long.id,
    );
    const forGood = onCarol("ban", lobby, null);
    await imposeAll(s, [forGood]);
    assert.equal(
      (await s.moderation.find("ban", lobby, carol, at(1)))?.id,
      forGood.id,
    );
    const guestCarol = { ...carol, guest: true };
    await s.moderation.lift(forGood.id, lift("unban", 2), at(2));
    await s.moderation.lift(long.id, lift("unban", 2), at(2));
    assert.equal(
      (await s.moderation.find("ban", lobby, guestCarol, at(2)))?.id,
      mid.id,
    );
  });

  await step("a sanction ends at its until, by the clock given", async (s) => {
    const mute = onCarol("mute", lobby, 10);
    await imposeAll(s, [mute]);
    assert.ok(await s.moderation.find("mute", lobby, carol, at(9.99)));
    assert.equal(
      await s.moderation.find("mute", lobby, carol, at(10)),
      undefined,
    );
    assert.deepEqual(await s.moderation.list({}, at(9)), [mute]);
    assert.deepEqual(await s.moderation.list({}, at(10)), []);
    assert.equal(
      await s.moderation.lift(mute.id, lift("unmute", 11), at(11)),
      undefined,
    );
  });

  await step("list selects by kind and room, oldest first", async (s) => {
    const everywhere = sanction(
      "ban",
      { user: "a", owner: "key:a" },
      null,
      null,
      3,
    );
    const lobbyMute = sanction(
      "mute",
      { user: "b", owner: "key:b" },
      lobby,
      60,
      1,
    );
    const otherBan = sanction(
      "ban",
      { user: "c", owner: "key:c" },
      other,
      60,
      2,
    );
    await imposeAll(s, [everywhere, lobbyMute, otherBan]);
    const ids = (list: Sanction[]) => list.map((each) => each.id);
    assert.deepEqual(ids(await s.moderation.list({}, at(5))), [
      lobbyMute.id,
      otherBan.id,
      everywhere.id,
    ]);
    assert.deepEqual(ids(await s.moderation.list({ room: lobby }, at(5))), [
      lobbyMute.id,
      everywhere.id,
    ]);
    assert.deepEqual(ids(await s.moderation.list({ kind: "ban" }, at(5))), [
      otherBan.id,
      everywhere.id,
    ]);
    assert.deepEqual(
      ids(await s.moderation.list({ kind: "mute", room: other }, at(5))),
      [],
    );
  });

  await step("lift ends a sanction once and audits it", async (s) => {
    const mute = onCarol("mute", lobby, 60);
    await imposeAll(s, [mute]);
    assert.deepEqual(
      await s.moderation.lift(mute.id, lift("unmute", 5), at(5)),
      mute,
    );
    assert.equal(
      await s.moderation.find("mute", lobby, carol, at(6)),
      undefined,
    );
    assert.equal(
      await s.moderation.lift(mute.id, lift("unmute", 6), at(6)),
      undefined,
    );
    const log = await s.moderation.auditLog({ limit: 10 });
    assert.deepEqual(log.map((e) => e.action), ["unmute", "mute"]);
    assert.deepEqual(log[0], {
      id: log[0]?.id,
      at: iso(5),
      actor: "mod",
      action: "unmute",
      room: lobby,
      user: "carol",
      sanctionId: mute.id,
    });
  });

  await step("purge forgets the ended sanctions only", async (s) => {
    const ended = sanction(
      "ban",
      { user: "a", owner: "key:a", addresses: ["10.0.0.1"] },
      lobby,
      10,
    );
    const running = sanction("ban", { user: "b", owner: "key:b" }, lobby, 30);
    const forGood = sanction(
      "mute",
      { user: "c", owner: "key:c" },
      lobby,
      null,
    );
    await imposeAll(s, [ended, running, forGood]);
    assert.equal(await s.moderation.purge(at(20)), 1);
    assert.equal(await s.moderation.purge(at(20)), 0);
    assert.deepEqual(
      (await s.moderation.list({}, at(0))).map((each) => each.id),
      [running.id, forGood.id],
    );
    assert.equal(await s.moderation.purge(at(1e7)), 1);
    assert.deepEqual(await s.moderation.list({}, at(1e7)), [forGood]);
  });

  await t.step("sanctions and the audit log survive reopening", async () => {
    await backend.reset();
    const ban = onBob("ban", null, null);
    const first = await backend.open();
    const second = await backend.open();
    try {
      await imposeAll(first, [ban]);
      assert.deepEqual(
        await second.moderation.find("ban", other, bobKey, at(1)),
        ban,
        "another connection sees it at once",
      );
    } finally {
      await first.close();
      await second.close();
    }
    const again = await backend.open();
    try {
      assert.deepEqual(
        await again.moderation.find("ban", lobby, bobKey, at(1)),
        ban,
      );
      const [entry] = await again.moderation.auditLog({ limit: 5 });
      assert.equal(entry?.sanctionId, ban.id);
    } finally {
      await again.close();
    }
  });

  const redis = backend.redis;
  if (redis) {
    await step(
      "Redis keys expire a day after their sanction ends",
      async (s) => {
        const ban = onBob("ban", lobby, 10);
        const forGood = onCarol("mute", lobby, null);
        await imposeAll(s, [ban, forGood]);
        const expiry = (key: string) =>
          redis(["PEXPIRETIME", `chat:mod:${key}`]);
        const ends = at(10).getTime() + SANCTION_KEY_GRACE_MS;
        assert.equal(await expiry(`s:${ban.id}`), ends);
        assert.equal(await expiry(`a:${ban.id}`), ends);
        assert.equal(await expiry(`o:${bobKey.owner}`), ends);
        assert.equal(await expiry(`ip:${bobKey.address}`), ends);
        assert.equal(await expiry(`s:${forGood.id}`), -1);
        assert.equal(await expiry(`o:${carol.owner}`), -1);
      },
    );

    await step("Redis holds no sanction key once all are gone", async (s) => {
      const ban = onBob("ban", null, 10);
      const mute = onCarol("mute", lobby, null);
      await imposeAll(s, [ban, mute]);
      await s.moderation.addAddress(ban.id, "10.0.0.8");
      await s.moderation.lift(mute.id, lift("unmute", 1), at(1));
      assert.equal(await s.moderation.purge(at(10)), 1);
      const left = await redis(["KEYS", "chat:mod:*"]);
      assert.ok(Array.isArray(left));
      assert.deepEqual(left.toSorted(), [
        "chat:mod:audit",
        "chat:mod:audit:room:lobby",
        "chat:mod:audit:seq",
      ]);
    });
  }
});

Deno.test("moderation calls are timed like every store call", async () => {
  await withDir(async (dir) => {
    const calls: string[] = [];
    const store = instrumentStore(
      openSqliteStore(sqliteOptions(`${dir}/chat.db`)),
      {
        ...noMetrics,
        storeCall: (operation, _seconds, ok) => {
          if (ok) calls.push(operation);
        },
      },
    );
    try {
      const ban = sanction(
        "ban",
        { user: "bob", owner: bobKey.owner },
        lobby,
        10,
      );
      await imposeAll(store, [ban]);
      assert.equal(
        (await store.moderation.find("ban", lobby, bobKey, at(1)))?.id,
        ban.id,
      );
      assert.deepEqual(calls, ["moderation_impose", "moderation_find"]);
    } finally {
      await store.close();
    }
  });
});
