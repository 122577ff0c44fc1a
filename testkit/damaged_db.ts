/**
 * A SQLite database with 8 KiB of garbage in the middle of the file, as a
 * failing disk or a bad copy leaves one: written through the store, closed
 * (its log copied into the file), then two pages overwritten.
 *
 * @module
 */

import { parseRoomName, type RoomName } from "../chat/room_name.ts";
import { openSqliteStore } from "../adapters/sqlite/store.ts";
import { sqliteOptions } from "./defaults.ts";

/** Bytes of garbage written in the middle of the file. */
export const GARBAGE_BYTES = 8 * 1024;

/**
 * Writes a database of `rooms` rooms of `perRoom` messages at `path`,
 * then overwrites {@linkcode GARBAGE_BYTES} in the middle of the file with
 * random bytes. Returns the rooms.
 */
export async function writeDamagedDatabase(
  path: string,
  rooms = 20,
  perRoom = 100,
): Promise<RoomName[]> {
  const names: RoomName[] = [];
  const store = openSqliteStore(sqliteOptions(path));
  try {
    for (let index = 0; index < rooms; index++) {
      const parsed = parseRoomName(`room-${index}`);
      if (!parsed.ok) throw new Error(parsed.error);
      names.push(parsed.name);
      for (let n = 0; n < perRoom; n++) {
        await store.messages.append(parsed.name, {
          user: `user-${n % 7}`,
          message: `message ${n} of room ${index} `.repeat(8),
          ts: new Date().toISOString(),
        });
      }
    }
  } finally {
    await store.close();
  }
  const { size } = await Deno.stat(path);
  // At a page boundary, so that whole pages are garbage.
  const middle = Math.floor(size / 2 / 4096) * 4096;
  const file = await Deno.open(path, { write: true });
  try {
    await file.seek(middle, Deno.SeekMode.Start);
    const garbage = crypto.getRandomValues(new Uint8Array(GARBAGE_BYTES));
    let written = 0;
    while (written < garbage.length) {
      written += await file.write(garbage.subarray(written));
    }
  } finally {
    file.close();
  }
  return names;
}
