// @ts-self-types="./chat_client.d.ts"
/**
 * The chat client library: one room over one WebSocket at a time, in any
 * runtime with the standard `WebSocket`, `EventTarget` and `fetch`
 * (browsers, Deno, Node 22+). It keeps what a good client must: each
 * stored message delivered once and in id order across reconnects
 * (`since=`), sends stored exactly once however many reconnects they wait
 * (the `cid` outbox), an online list kept from the presence frames in the
 * order they arrive, reconnects with full jitter, a fresh token when the
 * old one expired, and a stop on the close codes that a retry cannot
 * change. The class is the public API and the client's place in the log;
 * the socket's lifecycle is `link.js`'s, edits, deletes, reactions and
 * typing `conversation.js`'s, a moderator's requests `moderation.js`'s.
 * The wire protocol is docs/protocol.md; the API is docs/client.md.
 *
 * @module
 */

import { ChatError, isMessage, presenceChangeOf, refusalOf } from "./frames.js";
import { wakeOnReturn } from "./connecting.js";
import { Link } from "./link.js";
import { CHAT_PROTOCOL, CloseCode } from "./protocol.js";
import { Roster } from "./roster.js";
import { Outbox, Renames } from "./waiting.js";
import { Conversation } from "./conversation.js";
import { Moderations } from "./moderation.js";

export { CHAT_PROTOCOL, ChatError, CloseCode };

const DEFAULT_OUTBOX_LIMIT = 100;
const DEFAULT_PAGE_SIZE = 50;

/** Refusals that answer a `rename` rather than a message. */
const RENAME_REFUSALS = new Set(["bad_name", "name_taken", "name_fixed"]);

/** One room over one WebSocket at a time, reconnecting without loss. */
export class ChatClient extends EventTarget {
  #options;
  #link;
  #name;
  #key;
  #roster = new Roster();
  #you = "";
  #lastId = 0;
  #epoch = "";
  #oldestId = 0;
  /** Sends not yet stored. */
  #outbox;
  /** Renames not yet answered. */
  #renames = new Renames();
  /** What the conversation and the moderation requests need of the client. */
  #requestHooks = {
    send: (frame) => this.#link.send(frame),
    notLive: () => this.#notLive(),
    emit: (type, detail) => this.#emit(type, detail),
  };
  #conversation = new Conversation(this.#requestHooks);
  #moderations = new Moderations(this.#requestHooks);
  /** The current socket's presence frame has arrived: it is caught up. */
  #caughtUp = false;
  #unwire;

  /**
   * @param {string | URL} url the server's address
   * @param {import("./chat_client.d.ts").ChatClientOptions} options
   */
  constructor(url, options) {
    super();
    if (typeof options?.room !== "string" || options.room === "") {
      throw new TypeError("ChatClient needs a room");
    }
    this.#options = options;
    this.#outbox = new Outbox(options.outboxLimit ?? DEFAULT_OUTBOX_LIMIT);
    this.#name = options.name ?? "";
    this.#key = options.key ?? globalThis.crypto.randomUUID();
    this.#lastId = options.since ?? 0;
    this.#epoch = options.epoch ?? "";
    this.#link = new Link(url, options, this.#linkHooks());
    // In a browser, at once when the network or the tab comes back.
    this.#unwire = wakeOnReturn(() => {
      if (this.#link.state === "reconnecting") this.reconnect();
    });
    this.#link.start();
  }

  get room() {
    return this.#options.room;
  }
  get state() {
    return this.#link.state;
  }
  get online() {
    return this.#roster.online;
  }
  get count() {
    return this.#roster.count;
  }
  get you() {
    return this.#you;
  }
  get lastId() {
    return this.#lastId;
  }
  get epoch() {
    return this.#epoch;
  }
  get oldestId() {
    return this.#oldestId;
  }
  get pending() {
    return this.#outbox.size;
  }
  get moderator() {
    return this.#moderations.moderator;
  }

  /** @param {string} text */
  send(text) {
    if (typeof text !== "string") {
      return Promise.reject(new TypeError("send() takes a string"));
    }
    if (this.#link.closed || this.#link.ended) {
      const why = this.#link.closed
        ? "The client is closed"
        : this.#link.endedWhy;
      return Promise.reject(new ChatError("closed", why));
    }
    let waiting;
    try {
      waiting = this.#outbox.add(text);
    } catch (error) {
      if (!(error instanceof ChatError)) throw error;
      this.#emit("error", error);
      return Promise.reject(error);
    }
    this.#transmit(waiting.cid);
    this.#conversation.sent();
    return waiting.promise;
  }

  /** @param {string} name */
  rename(name) {
    if (typeof name !== "string" || name.trim() === "") {
      return Promise.reject(new TypeError("rename() takes a name"));
    }
    if (this.#link.closed) {
      return Promise.reject(new ChatError("closed", "The client is closed"));
    }
    const offline = !this.#caughtUp;
    const answer = this.#renames.add(offline);
    if (!offline) {
      this.#link.send({ type: "rename", name });
      return answer;
    }
    // Offline: the next connection joins under it, and its presence frame
    // answers.
    this.#name = name;
    if (this.#link.state === "closed") this.reconnect();
    return answer;
  }

  /** @param {number} id @param {string} text */
  edit(id, text) {
    return this.#conversation.edit(id, text);
  }

  /** @param {number} id */
  delete(id) {
    return this.#conversation.delete(id);
  }

  /** @param {number} id @param {string} emoji */
  react(id, emoji) {
    return this.#conversation.react(id, emoji);
  }

  /** @param {string} user @param {{ duration?: number | null, reason?: string }} [options] */
  mute(user, options) {
    return this.#moderations.request("mute", user, options);
  }

  /** @param {string} user @param {{ duration?: number | null, reason?: string }} [options] */
  ban(user, options) {
    return this.#moderations.request("ban", user, options);
  }

  /** @param {string} user */
  unmute(user) {
    return this.#moderations.request("unmute", user);
  }

  /** @param {string} user @param {{ everywhere?: boolean }} [options] */
  unban(user, options) {
    return this.#moderations.request("unban", user, options);
  }

  /** The room's mutes and bans (moderators only). */
  sanctions() {
    return this.#moderations.request("sanctions");
  }

  /**
   * Tells the room this user is typing: at most once every 3 s, and after
   * a send as soon as the server hears it (1.5 s after the last).
   */
  typing() {
    this.#conversation.typing();
  }

  /** Why a request cannot go out now (not caught up, ended), or "". */
  #notLive() {
    if (this.#link.closed) return "The client is closed";
    if (this.#link.ended || !this.#caughtUp) {
      return this.#link.endedWhy || "Not connected";
    }
    return "";
  }

  /** @param {number} [limit] */
  async loadOlder(limit = DEFAULT_PAGE_SIZE) {
    const query = new URLSearchParams({ limit: String(limit) });
    if (this.#oldestId > 0) query.set("before", String(this.#oldestId));
    const response = await this.#link.get(
      `api/rooms/${encodeURIComponent(this.room)}/messages?${query}`,
    );
    const body = await response.json().catch(() => ({}));
    if (!response.ok) {
      throw new ChatError(
        "http",
        typeof body?.error === "string" ? body.error : response.statusText,
        { status: response.status },
      );
    }
    const older = (Array.isArray(body?.messages) ? body.messages : [])
      .filter(isMessage)
      .filter((m) => this.#oldestId === 0 || m.id < this.#oldestId);
    if (older.length > 0) this.#oldestId = older[0].id;
    return older;
  }

  reconnect() {
    this.#link.reconnect();
  }

  close() {
    if (this.#link.closed) return;
    this.#unwire();
    this.#link.close();
  }

  /** What the link needs from the client (see `link.js`). */
  #linkHooks() {
    return {
      place: () => ({
        name: this.#name,
        key: this.#key,
        lastId: this.#lastId,
        epoch: this.#epoch,
      }),
      connecting: () => {
        this.#caughtUp = false;
        this.#moderations.connecting();
        this.#conversation.connecting();
      },
      frame: (frame) => this.#onFrame(frame),
      dropped: () => {
        this.#caughtUp = false;
      },
      unanswered: (error) => {
        this.#conversation.refuseAll(error);
        this.#moderations.refuseAll(error);
      },
      ended: (reason) => this.#rejectWaiting(reason),
      nameRefused: (code, why) => this.#refuseOfflineRenames(code, why),
      emit: (type, detail) => this.#emit(type, detail),
    };
  }

  /**
   * The connection that carried renames made offline was refused for the
   * name: those renames fail with `code`, and the client goes back to the
   * name it had. Returns whether there were any.
   */
  #refuseOfflineRenames(code, why) {
    const error = new ChatError(code, why || "The name was refused");
    if (!this.#renames.refuseOffline(error)) return false;
    this.#name = this.#you;
    this.#emit("error", error);
    return true;
  }

  // ---- frames -----------------------------------------------------------

  #onFrame(frame) {
    switch (frame.type) {
      case "history":
        this.#onHistory(frame);
        return;
      case "presence":
        this.#onPresence(frame);
        return;
      case "message":
        this.#onMessage(frame);
        return;
      case "error":
        this.#onError(frame);
        return;
    }
    if (this.#conversation.onFrame(frame)) return;
    if (this.#moderations.onFrame(frame)) return;
    const change = presenceChangeOf(frame);
    if (!change) return;
    const { joined, left, renamed } = this.#roster.apply(change);
    for (const rename of renamed) this.#emit("rename", rename);
    this.#emit("presence", { full: false, joined, left, renamed });
  }

  #onHistory(frame) {
    const messages = Array.isArray(frame.messages) ? frame.messages : [];
    const recovered = frame.recovered === true;
    const missed = !recovered && this.#lastId > 0;
    if (!recovered) {
      this.#lastId = 0;
      this.#oldestId = 0;
    }
    this.#epoch = typeof frame.epoch === "string" ? frame.epoch : "";
    this.#emit("history", { recovered, missed, epoch: this.#epoch });
    for (const message of messages) this.#onMessage(message);
  }

  #onMessage(frame) {
    if (!isMessage(frame)) return;
    if (typeof frame.cid === "string") this.#outbox.settle(frame);
    if (frame.id <= this.#lastId) return;
    this.#lastId = frame.id;
    if (this.#oldestId === 0) this.#oldestId = frame.id;
    this.#emit("message", frame);
  }

  #onPresence(frame) {
    if (typeof frame.you !== "string") return;
    this.#roster.replace(frame);
    this.#you = frame.you;
    this.#name = frame.you;
    const first = !this.#caughtUp;
    this.#caughtUp = true;
    // A connection's first presence frame answers the renames made while
    // offline (it joined under the newest); a later one, the oldest rename
    // sent on this connection.
    this.#renames.answer(frame.you, first);
    this.#emit("presence", { full: true, joined: [], left: [], renamed: [] });
    if (first) this.#caughtUpNow();
  }

  /**
   * History and presence are in: the client is live. Whatever the history
   * did not confirm goes out again, in order; the server stores a cid
   * once, so a resend cannot make a copy.
   */
  #caughtUpNow() {
    const waiting = this.#outbox.cids();
    this.#link.opened();
    for (const cid of waiting) this.#transmit(cid);
  }

  #onError(frame) {
    const error = refusalOf(frame);
    const { code, cid } = error;
    this.#emit("error", error);
    if (error.id !== undefined) {
      this.#conversation.refuse(error.id, error);
      return;
    }
    if (RENAME_REFUSALS.has(code)) {
      this.#renames.refuseSent(error);
      return;
    }
    if (cid !== undefined) this.#outbox.refuse(error);
    else this.#moderations.refuse(error);
  }

  // ---- sending ----------------------------------------------------------

  #transmit(cid) {
    const text = this.#outbox.textOf(cid);
    if (text !== undefined && this.#caughtUp) {
      this.#link.send({ type: "message", message: text, cid });
    }
  }

  #rejectWaiting(reason) {
    const error = new ChatError("closed", reason || "The connection ended");
    this.#outbox.refuseAll(error);
    this.#renames.refuseAll(error);
    this.#conversation.refuseAll(error);
    this.#moderations.refuseAll(error);
  }

  #emit(type, detail) {
    this.dispatchEvent(new CustomEvent(type, { detail }));
  }
}
