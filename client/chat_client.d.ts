/**
 * Types of the chat client library (`chat_client.js`): one class,
 * {@linkcode ChatClient}, an `EventTarget` that keeps one WebSocket to a
 * room and the protocol's promises (each stored message once, in id
 * order; a send stored exactly once across reconnects). See docs/client.md.
 *
 * @module
 */

/**
 * The server's close codes by name; the table is `protocol.js` (a test
 * checks that these types are its values), and docs/protocol.md says what
 * each means.
 */
export declare const CloseCode: Readonly<{
  GoingAway: 1001;
  UnsupportedData: 1003;
  PolicyViolation: 1008;
  MessageTooBig: 1009;
  InternalError: 1011;
  TryAgainLater: 1013;
  TokenExpired: 4001;
  Banned: 4003;
  NameTaken: 4009;
  RemovedBySite: 4010;
}>;

/** The subprotocol the client offers: the typed frames. */
export declare const CHAT_PROTOCOL: "chat.v1";

/** A stored message, as the server sends it (docs/protocol.md). */
export interface ChatMessage {
  readonly type: "message";
  /** Strictly increasing within the room's log. */
  readonly id: number;
  readonly room: string;
  readonly user: string;
  readonly message: string;
  /** When the server accepted it, ISO-8601 in UTC. */
  readonly ts: string;
  /** The name is vouched for: a signed user or the site's backend. */
  readonly verified: boolean;
  /** Present on a message the site's backend posted. */
  readonly server?: true;
  /** The sender's own id of the message, when it gave one. */
  readonly cid?: string;
  /** When its owner last edited it (ISO-8601); `message` is the new text. */
  readonly edited?: string;
  /** Its reactions, when it has any. */
  readonly reactions?: readonly Reaction[];
}

/** One emoji's reactions to a message. */
export interface Reaction {
  readonly emoji: string;
  readonly count: number;
  /** Who reacted, in the order they did. */
  readonly users: readonly string[];
}

/** The detail of an `edit` event, and what `edit()` resolves with. */
export interface EditDetail {
  readonly id: number;
  readonly message: string;
  /** When, ISO-8601 in UTC. */
  readonly edited: string;
}

/** The detail of a `reactions` event: a message's whole reaction state. */
export interface ReactionsDetail {
  readonly id: number;
  readonly reactions: readonly Reaction[];
}

/** One name online in the room. */
export interface OnlineUser {
  /** Sockets open under the name (tabs, devices); 1 when only a join told. */
  readonly connections: number;
  /** A signed identity holds the name. */
  readonly verified: boolean;
}

/** Where the client is. */
export type ChatState = "connecting" | "open" | "reconnecting" | "closed";

/**
 * The protocol's refusals (docs/protocol.md, "error"); a test checks that
 * they are the server's.
 */
export type ProtocolErrorCode =
  | "invalid_json"
  | "bad_frame"
  | "empty"
  | "too_long"
  | "rate_limited"
  | "unavailable"
  | "rejected"
  | "bad_name"
  | "name_taken"
  | "name_fixed"
  | "no_key"
  | "not_owner"
  | "no_such_message"
  | "edits_off"
  | "edit_window_passed"
  | "too_many_reactions"
  | "not_emoji"
  | "muted"
  | "not_moderator"
  | "no_such_user"
  | "bad_duration";

/** Codes of a {@linkcode ChatError}: the protocol's, and the client's own. */
export type ChatErrorCode =
  | ProtocolErrorCode
  /** More than `outboxLimit` sends are waiting for the server. */
  | "outbox_full"
  /** `close()` was called, or the server ended the connection for good. */
  | "closed"
  /** An HTTP call (`loadOlder`) was refused. */
  | "http"
  | (string & Record<never, never>);

/**
 * Why a name was refused (`bad_name`), as docs/protocol.md lists them; a
 * test checks that they are the server's.
 */
export type KnownNameRefusal =
  | "empty"
  | "too_long"
  | "invisible"
  | "nothing_visible"
  | "mixed_scripts"
  | "badge"
  | "reserved";

/** Why a name was refused; a newer server may give a reason not listed. */
export type NameRefusalReason =
  | KnownNameRefusal
  | (string & Record<never, never>);

/** A refusal: the server's `error` frame, or the client's own. */
export declare class ChatError extends Error {
  constructor(
    code: ChatErrorCode,
    message: string,
    options?: {
      cid?: string;
      status?: number;
      reason?: NameRefusalReason;
      id?: number;
      until?: string | null;
    },
  );
  readonly code: ChatErrorCode;
  /** The refused message's `cid`, when the refusal concerns one. */
  readonly cid?: string;
  /** For `bad_name`: which rule the name broke. */
  readonly reason?: NameRefusalReason;
  /** The HTTP status, for code `http`. */
  readonly status?: number;
  /** The message an `edit`, `delete` or `react` refused was about. */
  readonly id?: number;
  /** For `muted`: until when, ISO-8601 (`null`: for good). */
  readonly until?: string | null;
}

/** A token, or where to get a fresh one. */
export type TokenSource = string | (() => string | Promise<string>);

/** A constructor with the standard WebSocket's shape. */
export interface WebSocketConstructor {
  new (url: string, protocols?: string | string[]): WebSocket;
}

export interface ChatClientOptions {
  /** The room to join (1 to 100 letters, digits, `_`, `-`, `.`). */
  room: string;
  /** Display name; the server picks `guest-xxxx` without one. */
  name?: string;
  /**
   * This client's key: sockets with the same key are one user (tabs of one
   * browser). 16 to 128 letters, digits, `-` or `_`.
   * @default a random key per instance
   */
  key?: string;
  /**
   * A signed identity from the site: a string, or a function called for
   * each connect and again when the server says it expired (4001).
   */
  token?: TokenSource;
  /** Resume after this message id (with the `epoch` it came from). */
  since?: number;
  /** The log `since` comes from (a `history` frame's `epoch`). */
  epoch?: string;
  /** @default globalThis.WebSocket */
  WebSocket?: WebSocketConstructor;
  /** @default globalThis.fetch */
  fetch?: typeof fetch;
  /**
   * Reconnect delays: full jitter over `baseMs` doubling, capped at `capMs`.
   * @default { baseMs: 500, capMs: 5000 }
   */
  backoff?: { baseMs?: number; capMs?: number };
  /**
   * Sends waiting for the server at most; one more is refused with
   * `outbox_full`. @default 100
   */
  outboxLimit?: number;
}

/** The detail of a `state` event. */
export interface StateDetail {
  readonly state: ChatState;
  /** The close code that caused it, when a socket closed. */
  readonly code?: number;
  /** Why, in words, when the client stopped for good. */
  readonly reason?: string;
}

/** The detail of a `history` event: a history frame arrived. */
export interface HistoryDetail {
  /**
   * `false`: what the client held was replaced by this history; drop what
   * you show. The `message` events that follow are the new log's.
   */
  readonly recovered: boolean;
  /** Not recovered while the client held messages: some were missed. */
  readonly missed: boolean;
  /** The log's epoch. */
  readonly epoch: string;
}

/** The detail of a `presence` event: `online` changed. */
export interface PresenceDetail {
  /** A full list replaced `online` (the reader's `you` may have changed). */
  readonly full: boolean;
  readonly joined: readonly string[];
  readonly left: readonly string[];
  readonly renamed: readonly RenameDetail[];
}

/** The detail of a `rename` event. */
export interface RenameDetail {
  readonly from: string;
  readonly to: string;
  readonly verified: boolean;
}

/** How long a mute or a ban lasts, and why. */
export interface SanctionOptions {
  /** In seconds; `null`: for good. @default null */
  duration?: number | null;
  /** Shown to the user. @default "" */
  reason?: string;
  /**
   * For `ban()` by a moderator of every room: from every room, not only
   * this one. @default false
   */
  everywhere?: boolean;
}

/** Until when and why: a `muted` or `banned` event, a mute's `muted` error. */
export interface SanctionDetail {
  /** ISO-8601; `null`: for good. */
  readonly until: string | null;
  readonly reason: string;
}

/** A moderator's action went through (`moderated` event, the promise). */
export interface ModeratedDetail {
  readonly action: "mute" | "ban" | "unmute" | "unban";
  readonly user: string;
  /** For mute and ban. */
  readonly until?: string | null;
  readonly reason?: string;
  /** A ban of every room. */
  readonly everywhere?: true;
}

/** A mute or a ban in force, as `sanctions()` lists it. */
export interface ListedSanction {
  /** The name it was imposed on. */
  readonly user: string;
  /** ISO-8601; `null`: for good. */
  readonly until: string | null;
  /** The moderator's reason ("" when none was given). */
  readonly reason: string;
  /** Who imposed it: `api`, or the moderator's name (and sub). */
  readonly by: string;
  /** When it was imposed, ISO-8601. */
  readonly at: string;
  /**
   * A ban from every room, which only `unban(user, { everywhere: true })`
   * by a moderator of every room lifts.
   */
  readonly everywhere: boolean;
}

/** The room's mutes and bans in force (`sanctions()`), oldest first. */
export interface SanctionsDetail {
  readonly mutes: readonly ListedSanction[];
  readonly bans: readonly ListedSanction[];
  /** Some were left out: each list holds at most the newest 200. */
  readonly more: boolean;
}

export interface ChatClientEventMap {
  /** Each stored message once, in id order. */
  message: CustomEvent<ChatMessage>;
  /** Message `id` was deleted (by its owner or the site). */
  delete: CustomEvent<{ readonly id: number }>;
  /** Message `id`'s owner edited it. */
  edit: CustomEvent<EditDetail>;
  /** Message `id`'s reactions changed; the detail is the whole state. */
  reactions: CustomEvent<ReactionsDetail>;
  /** Who else is typing now (empty: nobody). */
  typing: CustomEvent<readonly string[]>;
  history: CustomEvent<HistoryDetail>;
  presence: CustomEvent<PresenceDetail>;
  rename: CustomEvent<RenameDetail>;
  state: CustomEvent<StateDetail>;
  /** Every refusal from the server, and a send refused by the client. */
  error: CustomEvent<ChatError>;
  /** A moderator muted this user here: sends are refused with `muted`. */
  muted: CustomEvent<SanctionDetail>;
  /** The mute was lifted or ended. */
  unmuted: CustomEvent<Record<never, never>>;
  /**
   * A moderator banned this user from the room (close code 4003, or a
   * connect refused for it): the client stops and does not reconnect.
   */
  banned: CustomEvent<SanctionDetail>;
  /** This connection moderates the room (`moderator` is now true). */
  /** `everywhere`: it moderates every room, so may ban from all. */
  role: CustomEvent<{ readonly role: string; readonly everywhere: boolean }>;
  /** One of this moderator's actions went through. */
  moderated: CustomEvent<ModeratedDetail>;
}

/** One room over one WebSocket at a time, reconnecting without loss. */
export declare class ChatClient extends EventTarget {
  /**
   * `url`: the chat server's address (`https://chat.example`, or with a
   * path prefix behind a proxy). Connects at once.
   */
  constructor(url: string | URL, options: ChatClientOptions);

  readonly room: string;
  readonly state: ChatState;
  /** Who is online, by name. Replaced, never mutated in place. */
  readonly online: ReadonlyMap<string, OnlineUser>;
  /** How many are online in all (`online` may list the first ones only). */
  readonly count: number;
  /** This connection's name in the room, once the server said it. */
  readonly you: string;
  /** The id of the newest message delivered. */
  readonly lastId: number;
  /** The epoch of the log `lastId` belongs to. */
  readonly epoch: string;
  /** The oldest message id delivered or loaded (0 before any). */
  readonly oldestId: number;
  /** Sends waiting for the server. */
  readonly pending: number;
  /** This connection moderates the room (the server said so). */
  readonly moderator: boolean;

  /**
   * Sends a message; resolves with its stored frame. While disconnected it
   * waits and goes out after the reconnect, stored exactly once however
   * many reconnects it takes. Rejects with a {@linkcode ChatError}.
   */
  send(text: string): Promise<ChatMessage>;
  /**
   * Takes another name; resolves with the name the server gave (normalised).
   * Offline, the next connection uses it.
   */
  rename(name: string): Promise<string>;
  /**
   * Fetches up to `limit` messages older than `oldestId` (the HTTP API),
   * oldest first. @default limit 50
   */
  loadOlder(limit?: number): Promise<ChatMessage[]>;
  /**
   * Replaces the text of your message `id` (within the server's
   * `CHAT_EDIT_WINDOW_S`); resolves when the server's `edit` frame for it
   * arrives, rejects with a {@linkcode ChatError} naming `id`.
   */
  edit(id: number, text: string): Promise<EditDetail>;
  /**
   * Deletes your message `id` (a moderator: anyone's); resolves on its
   * `delete` frame.
   */
  delete(id: number): Promise<{ readonly id: number }>;
  /**
   * Adds your `emoji` reaction to message `id`, or takes it back; resolves
   * with the message's reactions after the change.
   */
  react(id: number, emoji: string): Promise<ReactionsDetail>;
  /**
   * Tells the room you are typing; sent at most once every 3 s, and after
   * a `send()` again as soon as the server hears it (1.5 s after the last).
   */
  typing(): void;
  /**
   * A moderator mutes `user` (a name online) in this room; rejects with
   * `not_moderator`, `no_such_user` or `bad_duration`.
   */
  mute(user: string, options?: SanctionOptions): Promise<ModeratedDetail>;
  /** A moderator bans `user` from this room: their sockets close (4003). */
  ban(user: string, options?: SanctionOptions): Promise<ModeratedDetail>;
  /** A moderator lifts `user`'s mute here. */
  unmute(user: string): Promise<ModeratedDetail>;
  /**
   * A moderator lifts `user`'s ban here; with `everywhere`, a moderator of
   * every room lifts their ban from every room.
   */
  unban(
    user: string,
    options?: { readonly everywhere?: boolean },
  ): Promise<ModeratedDetail>;
  /**
   * A moderator lists the room's mutes and bans in force (bans from every
   * room included); rejects with `not_moderator` like `mute()`.
   */
  sanctions(): Promise<SanctionsDetail>;
  /** Connects again at once: a new token, back online, "retry now". */
  reconnect(): void;
  /** Closes for good; waiting sends are rejected with `closed`. */
  close(): void;

  addEventListener<K extends keyof ChatClientEventMap>(
    type: K,
    listener: (event: ChatClientEventMap[K]) => void,
    options?: boolean | AddEventListenerOptions,
  ): void;
  addEventListener(
    type: string,
    listener: EventListenerOrEventListenerObject | null,
    options?: boolean | AddEventListenerOptions,
  ): void;
  removeEventListener<K extends keyof ChatClientEventMap>(
    type: K,
    listener: (event: ChatClientEventMap[K]) => void,
    options?: boolean | EventListenerOptions,
  ): void;
  removeEventListener(
    type: string,
    listener: EventListenerOrEventListenerObject | null,
    options?: boolean | EventListenerOptions,
  ): void;
}
