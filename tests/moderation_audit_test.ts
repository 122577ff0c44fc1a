import assert from "node:assert/strict";
import { EVERY_ROOM, type OutboxRoom } from "../chat/outbox.ts";
import { silentLogger } from "../chat/logger.ts";
import { openSqliteStore } from "../adapters/sqlite/store.ts";
import { WebhookSender } from "../adapters/webhooks/sender.ts";
import { Signer } from "../adapters/webhooks/signing.ts";
import { sqliteOptions } from "../testkit/defaults.ts";
import { startWebhookReceiver } from "../testkit/webhook_receiver.ts";
import { SECRET } from "../testkit/webhooks.ts";
import { AUDIT_LOG_MAX } from "../chat/moderation_records.ts";
import { isRecord, parseJson } from "../chat/json.ts";
import { lobby, other, room, withDir } from "../testkit/sqlite_store.ts";
import {
  at,
  bobKey,
  carol,
  freshStep,
  imposeAll,
  iso,
  lift,
  onCarol,
  onEachStore,
  RECEIVER,
  sanction,
} from "../testkit/moderation_store.ts";

onEachStore(
  "keeps the audit log and writes webhook events",
  async (t, backend) => {
    const step = freshStep(t, backend);

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
        await imposeAll(store, [mute, ban, global], "alice");
        await store.moderation.lift(mute.id, {
          ...lift("unmute", 1),
          actor: "api",
        }, at(1));
        await store.moderation.lift(ban.id, lift("unban", 2), at(2));
        await store.moderation.lift(global.id, lift("unban", 2), at(2));
        const events = async (where: OutboxRoom) =>
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
        const everywhere = await events(EVERY_ROOM);
        assert.deepEqual(everywhere.map((e) => e.type), [
          "moderation.banned",
          "moderation.unbanned",
        ]);
        assert.equal(everywhere[0]?.room, "*");
        const claimed = await outbox.claim(RECEIVER, "me", Date.now(), 1000, 9);
        assert.deepEqual(
          claimed.map((c) => c.room).toSorted(),
          [
            EVERY_ROOM,
            lobby,
            other,
          ].toSorted(),
        );
        assert.equal(
          isRecord(everywhere[0]?.data) ? everywhere[0]?.data.room : undefined,
          null,
        );
      } finally {
        await store.close();
      }
    });

    await t.step(
      "a delete and a disconnect write their webhook events, only with webhooks on",
      async () => {
        await backend.reset();
        const off = await backend.open(false);
        const on = await backend.open(true);
        try {
          const outbox = on.outbox;
          assert.ok(outbox);
          const events = async (where: OutboxRoom) =>
            (await outbox.next(RECEIVER, where, 10)).map((event) => {
              const parsed = parseJson(event.body);
              assert.ok(parsed.ok && isRecord(parsed.value));
              return parsed.value;
            });
          const deleteOf = (messageId: number, minutes: number) => ({
            at: iso(minutes),
            actor: "api",
            action: "delete" as const,
            room: lobby,
            messageId,
          });
          const disconnect = {
            at: iso(2),
            actor: "alice (u-1)",
            action: "disconnect" as const,
            room: lobby,
            user: "troll",
          };

          await off.moderation.audit(deleteOf(1, 0));
          await off.moderation.audit(disconnect);
          assert.deepEqual(await events(lobby), []);
          assert.equal((await on.moderation.auditLog({ limit: 10 })).length, 2);

          await on.moderation.audit({ ...deleteOf(7, 1), reason: "spam" });
          await on.moderation.audit(disconnect);
          await on.moderation.audit({ ...deleteOf(8, 3), room: other });
          const inLobby = await events(lobby);
          assert.deepEqual(
            inLobby.map((e) => [e.type, e.room, e.ts, e.data]),
            [
              ["moderation.deleted", lobby, iso(1), {
                id: 7,
                actor: "api",
                reason: "spam",
              }],
              ["moderation.disconnected", lobby, iso(2), {
                user: "troll",
                actor: "alice (u-1)",
              }],
            ],
          );
          assert.deepEqual(
            (await events(other)).map((e) => [e.type, e.data]),
            [["moderation.deleted", { id: 8, actor: "api" }]],
          );
          const { messageId: _, ...unnamed } = deleteOf(9, 4);
          await assert.rejects(on.moderation.audit(unnamed), TypeError);
          assert.equal((await on.moderation.auditLog({ limit: 10 })).length, 5);
        } finally {
          await off.close();
          await on.close();
        }
      },
    );
  },
);

Deno.test("moderation events reach a receiver, a ban of every room under *", async () => {
  await using receiver = await startWebhookReceiver({ secret: SECRET });
  await withDir(async (dir) => {
    const store = openSqliteStore(
      sqliteOptions(`${dir}/chat.db`, { webhooks: true }),
    );
    const outbox = store.outbox;
    assert.ok(outbox);
    const sender = new WebhookSender({
      outbox,
      urls: [receiver.url],
      signer: new Signer([SECRET]),
      timeoutMs: 5000,
      retryBaseMs: 100,
      retryMaxMs: 1000,
      maxEvents: 1000,
      maxAgeMs: 60_000,
      log: silentLogger,
    });
    try {
      const mute = onCarol("mute", lobby, 10);
      const ban = sanction(
        "ban",
        { user: "bob", owner: bobKey.owner },
        null,
        null,
      );
      await imposeAll(store, [mute, ban], "api");
      await receiver.waitFor(
        (events) => events.length >= 2,
        "the mute and the ban",
      );
      assert.deepEqual(
        receiver.events.map((e) => [e.type, e.room, e.data.id]).toSorted(),
        [
          ["moderation.banned", "*", ban.id],
          ["moderation.muted", "lobby", mute.id],
        ],
      );
      assert.ok(receiver.attempts.every((a) => a.verified));
    } finally {
      await sender.close();
      await store.close();
    }
  });
});
