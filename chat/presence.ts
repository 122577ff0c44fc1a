/**
 * Presence as one isolate takes part in it: this isolate is a node with its
 * own id, counts its own connections under each name, refreshes them in the
 * shared {@linkcode PresenceStore} with a heartbeat, sweeps the entries of
 * nodes that stopped without saying so, and has the users who went with
 * them announced. The store (SQLite or Redis) makes the counts of every
 * node one list; the hub decides who is admitted and delivers the frames.
 *
 * @module
 */

import type { PresenceChangeFrame } from "./frames.ts";
import type { RoomName } from "./room_name.ts";
import type {
  JoinResult,
  PresenceEntry,
  PresenceStore,
  PresentUser,
  RenameLeave,
} from "./store.ts";
import { isSignedOwner } from "./user_name.ts";
import { type Logger, silentLogger } from "./logger.ts";

/** Options for {@linkcode NodePresence}. */
export interface NodePresenceOptions {
  readonly store: PresenceStore;
  /** How often the counts are refreshed and stale nodes swept, in ms. */
  readonly heartbeatMs: number;
  /** Tells a room, here and on every other node, who joined or left. */
  readonly announce: (room: RoomName, frame: PresenceChangeFrame) => void;
  /** This node's id. @default a random UUID */
  readonly node?: string;
  /** @default silentLogger */
  readonly log?: Logger;
}

/** One connection's move from one name to another, for `rename`. */
export interface PresenceRename {
  readonly room: RoomName;
  readonly from: string;
  readonly to: string;
  /** Who holds the name; see `nameOwner`. */
  readonly owner: string;
}

/** A name in a room, held by one owner. */
interface Held {
  readonly room: RoomName;
  readonly user: string;
  readonly owner: string;
}

/** A room's presence list as a joining connection first sees it. */
export interface PresenceSnapshot {
  readonly users: PresentUser[];
  readonly count: number;
}

/**
 * The presence of one node. Its local counts are the truth the heartbeat
 * writes back, so a node that was swept while stalled reappears whole.
 */
export class NodePresence {
  readonly node: string;
  readonly #store: PresenceStore;
  readonly #announce: NodePresenceOptions["announce"];
  readonly #log: Logger;
  /** This node's connections, keyed by room, user and owner. */
  readonly #counts = new Map<string, PresenceEntry>();
  #timer: ReturnType<typeof setInterval> | undefined;

  constructor(options: NodePresenceOptions) {
    this.node = options.node ?? crypto.randomUUID();
    this.#store = options.store;
    this.#announce = options.announce;
    this.#log = options.log ?? silentLogger;
    this.#timer = setInterval(() => {
      this.refresh().catch((error) =>
        this.#log.error("presence.refresh_failed", { node: this.node, error })
      );
    }, options.heartbeatMs);
    // Housekeeping must not keep a stopping process alive.
    Deno.unrefTimer(this.#timer);
  }

  /**
   * Counts a connection of `owner` under `user`, unless another owner holds
   * the name online in the room; announces the name when it is new there.
   */
  async join(room: RoomName, user: string, owner: string): Promise<JoinResult> {
    const result = await this.#claim(room, user, owner);
    if (!result.taken && result.first) {
      this.#announce(room, {
        type: "join",
        user,
        verified: isSignedOwner(owner),
      });
    }
    return result;
  }

  /** Uncounts a connection; announces the name when it was the last one. */
  async leave(room: RoomName, user: string, owner: string): Promise<void> {
    const { last } = await this.#release(room, user, owner);
    if (last) this.#announce(room, { type: "leave", user });
  }

  /**
   * Moves one connection of `owner` from the name `from` to `to`, unless
   * another owner holds `to` online. When `from` goes and `to` comes with
   * it, the room hears one rename; otherwise (another tab still holds
   * `from`, or already holds `to`) whatever did change.
   */
  async rename(change: PresenceRename): Promise<JoinResult> {
    const { room, from, to, owner } = change;
    const result = await this.#claim(room, to, owner, true);
    if (result.taken) return result;
    const { last } = await this.#release(room, from, owner, {
      to,
      owner,
      joined: result.first,
    });
    const verified = isSignedOwner(owner);
    if (result.first && last) {
      this.#announce(room, { type: "rename", from, to, verified });
    } else if (result.first) {
      this.#announce(room, { type: "join", user: to, verified });
    } else if (last) {
      this.#announce(room, { type: "leave", user: from });
    }
    return result;
  }

  /** The first `limit` names online in `room`, and how many there are. */
  async snapshot(room: RoomName, limit: number): Promise<PresenceSnapshot> {
    const [users, count] = await Promise.all([
      this.#store.list(room, { limit }),
      this.#store.count(room),
    ]);
    return { users, count };
  }

  /**
   * Refreshes this node's entries, drops stale ones of nodes that stopped,
   * and announces the users who left with them.
   */
  async refresh(): Promise<void> {
    await this.#store.heartbeat(this.node, [...this.#counts.values()]);
    for (const { room, user } of await this.#store.sweep()) {
      this.#announce(room, { type: "leave", user });
    }
  }

  /**
   * Removes another node at once (its isolate died without leaving) and
   * announces the users who left with it, instead of waiting for its
   * entries to expire.
   */
  async forget(node: string): Promise<void> {
    for (const { room, user } of await this.#store.removeNode(node)) {
      this.#announce(room, { type: "leave", user });
    }
  }

  async #claim(
    room: RoomName,
    user: string,
    owner: string,
    renaming = false,
  ): Promise<JoinResult> {
    // Counted before the store answers: a heartbeat sent meanwhile reaches
    // the store after this join, and writes these counts as the node's
    // whole truth, so it must not leave the join out. (Should the claim be
    // refused, the store does not count it under the holder's name.)
    this.#count({ room, user, owner }, 1);
    let result: JoinResult;
    try {
      result = await this.#store.join({
        room,
        user,
        node: this.node,
        owner,
        ...(renaming ? { renaming } : {}),
      });
    } catch (error) {
      this.#count({ room, user, owner }, -1);
      throw error;
    }
    if (result.taken) this.#count({ room, user, owner }, -1);
    return result;
  }

  #release(
    room: RoomName,
    user: string,
    owner: string,
    rename?: RenameLeave,
  ): Promise<{ last: boolean }> {
    this.#count({ room, user, owner }, -1);
    return this.#store.leave(room, user, this.node, rename);
  }

  /** Adds `change` to this node's connections of a name held by an owner. */
  #count(held: Held, change: 1 | -1): void {
    const { room, user, owner } = held;
    const key = JSON.stringify([room, user, owner]);
    const connections = (this.#counts.get(key)?.connections ?? 0) + change;
    if (connections > 0) {
      this.#counts.set(key, { room, user, owner, connections });
    } else {
      this.#counts.delete(key);
    }
  }

  /** Stops the heartbeat and removes this node, announcing who left. */
  async close(): Promise<void> {
    clearInterval(this.#timer);
    this.#timer = undefined;
    this.#counts.clear();
    await this.forget(this.node);
  }
}
