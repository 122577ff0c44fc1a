/**
 * What the room registry (`hub.ts`) is built from and answers with: its
 * options, the options of a connection and of a message, a connection's
 * membership of a room, and its counts.
 *
 * @module
 */

import type { Bus } from "./bus.ts";
import type { Since } from "./history.ts";
import type { Logger } from "./logger.ts";
import type { ChatMetrics } from "./metrics.ts";
import type { RenameResult } from "./rename.ts";
import type { Member } from "./connection.ts";
import type { RoomName } from "./room_name.ts";
import type { PublishHook } from "./publish_hook.ts";
import type { MessageAuthor, Store } from "./store.ts";

/** A connection's place in a room. */
export interface Membership {
  readonly room: RoomName;
  /** The name the connection goes by now. */
  readonly user: string;
  /** Resolves once history and presence were sent and delivery is live. */
  readonly ready: Promise<void>;
  /**
   * Takes the name `to` (already checked by `parseUserName`): one rename
   * for the room, and a fresh presence frame for this connection. `taken`
   * when another owner holds it online here, `gone` after leaving.
   */
  rename(to: string): Promise<RenameResult>;
  /** Leaves the room; idempotent, allowed before `ready`. */
  leave(): void;
}

/** Options for `ChatHub`. */
export interface ChatHubOptions {
  /** Carries messages to the other isolates or machines. */
  readonly bus: Bus;
  /** Holds messages, ids and presence. */
  readonly store: Store;
  /** Clock for message timestamps. @default () => new Date() */
  readonly now?: () => Date;
  /** @default silentLogger */
  readonly log?: Logger;
  /** @default noMetrics */
  readonly metrics?: ChatMetrics;
  /** Messages in the history frame of a fresh connection. */
  readonly historyLimit: number;
  /** Largest `since` gap recovered exactly. */
  readonly recoveryLimit: number;
  /** How often each room compares itself with the store, in ms. */
  readonly repairIntervalMs: number;
  /** How often presence is refreshed and swept, in ms. */
  readonly presenceHeartbeatMs: number;
  /** Messages older than this (ms) are deleted; 0 keeps them. @default 0 */
  readonly historyMaxAgeMs?: number;
  /** Names in a presence frame; the API pages through the rest. */
  readonly presenceListMax: number;
  /** This isolate's presence id. @default a random UUID */
  readonly node?: string;
  /**
   * Waits for an admission's turn of the event loop, so that a crowd
   * joining at once does not hold the loop (and every other room's
   * messages) for all of their admissions in one go. @default no wait
   */
  readonly paceAdmission?: () => Promise<void>;
  /**
   * Asked about every client message before it is stored (`submit`).
   * @default none: client messages are stored as they come
   */
  readonly publishHook?: PublishHook | undefined;
  /**
   * How long after sending a message its owner may edit it, in ms; 0
   * turns edits off. @default 0 (the server's is `CHAT_EDIT_WINDOW_S`)
   */
  readonly editWindowMs?: number;
  /**
   * How often the mutes and bans in force are read again from the store,
   * in ms (the bus tells of each change; this catches what it dropped).
   * @default 5000
   */
  readonly moderationReloadMs?: number;
}

/** Who connects to which room, for `ChatHub.connect`. */
export interface ConnectOptions {
  readonly room: RoomName;
  /** The name to go by. */
  readonly user: string;
  readonly member: Member;
  /** Where the history resumes. @default a fresh history */
  readonly since?: Since | undefined;
  /**
   * Who holds the name (see `nameOwner`).
   * @default a fresh owner for this connection alone
   */
  readonly owner?: string | undefined;
  /**
   * Gives another name; present when the server chose `user` (a guest
   * name). @default none: a name held by another owner is refused
   */
  readonly pickName?: (() => string) | undefined;
}

/** A message to store and deliver, for `ChatHub.send`. */
export interface SendOptions {
  readonly room: RoomName;
  readonly user: string;
  readonly message: string;
  /** The client's id for the message, so that a resend is not stored twice. */
  readonly cid?: string | undefined;
  /** Who vouches for the author. @default the name alone */
  readonly author?: MessageAuthor | undefined;
  /**
   * Who may edit and delete it (see `nameOwner`); stored, never sent.
   * @default nobody
   */
  readonly owner?: string | undefined;
}

/** Counts for health and metrics. */
export interface HubStats {
  readonly rooms: number;
  readonly members: number;
}
