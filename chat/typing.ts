/**
 * Who is typing in each room of this isolate: typists heard from local
 * sockets or over the bus, each for {@linkcode TYPING_TTL_MS} or until
 * their message arrives; the list goes to the room's typed members,
 * coalesced to at most one frame per {@linkcode TYPING_FRAME_MS} whoever
 * types, and never naming the receiver. Nothing is stored. A room's entry
 * and its one timer go once nobody types there.
 *
 * @module
 */

import { TYPING_HEARD_EVERY_MS } from "../client/protocol.js";
import type { Connection } from "./connection.ts";
import type { TypingFrame } from "./conversation_frames.ts";
import type { RoomName } from "./room_name.ts";

/** How long a typist stays listed after their last `typing` frame. */
export const TYPING_TTL_MS = 5_000;
/** The shortest time between two typing frames of a room. */
export const TYPING_FRAME_MS = 250;
/** How often one socket's `typing` frames are heard; more are dropped. */
export const TYPING_EVERY_MS = TYPING_HEARD_EVERY_MS;

/** The typists of one room and its one timer. */
interface TypingRoom {
  /** Name to when it expires (ms since the epoch). */
  readonly typists: Map<string, number>;
  /** What each connection was last told, as JSON (none: `[]`). */
  readonly told: WeakMap<Connection, string>;
  timer: ReturnType<typeof setTimeout> | undefined;
  dueAt: number;
  lastFrameAt: number;
  changed: boolean;
}

/** What {@linkcode TypingRooms} needs from the hub. */
export interface TypingOptions {
  /** The room's local connections, when it is open here. */
  readonly connections: (room: RoomName) => Iterable<Connection> | undefined;
  /** @default Date.now */
  readonly now?: () => number;
}

/** The typing lists of the rooms of one isolate. */
export class TypingRooms {
  readonly #rooms = new Map<RoomName, TypingRoom>();
  readonly #options: TypingOptions;
  readonly #now: () => number;

  constructor(options: TypingOptions) {
    this.#options = options;
    this.#now = options.now ?? Date.now;
  }

  /** `user` is typing in `room` (heard here or over the bus). */
  typing(room: RoomName, user: string): void {
    const now = this.#now();
    let entry = this.#rooms.get(room);
    if (!entry) {
      entry = {
        typists: new Map(),
        told: new WeakMap(),
        timer: undefined,
        dueAt: 0,
        lastFrameAt: 0,
        changed: false,
      };
      this.#rooms.set(room, entry);
    }
    if (!entry.typists.has(user)) entry.changed = true;
    entry.typists.set(user, now + TYPING_TTL_MS);
    this.#schedule(room, entry);
  }

  /**
   * `connection` has just caught up with `room`: it hears at once who
   * types there, rather than at the next change of the list, which may not
   * come while they type on.
   */
  admitted(room: RoomName, connection: Connection): void {
    const entry = this.#rooms.get(room);
    if (entry) this.#tell(entry, connection, [...entry.typists.keys()]);
  }

  /** `user`'s message arrived in `room`: no longer typing. */
  spoke(room: RoomName, user: string): void {
    const entry = this.#rooms.get(room);
    if (!entry?.typists.delete(user)) return;
    entry.changed = true;
    this.#schedule(room, entry);
  }

  /** The room closed here: its typists and timer go. */
  drop(room: RoomName): void {
    const entry = this.#rooms.get(room);
    if (entry?.timer !== undefined) clearTimeout(entry.timer);
    this.#rooms.delete(room);
  }

  /** Rooms with someone typing (for tests and stats). */
  get size(): number {
    return this.#rooms.size;
  }

  /** Stops every timer and forgets every list. */
  close(): void {
    for (const room of [...this.#rooms.keys()]) this.drop(room);
  }

  #schedule(room: RoomName, entry: TypingRoom): void {
    const now = this.#now();
    let at = Infinity;
    for (const expires of entry.typists.values()) at = Math.min(at, expires);
    if (entry.changed) {
      at = Math.min(at, Math.max(now, entry.lastFrameAt + TYPING_FRAME_MS));
    }
    if (at === Infinity) {
      this.drop(room);
      return;
    }
    if (entry.timer !== undefined && entry.dueAt === at) return;
    if (entry.timer !== undefined) clearTimeout(entry.timer);
    entry.dueAt = at;
    entry.timer = setTimeout(() => {
      entry.timer = undefined;
      this.#tick(room, entry);
    }, Math.max(0, at - now));
  }

  #tick(room: RoomName, entry: TypingRoom): void {
    if (this.#rooms.get(room) !== entry) return;
    const now = this.#now();
    for (const [user, expires] of entry.typists) {
      if (expires <= now) {
        entry.typists.delete(user);
        entry.changed = true;
      }
    }
    if (entry.changed && now >= entry.lastFrameAt + TYPING_FRAME_MS) {
      entry.changed = false;
      entry.lastFrameAt = now;
      this.#send(room, entry);
    }
    this.#schedule(room, entry);
  }

  #send(room: RoomName, entry: TypingRoom): void {
    const everyone = [...entry.typists.keys()];
    for (const connection of this.#options.connections(room) ?? []) {
      this.#tell(entry, connection, everyone);
    }
  }

  /** Tells `connection` who of `everyone` types, unless it knows. */
  #tell(
    entry: TypingRoom,
    connection: Connection,
    everyone: readonly string[],
  ): void {
    if (!connection.live || connection.member.format !== "typed") return;
    const users = everyone.filter((user) => user !== connection.user);
    const text = JSON.stringify(users);
    if ((entry.told.get(connection) ?? "[]") === text) return;
    entry.told.set(connection, text);
    const frame: TypingFrame = { type: "typing", users };
    connection.member.deliver(JSON.stringify(frame));
  }
}
