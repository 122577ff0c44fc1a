/** Helpers for tests of the Redis store and bus: room names, store options and stores opened against a test Redis. @module */

import {
  openRedisStore,
  type RedisStoreOptions,
} from "../adapters/redis/store.ts";
import { parseRoomName, type RoomName } from "../chat/room_name.ts";
import { type Store } from "../chat/store.ts";
import { DEFAULTS } from "./defaults.ts";

export function room(name: string): RoomName {
  const parsed = parseRoomName(name);
  if (!parsed.ok) throw new Error(parsed.error);
  return parsed.name;
}

export function options(
  url: string,
  overrides: Partial<RedisStoreOptions> = {},
): RedisStoreOptions {
  return {
    url: new URL(url),
    historyMax: DEFAULTS.historyMax,
    dedupeWindow: DEFAULTS.recoveryLimit,
    maxRooms: DEFAULTS.maxRooms,
    presenceTtlMs: DEFAULTS.presenceTtlMs,
    ...overrides,
  };
}

export const message = (text: string, cid?: string) => ({
  user: "alice",
  message: text,
  ts: new Date().toISOString(),
  ...(cid === undefined ? {} : { cid }),
});

export async function usingStores<T>(
  url: string,
  count: number,
  work: (stores: Store[]) => Promise<T>,
  overrides: Partial<RedisStoreOptions> = {},
): Promise<T> {
  const stores: Store[] = [];
  try {
    for (let index = 0; index < count; index++) {
      stores.push(await openRedisStore(options(url, overrides)));
    }
    return await work(stores);
  } finally {
    await Promise.all(stores.map((store) => store.close()));
  }
}
