import assert from "node:assert/strict";
import { openSqliteStore } from "../adapters/sqlite/store.ts";
import { openRedisStore } from "../adapters/redis/store.ts";
import { RedisConnection } from "../adapters/redis/connection.ts";
import type { Store } from "../chat/store.ts";
import type {
  NewAuditEntry,
  Sanction,
  SanctionKind,
  SanctionSubject,
} from "../chat/moderation_store.ts";
import type { RoomName } from "../chat/room_name.ts";
import { AUDIT_LOG_MAX } from "../chat/moderation_records.ts";
import { silentLogger } from "../chat/logger.ts";
import { isRecord, parseJson } from "../chat/json.ts";
import { sqliteOptions } from "../testkit/defaults.ts";
import { lobby, other, room, withDir } from "../testkit/sqlite_store.ts";
import { options } from "../testkit/redis_store.ts";
import { ignoreWithoutRedis, startRedis } from "../testkit/redis.ts";

/** How a case reaches a store kind. */
interface Backend {
  /** A store on the data of the case (again: the same data). */
  open(webhooks?: boolean): Promise<Store>;
  /** Forgets every datum, for the next case. */
  reset(): Promise<void>;
}

/** The receiver the Redis store writes webhook events for. */
const RECEIVER = "http://127.0.0.1:9/hooks";

const T0 = Date.parse("2030-01-01T00:00:00.000Z");
/** The injected clock: `minutes` after T0. */
const at = (minutes: number) => new Date(T0 + minutes * 60_000);
const iso = (minutes: number) => at(minutes).toISOString();

let made = 0;
function sanction(
  kind: SanctionKind,
  target: { user: string; owner?: string; addresses?: string[] },
  where: RoomName | null,
  until: number | null,
  atMinutes = 0,
): Sanction {
  made += 1;
  return {
    id: `${kind}_${made}`,
    kind,
    room: where,
    target: { addresses: [], ...target },
    reason: `reason ${made}`,
    by: "mod",
    at: iso(atMinutes),
    until: until === null ? null : iso(until),
  };
}

function auditOf(s: Sanction, actor = "mod"): NewAuditEntry {
  return {
    at: s.at,
    actor,
    action: s.kind,
    room: s.room,
    user: s.target.user,
    sanctionId: s.id,
    reason: s.reason,
    until: s.until,
  };
}

const lift = (action: "unmute" | "unban", minutes: number) => ({
  at: iso(minutes),
  actor: "mod",
  action,
});

const bobKey: SanctionSubject = {
  owner: "key:bob",
  address: "10.0.0.2",
  guest: true,
};
const carol: SanctionSubject = {
  owner: "signed:carol",
  address: "10.0.0.3",
  guest: false,
};

async function cases(t: Deno.TestContext, backend: Backend): Promise<void> {
  const step = (name: string, work: (store: Store) => Promise<void>) =>
    t.step(name, async () => {
      await backend.reset();
      const store = await backend.open();
      try {
        await work(store);
      } finally {
        await store.close();
      }
    });

  await step("a mute is found by its owner in its room only", async (s) => {
    const mute = sanction(
      "mute",
      { user: "carol", owner: carol.owner },
      lobby,
      10,
    );
    await s.moderation.impose(mute, auditOf(mute));
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

  await step("a ban of every room applies in each room", async (s) => {
    const ban = sanction(
      "ban",
      { user: "carol", owner: carol.owner },
      null,
      null,
    );
    await s.moderation.impose(ban, auditOf(ban));
    assert.deepEqual(await s.moderation.find("ban", lobby, carol, at(1)), ban);
    assert.deepEqual(
      await s.moderation.find("ban", other, carol, at(1e6)),
      ban,
    );
  });

  await step("addresses match guests only, and added ones too", async (s) => {
    const ban = sanction(
      "ban",
      { user: "bob", owner: bobKey.owner, addresses: [bobKey.address] },
      lobby,
      60,
    );
    await s.moderation.impose(ban, auditOf(ban));
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
    const short = sanction(
      "ban",
      { user: "carol", owner: carol.owner },
      lobby,
      10,
    );
    const long = sanction(
      "ban",
      { user: "carol", owner: carol.owner },
      null,
      90,
    );
    const mid = sanction(
      "ban",
      { user: "c", addresses: [carol.address] },
      lobby,
      50,
    );
    for (const each of [short, long, mid]) {
      await s.moderation.impose(each, auditOf(each));
    }
    assert.equal(
      (await s.moderation.find("ban", lobby, carol, at(1)))?.id,
      long.id,
    );
    const forGood = sanction(
      "ban",
      { user: "carol", owner: carol.owner },
      lobby,
      null,
    );
    await s.moderation.impose(forGood, auditOf(forGood));
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
    const mute = sanction(
      "mute",
      { user: "carol", owner: carol.owner },
      lobby,
      10,
    );
    await s.moderation.impose(mute, auditOf(mute));
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
    for (const each of [everywhere, lobbyMute, otherBan]) {
      await s.moderation.impose(each, auditOf(each));
    }
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
    const mute = sanction(
      "mute",
      { user: "carol", owner: carol.owner },
      lobby,
      60,
    );
    await s.moderation.impose(mute, auditOf(mute));
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

  await step("the audit log pages newest first, by room", async (s) => {
    const written = [];
    for (let index = 0; index < 6; index++) {
      written.push(
        await s.moderation.audit({
          at: iso(index),
          actor: "api",
          action: index % 2 === 0 ? "delete" : "disconnect",
          room: index % 3 === 2 ? null : index % 2 === 0 ? lobby : other,
          ...(index % 2 === 0 ? { messageId: index } : { user: `u${index}` }),
        }),
      );
    }
    const ids = written.map((entry) => entry.id);
    assert.deepEqual(ids, ids.toSorted((a, b) => a - b));
    assert.equal(new Set(ids).size, 6);
    const all = await s.moderation.auditLog({ limit: 100 });
    assert.deepEqual(all, written.toReversed());
    const page = await s.moderation.auditLog({ limit: 2 });
    assert.deepEqual(page, written.slice(4).toReversed());
    const next = await s.moderation.auditLog({
      limit: 2,
      before: page[1]?.id ?? 0,
    });
    assert.deepEqual(next, written.slice(2, 4).toReversed());
    const inLobby = await s.moderation.auditLog({ room: lobby, limit: 100 });
    assert.deepEqual(inLobby.map((e) => e.messageId), [4, 0]);
    const older = await s.moderation.auditLog({
      room: lobby,
      limit: 100,
      before: inLobby[0]?.id ?? 0,
    });
    assert.deepEqual(older.map((e) => e.messageId), [0]);
    assert.deepEqual(
      await s.moderation.auditLog({ room: room("nobody"), limit: 10 }),
      [],
    );
  });

  await step("the audit log keeps its newest entries", async (s) => {
    for (let index = 0; index < AUDIT_LOG_MAX + 3; index++) {
      await s.moderation.audit({
        at: iso(0),
        actor: "api",
        action: "delete",
        room: lobby,
        messageId: index,
      });
    }
    for (const query of [{}, { room: lobby }]) {
      const kept = await s.moderation.auditLog({
        ...query,
        limit: AUDIT_LOG_MAX + 10,
      });
      assert.equal(kept.length, AUDIT_LOG_MAX);
      assert.equal(kept.at(-1)?.messageId, 3);
      assert.equal(kept[0]?.messageId, AUDIT_LOG_MAX + 2);
    }
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
    for (const each of [ended, running, forGood]) {
      await s.moderation.impose(each, auditOf(each));
    }
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
    const ban = sanction(
      "ban",
      { user: "bob", owner: bobKey.owner, addresses: [bobKey.address] },
      null,
      null,
    );
    const first = await backend.open();
    try {
      await first.moderation.impose(ban, auditOf(ban));
    } finally {
      await first.close();
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

  await t.step("imposing and lifting write webhook events", async () => {
    await backend.reset();
    const store = await backend.open(true);
    try {
      const outbox = store.outbox;
      assert.ok(outbox);
      const mute = sanction(
        "mute",
        { user: "carol", owner: carol.owner, addresses: ["10.0.0.3"] },
        lobby,
        10,
      );
      const ban = sanction(
        "ban",
        { user: "bob", owner: bobKey.owner },
        other,
        null,
      );
      const global = sanction(
        "ban",
        { user: "eve", owner: "key:eve" },
        null,
        null,
      );
      for (const each of [mute, ban, global]) {
        await store.moderation.impose(each, auditOf(each, "alice"));
      }
      await store.moderation.lift(mute.id, {
        ...lift("unmute", 1),
        actor: "api",
      }, at(1));
      await store.moderation.lift(ban.id, lift("unban", 2), at(2));
      await store.moderation.lift(global.id, lift("unban", 2), at(2));
      const events = async (where: RoomName) =>
        (await outbox.next(RECEIVER, where, 10)).map((event) => {
          const parsed = parseJson(event.body);
          assert.ok(parsed.ok && isRecord(parsed.value));
          return parsed.value;
        });
      const inLobby = await events(lobby);
      assert.deepEqual(inLobby.map((e) => e.type), [
        "moderation.muted",
        "moderation.unmuted",
      ]);
      const { target: _, ...rest } = mute;
      assert.deepEqual(inLobby[0]?.data, {
        ...rest,
        target: { user: "carol", sub: "carol" },
        actor: "alice",
      });
      assert.equal(inLobby[0]?.room, lobby);
      assert.equal(inLobby[1]?.ts, iso(1));
      assert.deepEqual(
        isRecord(inLobby[1]?.data) ? inLobby[1]?.data.actor : undefined,
        "api",
      );
      const inOther = await events(other);
      assert.deepEqual(inOther.map((e) => e.type), [
        "moderation.banned",
        "moderation.unbanned",
      ]);
      assert.deepEqual(
        isRecord(inOther[0]?.data) ? inOther[0]?.data.target : undefined,
        { user: "bob" },
      );
      assert.equal(
        (await store.moderation.auditLog({ limit: 10 })).length,
        6,
        "a sanction of every room is audited though it has no event",
      );
    } finally {
      await store.close();
    }
  });
}

Deno.test("the SQLite moderation store keeps mutes, bans and the audit log", async (t) => {
  await withDir(async (dir) => {
    let generation = 0;
    let path = `${dir}/chat-0.db`;
    await cases(t, {
      open: (webhooks = false) =>
        Promise.resolve(openSqliteStore(sqliteOptions(path, { webhooks }))),
      reset() {
        generation += 1;
        path = `${dir}/chat-${generation}.db`;
        return Promise.resolve();
      },
    });
  });
});

Deno.test({
  name: "the Redis moderation store keeps mutes, bans and the audit log",
  ignore: ignoreWithoutRedis,
  async fn(t) {
    await using redis = await startRedis();
    await cases(t, {
      open: (webhooks = false) =>
        openRedisStore(
          options(redis.url, webhooks ? { webhookReceivers: [RECEIVER] } : {}),
        ),
      async reset() {
        const connection = await RedisConnection.open(
          new URL(redis.url),
          "test",
          silentLogger,
        );
        try {
          await connection.run(["FLUSHDB"]);
        } finally {
          await connection.close();
        }
      },
    });
  },
});
