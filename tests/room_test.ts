/**
 * The room: who gets which presence frame when a window of joins and leaves
 * ends (the rest of the room is tested through the hub).
 *
 * @module
 */

import assert from "node:assert/strict";
import { noMetrics } from "../chat/metrics.ts";
import type { Schedule } from "../chat/presence_batch.ts";
import type { Connection } from "../chat/connection.ts";
import { Room } from "../chat/room.ts";
import { parseRoomName } from "../chat/room_name.ts";
import { openSqliteStore } from "../adapters/sqlite/store.ts";
import { silentLogger } from "../chat/logger.ts";
import { HUB_DEFAULTS, sqliteOptions } from "../testkit/defaults.ts";

/** A live connection that records the frames it is sent. */
function listener(user: string): Connection & { readonly frames: unknown[] } {
  const frames: unknown[] = [];
  return {
    member: {
      id: user,
      format: "typed",
      deliver: (text) => frames.push(JSON.parse(text)),
      close: () => {},
    },
    user,
    owner: user,
    lastId: 0,
    live: true,
    present: true,
    left: false,
    listedAt: undefined,
    held: undefined,
    frames,
  };
}

Deno.test(
  "a connection listed within a presence window hears what changed after its list was read",
  async () => {
    const store = openSqliteStore(sqliteOptions(":memory:"));
    const parsed = parseRoomName("lobby");
    assert.ok(parsed.ok);
    let endWindow: (() => void) | undefined;
    const schedule: Schedule = (task) => {
      endWindow = task;
      return () => (endWindow = undefined);
    };
    const room = new Room({
      name: parsed.name,
      messages: store.messages,
      log: silentLogger,
      metrics: noMetrics,
      limits: HUB_DEFAULTS,
      schedule,
    });
    try {
      const watcher = listener("watcher"); // listed before the window
      room.connections.add(watcher);
      room.announce({ type: "leave", user: "dana" }); // a reconnect begins
      const ana = listener("ana"); // her list is read now: no dana
      room.connections.add(ana);
      room.markListed(ana);
      room.listed(ana); // read at once, as from SQLite
      room.announce({ type: "join", user: "dana", verified: false });
      endWindow?.();
      assert.deepEqual(watcher.frames, [], "dana never left, for the watcher");
      assert.deepEqual(ana.frames, [{
        type: "join",
        user: "dana",
        verified: false,
      }]);

      // The next window is the same for both.
      room.announce({ type: "leave", user: "dana" });
      endWindow?.();
      assert.deepEqual(watcher.frames, [{ type: "leave", user: "dana" }]);
      assert.deepEqual(ana.frames.at(-1), { type: "leave", user: "dana" });

      // A list read slowly (as from Redis) may see any moment of the
      // windows that end meanwhile: what they changed waits for the list,
      // then comes whole.
      const bo = listener("bo");
      room.connections.add(bo);
      room.announce({ type: "join", user: "eve", verified: false });
      room.markListed(bo);
      room.announce({ type: "leave", user: "eve" });
      room.announce({ type: "join", user: "eve", verified: false });
      endWindow?.();
      room.announce({ type: "leave", user: "fay" });
      room.announce({ type: "join", user: "fay", verified: false });
      endWindow?.();
      assert.deepEqual(bo.frames, [], "nothing before its list");
      assert.deepEqual(watcher.frames.slice(1), [{
        type: "join",
        user: "eve",
        verified: false,
      }], "the others: eve came; fay never left");
      bo.member.deliver(JSON.stringify({ type: "presence" })); // the hub's list
      room.listed(bo);
      assert.deepEqual(bo.frames, [{ type: "presence" }, {
        type: "join",
        user: "eve",
        verified: false,
      }, { type: "join", user: "fay", verified: false }]);
    } finally {
      room.close();
      await room.run(() => Promise.resolve());
      await store.close();
    }
  },
);
