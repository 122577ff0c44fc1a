/**
 * A room's first names online and its count, as the presence table answers
 * them, kept from one read to the next and brought up to date by this
 * connection's own joins and leaves. Every newcomer gets both (its
 * `presence` frame); in a room of 2 000 where people come and go, reading
 * them again for each one (a scan of the room) was most of what a join
 * cost. A join or a leave changes one name: that name's entry is read again
 * (one row), and the count moves by what the write itself found (its first
 * connection, its last).
 *
 * What is kept is what a fresh read would return, or it is not used:
 * anything another connection committed to the file (another isolate, the
 * checkpoint thread starting the log over) drops it all, as do the
 * heartbeat, the sweep and a node's removal, and a room's is dropped once
 * the oldest row it counted could have gone stale.
 *
 * @module
 */

import type { RoomName } from "../../chat/room_name.ts";
import type { PresentUser } from "../../chat/store.ts";

/** The fresh reads the cache is made of and stands in for. */
export interface PresenceReads {
  /** Up to `limit` names after `after`, in name order. */
  list(room: RoomName, limit: number, after: string): PresentUser[];
  /** One name's entry; undefined when it is not online. */
  entry(room: RoomName, user: string): PresentUser | undefined;
  /**
   * How many names are online, and the time (ms) until which none of the
   * rows that count them can go stale.
   */
  count(room: RoomName): { count: number; freshUntil: number };
  /** A number that changes whenever another connection wrote. */
  version(): number;
  /** The clock of `freshUntil`. */
  now(): number;
}

/** What is kept of one room. */
interface Kept {
  readonly version: number;
  freshUntil: number;
  count: number;
  /**
   * The first names, at most `limit`: all of them when fewer. Undefined
   * until a list is asked for.
   */
  list: { readonly users: PresentUser[]; readonly limit: number } | undefined;
}

/**
 * Compares names as SQLite's BINARY collation does (UTF-8 bytes, that is
 * code points), not as JavaScript's `<` does (UTF-16 units), which differ
 * for characters above U+FFFF.
 */
export function compareNames(a: string, b: string): number {
  const length = Math.min(a.length, b.length);
  for (let index = 0; index < length; index++) {
    const left = a.codePointAt(index) ?? 0;
    const right = b.codePointAt(index) ?? 0;
    if (left !== right) return left - right;
    if (left > 0xffff) index += 1; // the same pair in both
  }
  return a.length - b.length;
}

/** The index of the first of `users` (in name order) not before `name`. */
function positionOf(users: readonly PresentUser[], name: string): number {
  let low = 0;
  let high = users.length;
  while (low < high) {
    const middle = (low + high) >> 1;
    const user = users[middle];
    if (user && compareNames(user.name, name) < 0) low = middle + 1;
    else high = middle;
  }
  return low;
}

/** The cache; see the module doc. */
export class PresenceListCache {
  readonly #reads: PresenceReads;
  readonly #rooms = new Map<RoomName, Kept>();

  constructor(reads: PresenceReads) {
    this.#reads = reads;
  }

  /** Up to `limit` names after `after`; kept when `after` is empty. */
  list(room: RoomName, limit: number, after: string): PresentUser[] {
    if (after !== "") return this.#reads.list(room, limit, after);
    const kept = this.#current(room) ?? this.#read(room);
    if (!kept.list || kept.list.limit < limit) {
      kept.list = { users: this.#reads.list(room, limit, ""), limit };
    }
    return kept.list.users.slice(0, limit);
  }

  /** How many names are online in `room`. */
  count(room: RoomName): number {
    return (this.#current(room) ?? this.#read(room)).count;
  }

  /**
   * After this connection wrote a join of `user` (`first`: the name had no
   * connection before) in a row that goes stale at `freshUntil`.
   */
  joined(
    room: RoomName,
    user: string,
    first: boolean,
    freshUntil: number,
  ): void {
    const kept = this.#current(room);
    if (!kept) return;
    if (first) kept.count += 1;
    kept.freshUntil = Math.min(kept.freshUntil, freshUntil);
    this.#update(room, kept, user);
  }

  /**
   * After this connection wrote a leave of `user` (`wentOffline`: the name
   * was online before and is not now).
   */
  left(room: RoomName, user: string, wentOffline: boolean): void {
    const kept = this.#current(room);
    if (!kept) return;
    if (wentOffline) kept.count -= 1;
    this.#update(room, kept, user);
  }

  /** Drops everything: after a write that may touch any room. */
  clear(): void {
    this.#rooms.clear();
  }

  /** The room's kept reads, if they still hold. */
  #current(room: RoomName): Kept | undefined {
    const kept = this.#rooms.get(room);
    if (!kept) return undefined;
    if (kept.version !== this.#reads.version()) {
      this.#rooms.clear();
      return undefined;
    }
    if (this.#reads.now() >= kept.freshUntil) {
      this.#rooms.delete(room);
      return undefined;
    }
    return kept;
  }

  #read(room: RoomName): Kept {
    const version = this.#reads.version();
    const { count, freshUntil } = this.#reads.count(room);
    const kept: Kept = { version, freshUntil, count, list: undefined };
    this.#rooms.set(room, kept);
    return kept;
  }

  /** Puts `user`'s entry, as it is now, into the kept list. */
  #update(room: RoomName, kept: Kept, user: string): void {
    if (!kept.list) return;
    const { users, limit } = kept.list;
    const entry = this.#reads.entry(room, user);
    const at = positionOf(users, user);
    const listed = users[at]?.name === user;
    if (entry && listed) {
      users[at] = entry;
    } else if (entry) {
      // A full list holds the first `limit` names: one past its last is not
      // in it, one before pushes its last out.
      if (users.length < limit || at < users.length) {
        users.splice(at, 0, entry);
        if (users.length > limit) users.pop();
      }
    } else if (listed) {
      const wasFull = users.length === limit;
      users.splice(at, 1);
      // The name after the last one listed now has a place.
      const last = users.at(-1)?.name;
      if (wasFull) users.push(...this.#reads.list(room, 1, last ?? ""));
    }
  }
}
