/// <reference no-default-lib="true" />
/// <reference lib="deno.worker" />

/**
 * A Worker that opens the SQLite store on a given file and appends messages,
 * standing in for one isolate of `deno serve --parallel` in store tests.
 *
 * @module
 */

import { parseRoomName } from "../chat/room_name.ts";
import { openSqliteStore } from "../adapters/sqlite/store.ts";
import { sqliteOptions } from "./defaults.ts";

interface Job {
  path: string;
  room: string;
  count: number;
}

function isJob(value: unknown): value is Job {
  return typeof value === "object" && value !== null &&
    "path" in value && typeof value.path === "string" &&
    "room" in value && typeof value.room === "string" &&
    "count" in value && typeof value.count === "number";
}

self.onmessage = async (event: MessageEvent<unknown>) => {
  try {
    if (!isJob(event.data)) throw new Error("Bad job");
    const room = parseRoomName(event.data.room);
    if (!room.ok) throw new Error(room.error);
    const store = openSqliteStore(sqliteOptions(event.data.path));
    const ids: number[] = [];
    for (let i = 0; i < event.data.count; i++) {
      const stored = await store.messages.append(room.name, {
        user: "worker",
        message: `m${i}`,
        ts: new Date().toISOString(),
      });
      ids.push(stored.message.id);
    }
    await store.close();
    self.postMessage({ ids });
  } catch (error) {
    self.postMessage({ error: String(error) });
  }
};
