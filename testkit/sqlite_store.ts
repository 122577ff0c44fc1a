/** Helpers for tests of the SQLite store: room names, filling a room, a temporary database folder and a look at its write-ahead log. @module */

import { parseRoomName, type RoomName } from "../chat/room_name.ts";
import { type Store } from "../chat/store.ts";

export function room(name: string): RoomName {
  const parsed = parseRoomName(name);
  if (!parsed.ok) throw new Error(parsed.error);
  return parsed.name;
}

export const lobby = room("lobby");
export const other = room("잡담");

export async function fill(store: Store, target: RoomName, count: number) {
  for (let i = 1; i <= count; i++) {
    await store.messages.append(target, {
      user: "u",
      message: `m${i}`,
      ts: "t",
    });
  }
}

/** Appends one message to `target`; resolves with the id it was given. */
export async function appendOne(
  store: Store,
  target: RoomName,
  ts = "t",
): Promise<number> {
  const { message } = await store.messages.append(target, {
    user: "u",
    message: "m",
    ts,
  });
  return message.id;
}

/** The log's checkpoint sequence number and salt: new each time it starts over. */
export function logGeneration(path: string): string {
  const file = Deno.openSync(`${path}-wal`);
  try {
    const header = new Uint8Array(20);
    file.readSync(header);
    return header.subarray(12, 20).join(",");
  } finally {
    file.close();
  }
}

/**
 * Runs `work` in a new temporary folder, then removes it. A folder that
 * cannot be removed fails with the names left in it: a file made again
 * after its store was closed means a close that was not awaited.
 */
export async function withDir(
  work: (dir: string) => void | Promise<void>,
): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "chat-store-" });
  try {
    await work(dir);
  } finally {
    await Deno.remove(dir, { recursive: true }).catch(async (error) => {
      const left = await Array.fromAsync(Deno.readDir(dir), (e) => e.name)
        .catch((reason) => [`(unreadable: ${reason})`]);
      throw new Error(
        `Cannot remove ${dir}; left in it: ${left.join(", ") || "nothing"}`,
        { cause: error },
      );
    });
  }
}
