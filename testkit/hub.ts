/**
 * Helpers for tests of the hub: members that record what they are sent,
 * and hubs over one SQLite file, like the isolates of one
 * `deno serve --parallel`, each with its own BroadcastChannel bus.
 *
 * @module
 */

import { createBroadcastChannelBus } from "../adapters/broadcast_channel/bus.ts";
import { openSqliteStore } from "../adapters/sqlite/store.ts";
import { ChatHub, type ChatHubOptions, type Member } from "../chat/hub.ts";
import type { RoomName } from "../chat/room_name.ts";
import type { Store } from "../chat/store.ts";
import { HUB_DEFAULTS, sqliteOptions } from "./defaults.ts";
import { room } from "./sqlite_store.ts";

/** A room name no other test uses. */
function freshRoom(): RoomName {
  return room(`hub_${crypto.randomUUID().slice(0, 8)}`);
}

/** A member that keeps every text it is sent. */
export interface Recorder extends Member {
  readonly texts: string[];
  frames(type?: string): Record<string, unknown>[];
}

/** A member named `id` that records what it is sent. */
export function recorder(id: string): Recorder {
  const texts: string[] = [];
  return {
    id,
    format: "typed",
    texts,
    deliver: (text) => texts.push(text),
    close: (code, reason) =>
      texts.push(JSON.stringify({ close: code, reason })),
    frames: (type) =>
      texts.map((text) => JSON.parse(text)).filter((f) =>
        !type || f.type === type
      ),
  };
}

/** The hubs' clock: one instant, so that timestamps are known. */
const fixedClock = () => new Date("2026-11-24T12:00:00.000Z");

/** Hubs over one SQLite file, and a room for a test to use. */
export interface World extends AsyncDisposable {
  readonly hubs: ChatHub[];
  readonly stores: Store[];
  /** The first hub. */
  readonly hub: ChatHub;
  /** A room no other test uses. */
  readonly lobby: RoomName;
}

/** Hubs over one SQLite file, like the isolates of one `deno serve --parallel`. */
export async function isolates(
  count: number,
  options: Partial<ChatHubOptions> = {},
): Promise<World> {
  const dir = await Deno.makeTempDir({ prefix: "chat-hub-" });
  const stores = Array.from(
    { length: count },
    () => openSqliteStore(sqliteOptions(`${dir}/chat.db`)),
  );
  const buses = stores.map(() => createBroadcastChannelBus());
  const hubs = stores.map((store, index) =>
    new ChatHub({
      bus: buses[index] ?? createBroadcastChannelBus(),
      store,
      now: fixedClock,
      ...HUB_DEFAULTS,
      repairIntervalMs: 3_600_000,
      ...options,
    })
  );
  const [hub] = hubs;
  if (!hub) throw new Error(`isolates(${count}): at least one hub is needed`);
  return {
    hubs,
    stores,
    hub,
    lobby: freshRoom(),
    async [Symbol.asyncDispose]() {
      for (const hub of hubs) await hub.close();
      // The hub leaves its bus and store to whoever built it.
      for (const bus of buses) await bus.close();
      for (const store of stores) await store.close();
      await Deno.remove(dir, { recursive: true });
    },
  };
}
