/**
 * Storage as the chat core sees it: the message log of each room (ids,
 * history, retention) and the presence table shared by every isolate and
 * process. The SQLite and Redis adapters (`adapters/`) implement it.
 *
 * @module
 */

import type { WebhookOutbox } from "./outbox.ts";
import type { RoomName } from "./room_name.ts";
import type { ConversationStore, Reaction } from "./conversation_store.ts";
import type { ModerationStore } from "./moderation_store.ts";

/**
 * Who vouches for a message's sender: `signed` for a user with a valid
 * token (docs/integration.md), `server` for the site's backend through the
 * server API. A guest's message has none.
 */
export type MessageAuthor = "signed" | "server";

/** A stored chat message. `id` is strictly increasing within its room. */
export interface ChatMessage {
  readonly id: number;
  readonly room: RoomName;
  readonly user: string;
  readonly message: string;
  /** When the server accepted it, ISO-8601 in UTC. */
  readonly ts: string;
  /** The sender's own id for it, when it gave one (see docs/protocol.md). */
  readonly cid?: string;
  /** Who vouches for the sender; absent for a guest. */
  readonly author?: MessageAuthor;
  /** When its owner last edited it (ISO-8601); `message` is the new text. */
  readonly edited?: string;
  /** Its reactions, when it has any. */
  readonly reactions?: readonly Reaction[];
}

/** A message before the store has given it an id. */
export interface NewMessage {
  readonly user: string;
  readonly message: string;
  readonly ts: string;
  readonly cid?: string;
  readonly author?: MessageAuthor;
  /**
   * Who may edit and delete it (see `nameOwner`): stored, never sent.
   * Absent when nobody may (a socket without a key, the server API).
   */
  readonly owner?: string;
}

/** What an append did. */
export interface AppendResult {
  readonly message: ChatMessage;
  /**
   * True when the room already held a message with the same `cid` among
   * its recent ones: that one is returned and nothing was stored.
   */
  readonly duplicate: boolean;
  /** The epoch of the room's log the message is in (see {@linkcode RoomPosition}). */
  readonly epoch: string;
}

/**
 * Where a room's log stands. Its `epoch` is a random id the store gives
 * the log when it begins it (Centrifugo's stream epoch): a store that
 * forgets the log (a Redis restarted without persistence, a database file
 * replaced) begins another one with another epoch, and counts ids from 1
 * again. A changed epoch, or a last id below one already seen, is how a
 * reader tells that the ids it knows name other messages now. `""` when
 * the log has no epoch yet (nothing was ever stored in it).
 */
export interface RoomPosition {
  /** The last id handed out, or 0 when none was. */
  readonly last: number;
  readonly epoch: string;
}

/** The ids a room has handed out and still keeps, and its epoch. */
export interface RoomBounds extends RoomPosition {
  /** The oldest id still retained, or 0 when nothing is. */
  readonly first: number;
}

/** The message log of every room. */
export interface MessageStore {
  /**
   * Stores a message and gives it the room's next id, atomically across
   * every connection to the same store; prunes past the retention limit.
   * A message whose `cid` the room already holds among its last
   * `dedupeWindow` ids is not stored again (a client resending after a
   * reconnect): the stored one is returned.
   */
  append(room: RoomName, message: NewMessage): Promise<AppendResult>;
  /** The newest `limit` messages, oldest first. */
  latest(room: RoomName, limit: number): Promise<ChatMessage[]>;
  /** Up to `limit` messages with an id above `afterId`, oldest first. */
  after(room: RoomName, afterId: number, limit: number): Promise<ChatMessage[]>;
  /** Up to `limit` messages with an id below `beforeId`, oldest first. */
  before(
    room: RoomName,
    beforeId: number,
    limit: number,
  ): Promise<ChatMessage[]>;
  /**
   * Deletes one message (the server API's delete): history, `since=` and
   * repair no longer return it. Resolves false when the room held no such
   * message.
   */
  remove(room: RoomName, id: number): Promise<boolean>;
  /** The first retained and the last assigned id of `room`, and its epoch. */
  bounds(room: RoomName): Promise<RoomBounds>;
  /**
   * The position of each of `rooms` (last id 0 for a room with none), in
   * one round trip: the periodic check of every open room.
   */
  positions(rooms: readonly RoomName[]): Promise<RoomPosition[]>;
  /**
   * Deletes every message accepted before `before` (ISO-8601), and forgets
   * rooms left with no message and nobody online; returns how many
   * messages went.
   */
  expire(before: string): Promise<number>;
  /**
   * The `limit` rooms with the most recent messages, newest first, each
   * with the time of its newest message (the index page's "active rooms").
   */
  recent(limit: number): Promise<RecentRoom[]>;
}

/** A room and when its newest message was sent. */
export interface RecentRoom {
  readonly name: RoomName;
  /** ISO-8601, the `ts` of the room's newest message. */
  readonly lastMessageAt: string;
}

/** One user's place in a room's presence list. */
export interface PresentUser {
  readonly name: string;
  /** Open connections under this name, over all isolates and processes. */
  readonly connections: number;
  /** The name is held by a signed identity (see server/tokens.ts). */
  readonly verified: boolean;
}

/** One node's count of connections under one name in one room. */
export interface PresenceEntry {
  readonly room: RoomName;
  readonly user: string;
  /** Who holds the name (see `nameOwner` in user_name.ts). */
  readonly owner: string;
  readonly connections: number;
}

/** One connection's claim on a name in a room, for `PresenceStore.join`. */
export interface PresenceClaim {
  readonly room: RoomName;
  readonly user: string;
  /** The node the connection is on. */
  readonly node: string;
  /** Who holds the name; see `nameOwner`. */
  readonly owner: string;
  /**
   * The claim is the first half of a rename: the webhook event waits for
   * the second (see {@linkcode RenameLeave}).
   */
  readonly renaming?: boolean;
}

/** The second half of a rename, for `PresenceStore.leave`. */
export interface RenameLeave {
  /** The name the connection moved to. */
  readonly to: string;
  /** Who holds both names; see `nameOwner`. */
  readonly owner: string;
  /** Whether the new name came online with the rename's claim. */
  readonly joined: boolean;
}

/** The answer to a join. */
export type JoinResult =
  /** Counted; `first` when the name was not online before. */
  | { readonly taken: false; readonly first: boolean }
  /** Not counted: another owner holds the name online in this room. */
  | { readonly taken: true };

/** Which part of a presence list to read. */
export interface PresencePage {
  readonly limit: number;
  readonly after?: string;
}

/** A room with people in it. */
export interface OnlineRoom {
  readonly name: RoomName;
  /** Distinct user names online. */
  readonly online: number;
}

/** A user whose last connection went away with a stale or stopped node. */
export interface Departure {
  readonly room: RoomName;
  readonly user: string;
}

/**
 * Who is connected where. Each isolate is a node with a random id; it counts
 * its own connections and refreshes them with heartbeats, so a node that
 * stops without saying so drops out once its entries go stale.
 */
export interface PresenceStore {
  /**
   * Counts a new connection of `owner` under `user`, unless another owner
   * holds that name, or one that looks like it (the same `nameKey`),
   * online in the room: atomically, over every node.
   */
  join(claim: PresenceClaim): Promise<JoinResult>;
  /**
   * Uncounts a connection; `last` when the name is no longer online.
   * `rename` when the connection moves to another name: its webhook event
   * (a rename, a join or a leave) is written here, with both halves known.
   */
  leave(
    room: RoomName,
    user: string,
    node: string,
    rename?: RenameLeave,
  ): Promise<{ last: boolean }>;
  /**
   * Users online in `room`, in name order: the first `limit` after the
   * name `after` (from the start when absent).
   */
  list(room: RoomName, page: PresencePage): Promise<PresentUser[]>;
  /** How many names are online in `room`. */
  count(room: RoomName): Promise<number>;
  /**
   * How many connections are open under `user` in `room`, over every node
   * (0 when the name is not online): what the server API's disconnect
   * closes.
   */
  connections(room: RoomName, user: string): Promise<number>;
  /** Rooms with someone online, by name. */
  rooms(): Promise<OnlineRoom[]>;
  /**
   * Replaces the entries of `node` with its own count of connections and
   * marks them fresh, so a node that was swept while stalled reappears.
   */
  heartbeat(node: string, entries: readonly PresenceEntry[]): Promise<void>;
  /** Drops stale entries; returns the users who are now gone. */
  sweep(): Promise<Departure[]>;
  /** Drops every entry of `node` (its shutdown); returns who is now gone. */
  removeNode(node: string): Promise<Departure[]>;
}

/** A whole storage backend. */
export interface Store {
  readonly messages: MessageStore;
  readonly presence: PresenceStore;
  /** Owners, edits and reactions of the stored messages. */
  readonly conversation: ConversationStore;
  /** Mutes, bans and the audit log. */
  readonly moderation: ModerationStore;
  /**
   * The webhook events it writes with the changes that cause them; absent
   * when webhooks are off (nothing is written then).
   */
  readonly outbox?: WebhookOutbox;
  /**
   * Resolves when the store can write now (a small write, as a message
   * append is); rejects with a {@linkcode StoreError} saying why not.
   */
  ping(): Promise<void>;
  /** Closes the connection. Idempotent. */
  close(): Promise<void>;
}

/**
 * What kind of failure a store call met, for health, logs and metrics:
 * `full` (no space left, or the size limit reached), `limit` (a configured
 * bound such as the number of rooms), `read_only` (cannot write), `busy`
 * (locked too long), `io` (the device failed), `unreachable` (a network
 * store such as Redis cannot be reached), `corrupt` (data it should not
 * hold), `other`.
 */
export type StoreErrorKind =
  | "full"
  | "limit"
  | "read_only"
  | "busy"
  | "io"
  | "unreachable"
  | "corrupt"
  | "other";

/** The store failed or returned data it should not hold. */
export class StoreError extends Error {
  override name = "StoreError";
  readonly kind: StoreErrorKind;

  constructor(
    message: string,
    options: ErrorOptions & { kind?: StoreErrorKind } = {},
  ) {
    super(message, options);
    this.kind = options.kind ?? "corrupt";
  }
}

/**
 * The store's data could not be opened, created or written at start (the
 * database file the settings name): the process tells the user to choose
 * another.
 */
export class StoreOpenError extends StoreError {
  override name = "StoreOpenError";
}
