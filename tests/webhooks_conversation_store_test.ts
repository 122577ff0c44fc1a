/**
 * The conversation store's webhook events, store by store: an edit or a
 * toggle writes its event only with webhooks on, and a refused change
 * writes none. (tests/webhooks_conversation_test.ts follows the events
 * from real sockets to a receiver.)
 *
 * @module
 */

import assert from "node:assert/strict";
import { openSqliteStore } from "../adapters/sqlite/store.ts";
import type { Store } from "../chat/store.ts";
import { sqliteOptions } from "../testkit/defaults.ts";
import { ignoreWithoutRedis, startRedis } from "../testkit/redis.ts";
import { room, usingStores } from "../testkit/redis_store.ts";
import { uniqueRoom } from "../testkit/server.ts";

const OWNER = "key:0123456789abcdef";
const RECEIVER = "receiver";

/**
 * Changes a message through `off` (webhooks off) and then through `on`
 * (on, over the same data), reading what `on`'s outbox holds.
 */
async function onlyWithWebhooks(
  t: Deno.TestContext,
  off: Store,
  on: Store,
): Promise<void> {
  const outbox = on.outbox;
  assert.ok(outbox);
  const lobby = room(uniqueRoom("hooks-store"));
  const { message } = await off.messages.append(lobby, {
    user: "ana",
    message: "helo",
    ts: new Date().toISOString(),
    owner: OWNER,
  });
  const id = message.id;
  const edit = (store: Store, owner: string, text: string) =>
    store.conversation.edit(lobby, id, {
      owner,
      user: "ana",
      message: text,
      edited: new Date().toISOString(),
      sentSince: "1970-01-01T00:00:00.000Z",
    });
  const react = (store: Store, at: number) =>
    store.conversation.react(lobby, at, {
      owner: OWNER,
      user: "ana",
      emoji: "👍",
      maxDistinct: 20,
    });

  await t.step(
    "with webhooks off, an edit and a toggle write none",
    async () => {
      assert.equal((await edit(off, OWNER, "hello")).ok, true);
      assert.equal((await react(off, id)).ok, true);
      assert.deepEqual(await outbox.next(RECEIVER, lobby, 10), []);
    },
  );

  await t.step("a refused edit or toggle writes none", async () => {
    const notOwner = await edit(on, "key:someone-else-0000", "mine now");
    assert.deepEqual(notOwner, { ok: false, code: "not_owner" });
    const missing = await react(on, id + 1000);
    assert.deepEqual(missing, { ok: false, code: "no_such_message" });
    assert.deepEqual(await outbox.next(RECEIVER, lobby, 10), []);
  });

  await t.step(
    "with webhooks on, each change writes its event in its order",
    async () => {
      assert.equal((await edit(on, OWNER, "hello!")).ok, true);
      assert.equal((await react(on, id)).ok, true);
      const events = (await outbox.next(RECEIVER, lobby, 10)).map((e) =>
        JSON.parse(e.body)
      );
      assert.deepEqual(events.map((e) => [e.type, e.room]), [
        ["message.edited", lobby],
        ["message.reactions", lobby],
      ]);
      assert.equal(events[0].data.message, "hello!");
      // Added through `off`, so this toggle took it back.
      assert.deepEqual(
        { added: events[1].data.added, reactions: events[1].data.reactions },
        { added: false, reactions: [] },
      );
    },
  );
}

Deno.test("the SQLite conversation store writes webhook events only with webhooks on", async (t) => {
  const dir = await Deno.makeTempDir({ prefix: "hooks-conv-store-" });
  try {
    const path = `${dir}/chat.db`;
    const off = openSqliteStore(sqliteOptions(path));
    const on = openSqliteStore(sqliteOptions(path, { webhooks: true }));
    try {
      await onlyWithWebhooks(t, off, on);
    } finally {
      await off.close();
      await on.close();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test({
  name:
    "the Redis conversation store writes webhook events only with webhooks on",
  ignore: ignoreWithoutRedis,
  async fn(t) {
    await using redis = await startRedis();
    await usingStores(redis.url, 1, async ([off]) => {
      await usingStores(redis.url, 1, async ([on]) => {
        assert.ok(off && on);
        await onlyWithWebhooks(t, off, on);
      }, { webhookReceivers: [RECEIVER] });
    });
  },
});
