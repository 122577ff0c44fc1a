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
 * change. The wire protocol is docs/protocol.md; the API is docs/client.md.
 *
 * @module
 */

import { ChatError, isMessage, presenceChangeOf, refusalOf } from "./frames.js";
import {
  askWhyRefused,
  jitteredDelay,
  socketUrl,
  wakeOnReturn,
} from "./connecting.js";
import { CHAT_PROTOCOL, CloseCode, TYPING_HEARD_EVERY_MS } from "./protocol.js";
import { Roster } from "./roster.js";
import { Changes, Outbox, Renames } from "./waiting.js";
import { banOf, moderationFrame, Moderations } from "./moderation.js";

export { CHAT_PROTOCOL, ChatError, CloseCode };

const DEFAULT_BACKOFF = Object.freeze({ baseMs: 500, capMs: 5_000 });
const DEFAULT_OUTBOX_LIMIT = 100;
const DEFAULT_PAGE_SIZE = 50;
/** The least time between two `typing` frames (docs/protocol.md). */
const TYPING_EVERY_MS = 3_000;
/**
 * After a send, the least time between two `typing` frames: more than the
 * server's once a second, so that the first one arriving late does not
 * make the next one look early to it.
 */
const TYPING_AFTER_SEND_MS = TYPING_HEARD_EVERY_MS + 500;

/**
 * Close codes after which reconnecting would be refused the same way: the
 * site removed the user, or the client broke a rule of the protocol.
 */
const FINAL_CLOSES = new Set([
  CloseCode.RemovedBySite,
  CloseCode.PolicyViolation,
  CloseCode.UnsupportedData,
  CloseCode.MessageTooBig,
]);

/** Refusals that answer a `rename` rather than a message. */
const RENAME_REFUSALS = new Set(["bad_name", "name_taken", "name_fixed"]);

/** One room over one WebSocket at a time, reconnecting without loss. */
export class ChatClient extends EventTarget {
  #base;
  #options;
  #WebSocket;
  #fetch;
  #backoff;
  #name;
  #key;
  #state = "connecting";
  #socket;
  /** The token the current socket offered, to tell a fresh one. */
  #token = "";
  /** Reconnects scheduled since a socket last reached "open". */
  #retries = 0;
  #timer;
  #closed = false;
  /**
   * The server ended the connection for a reason a retry cannot change
   * (removed by the site, a rule broken, the room refused): sends are
   * refused until the app calls `reconnect()`.
   */
  #ended = false;
  #endedWhy = "";
  /** Bumped by each connect, so that an older attempt's answers are ignored. */
  #attempt = 0;
  #roster = new Roster();
  #you = "";
  #lastId = 0;
  #epoch = "";
  #oldestId = 0;
  /** Sends not yet stored. */
  #outbox;
  /** Renames not yet answered. */
  #renames = new Renames();
  #changes = new Changes();
  #moderations = new Moderations();
  /** This connection moderates the room (its `role` frame). */
  #moderator = false;
  /** A moderator muted this user here: no `typing` frames meanwhile. */
  #muted = false;
  #typedAt = -Infinity;
  /**
   * A message went out since the last `typing` frame: the server took this
   * user off the typing list, so the next frame need only wait until the
   * server hears one again.
   */
  #spokeSinceTyping = false;
  /** The current socket's presence frame has arrived: it is caught up. */
  #caughtUp = false;
  #unwire;
  /** Ends the HTTP calls in flight when the client closes. */
  #calls = new AbortController();

  /**
   * @param {string | URL} url the server's address
   * @param {import("./chat_client.d.ts").ChatClientOptions} options
   */
  constructor(url, options) {
    super();
    if (typeof options?.room !== "string" || options.room === "") {
      throw new TypeError("ChatClient needs a room");
    }
    const base = new URL(String(url));
    if (!base.pathname.endsWith("/")) base.pathname += "/";
    base.search = "";
    base.hash = "";
    this.#base = base;
    this.#options = options;
    this.#WebSocket = options.WebSocket ?? globalThis.WebSocket;
    this.#fetch = options.fetch ?? globalThis.fetch?.bind(globalThis);
    if (typeof this.#WebSocket !== "function") {
      throw new TypeError(
        "No WebSocket in this runtime: pass one as the WebSocket option",
      );
    }
    this.#backoff = { ...DEFAULT_BACKOFF, ...options.backoff };
    this.#outbox = new Outbox(options.outboxLimit ?? DEFAULT_OUTBOX_LIMIT);
    if (typeof this.#fetch !== "function") {
      throw new TypeError(
        "No fetch in this runtime: pass one as the fetch option",
      );
    }
    this.#name = options.name ?? "";
    this.#key = options.key ?? globalThis.crypto.randomUUID();
    this.#lastId = options.since ?? 0;
    this.#epoch = options.epoch ?? "";
    // In a browser, at once when the network or the tab comes back.
    this.#unwire = wakeOnReturn(() => {
      if (this.#state === "reconnecting") this.reconnect();
    });
    this.#connect();
  }

  get room() {
    return this.#options.room;
  }
  get state() {
    return this.#state;
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
    return this.#moderator;
  }

  /** @param {string} text */
  send(text) {
    if (typeof text !== "string") {
      return Promise.reject(new TypeError("send() takes a string"));
    }
    if (this.#closed || this.#ended) {
      const why = this.#closed ? "The client is closed" : this.#endedWhy;
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
    this.#spokeSinceTyping = true;
    return waiting.promise;
  }

  /** @param {string} name */
  rename(name) {
    if (typeof name !== "string" || name.trim() === "") {
      return Promise.reject(new TypeError("rename() takes a name"));
    }
    if (this.#closed) {
      return Promise.reject(new ChatError("closed", "The client is closed"));
    }
    const offline = !this.#caughtUp;
    const answer = this.#renames.add(offline);
    if (!offline) {
      this.#sendFrame({ type: "rename", name });
      return answer;
    }
    // Offline: the next connection joins under it, and its presence frame
    // answers.
    this.#name = name;
    if (this.#state === "closed") this.reconnect();
    return answer;
  }

  /** @param {number} id @param {string} text */
  edit(id, text) {
    if (typeof text !== "string") {
      return Promise.reject(new TypeError("edit() takes a string"));
    }
    return this.#change("edit", id, { type: "edit", id, message: text });
  }

  /** @param {number} id */
  delete(id) {
    return this.#change("delete", id, { type: "delete", id });
  }

  /** @param {number} id @param {string} emoji */
  react(id, emoji) {
    return this.#change("reactions", id, { type: "react", id, emoji });
  }

  /** @param {string} user @param {{ duration?: number | null, reason?: string }} [options] */
  mute(user, options) {
    return this.#moderate("mute", user, options);
  }

  /** @param {string} user @param {{ duration?: number | null, reason?: string }} [options] */
  ban(user, options) {
    return this.#moderate("ban", user, options);
  }

  /** @param {string} user */
  unmute(user) {
    return this.#moderate("unmute", user);
  }

  /** @param {string} user */
  unban(user) {
    return this.#moderate("unban", user);
  }

  sanctions() {
    return this.#moderate("sanctions");
  }

  #moderate(action, user, options) {
    try {
      const frame = moderationFrame(action, user, options);
      const why = this.#notLive();
      if (why) throw new ChatError("closed", why);
      const answered = this.#moderations.add();
      this.#sendFrame(frame);
      return answered;
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /**
   * Tells the room this user is typing: at most once every 3 s, and after
   * a send as soon as the server hears it (1.5 s after the last).
   */
  typing() {
    const now = Date.now();
    if (!this.#caughtUp || this.#muted) return;
    const every = this.#spokeSinceTyping
      ? TYPING_AFTER_SEND_MS
      : TYPING_EVERY_MS;
    if (now - this.#typedAt < every) return;
    this.#typedAt = now;
    this.#spokeSinceTyping = false;
    this.#sendFrame({ type: "typing" });
  }

  #change(answer, id, frame) {
    if (!Number.isInteger(id) || id < 1) {
      return Promise.reject(
        new TypeError("A message id is a positive integer"),
      );
    }
    const why = this.#notLive();
    if (why) return Promise.reject(new ChatError("closed", why, { id }));
    const answered = this.#changes.add(answer, id);
    this.#sendFrame(frame);
    return answered;
  }

  /** Why a request cannot go out now (not caught up, ended), or "". */
  #notLive() {
    if (this.#closed) return "The client is closed";
    if (this.#ended || !this.#caughtUp) {
      return this.#endedWhy || "Not connected";
    }
    return "";
  }

  /** @param {number} [limit] */
  async loadOlder(limit = DEFAULT_PAGE_SIZE) {
    const query = new URLSearchParams({ limit: String(limit) });
    if (this.#oldestId > 0) query.set("before", String(this.#oldestId));
    const token = await this.#currentToken();
    const url = new URL(
      `api/rooms/${encodeURIComponent(this.room)}/messages?${query}`,
      this.#base,
    );
    const response = await this.#fetch(url, {
      signal: this.#calls.signal,
      ...(token ? { headers: { Authorization: `Bearer ${token}` } } : {}),
    });
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
    if (this.#closed) return;
    this.#ended = false;
    this.#retries = 0;
    this.#connect();
  }

  close() {
    if (this.#closed) return;
    this.#closed = true;
    this.#unwire();
    this.#calls.abort();
    clearTimeout(this.#timer);
    this.#attempt += 1;
    this.#socket?.close(1000, "Closed by the client");
    this.#socket = undefined;
    this.#rejectWaiting("The client is closed");
    this.#setState("closed");
  }

  // ---- connecting -------------------------------------------------------

  /** Opens a socket, with `token` when one was just fetched. */
  async #connect(token) {
    clearTimeout(this.#timer);
    const attempt = ++this.#attempt;
    const previous = this.#socket;
    this.#socket = undefined;
    this.#caughtUp = false;
    this.#moderator = false;
    this.#muted = false;
    previous?.close(1000, "Reconnecting");
    if (this.#state !== "connecting") this.#setState("reconnecting");
    let socket;
    let url;
    try {
      token ??= await this.#currentToken();
      if (attempt !== this.#attempt) return;
      url = socketUrl(this.#base, this.room, {
        name: this.#name,
        key: this.#key,
        lastId: this.#lastId,
        epoch: this.#epoch,
        token,
      });
      socket = new this.#WebSocket(url, CHAT_PROTOCOL);
    } catch (error) {
      if (attempt !== this.#attempt) return;
      this.#stop(undefined, `Cannot connect: ${error}`);
      return;
    }
    this.#token = token;
    this.#socket = socket;
    let opened = false;
    socket.addEventListener("open", () => {
      opened = true;
    });
    socket.addEventListener("message", (event) => {
      if (this.#socket !== socket) return; // replaced; its successor catches up
      let frame;
      try {
        frame = JSON.parse(String(event.data));
      } catch {
        return; // not ours to judge: the server only sends JSON
      }
      if (typeof frame === "object" && frame !== null) this.#onFrame(frame);
    });
    socket.addEventListener("close", (event) => {
      if (this.#socket !== socket) return; // replaced or closed on purpose
      this.#socket = undefined;
      this.#caughtUp = false;
      if (opened) this.#onClose(event.code, event.reason, url);
      else this.#onRefused(attempt, url);
    });
    // Node's WebSocket fires only `error` for a socket that never opened.
    socket.addEventListener("error", () => {
      if (opened || this.#socket !== socket) return;
      this.#socket = undefined;
      this.#onRefused(attempt, url);
    });
  }

  async #currentToken() {
    const source = this.#options.token;
    if (typeof source === "function") return String(await source() ?? "");
    return source ?? "";
  }

  #onClose(code, reason, url) {
    // Their answers would have come on this socket: whether they were
    // carried out, the next history tells.
    const unanswered = new ChatError(
      "closed",
      "The connection closed before the answer",
    );
    this.#changes.refuseAll(unanswered);
    this.#moderations.refuseAll(unanswered);
    if (code === CloseCode.Banned) {
      this.#end(code, reason || "Banned from this room by a moderator");
      // The GET of the socket's address says until when and why.
      askWhyRefused(this.#fetch, url, this.#calls.signal).then((answer) => {
        const { status, why, body } = answer;
        if (this.#closed) return;
        this.#emit("banned", banOf(status === 403 ? body : {}, why || reason));
      });
      return;
    }
    if (code === CloseCode.TokenExpired) {
      this.#renewToken(
        code,
        reason || "The sign-in expired: a fresh token is needed",
      );
      return;
    }
    if (code === CloseCode.NameTaken) {
      if (this.#refuseOfflineRenames("name_taken", reason)) {
        this.#connect();
        return;
      }
      // The same name would be refused again; rename() reconnects.
      this.#stop(code, reason || "The name is in use in this room");
      return;
    }
    if (FINAL_CLOSES.has(code)) {
      this.#end(code, reason || `Closed by the server (${code})`);
      return;
    }
    this.#scheduleReconnect(code);
  }

  /**
   * The token was refused (it expired, or a refusal before the upgrade):
   * a fresh one from the token source resumes; the same one would be
   * refused again.
   */
  async #renewToken(code, reason) {
    this.#setState("reconnecting", { code });
    const attempt = this.#attempt;
    let fresh = this.#token;
    try {
      fresh = await this.#currentToken();
    } catch (error) {
      if (!(error instanceof Error)) throw error;
      reason = `The token could not be fetched: ${error.message}`;
    }
    if (attempt !== this.#attempt || this.#closed) return;
    if (fresh && fresh !== this.#token) this.#connect(fresh);
    else this.#stop(code, reason);
  }

  /**
   * A socket that never opened was refused before the upgrade (a bad name,
   * a refused token: stop, or ask for a fresh token) or never got there
   * (down, busy, at a limit: try again).
   */
  async #onRefused(attempt, url) {
    const { status, why, body } = await askWhyRefused(
      this.#fetch,
      url,
      this.#calls.signal,
    );
    if (attempt !== this.#attempt || this.#closed) return;
    if (status === 403 && body?.code === "banned") {
      this.#end(CloseCode.Banned, why);
      this.#emit("banned", banOf(body, why));
      return;
    }
    if (status === 401 && typeof this.#options.token === "function") {
      this.#renewToken(status, why || "The token was refused");
      return;
    }
    if (status === 400 && this.#refuseOfflineRenames("bad_name", why)) {
      this.#scheduleReconnect(status);
      return;
    }
    if (status === 403) {
      this.#end(status, why || "Refused by the server (403)");
      return;
    }
    if (status === 400 || status === 401) {
      this.#stop(status, why || `Refused by the server (${status})`);
      return;
    }
    this.#scheduleReconnect(status === 0 ? 1006 : status);
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

  /** Exponential backoff with full jitter, capped so a client is back soon. */
  #scheduleReconnect(code) {
    clearTimeout(this.#timer);
    this.#setState("reconnecting", { code });
    const delay = jitteredDelay(this.#backoff, this.#retries);
    this.#retries += 1;
    this.#timer = setTimeout(() => this.#connect(), delay);
  }

  /**
   * Stops for a reason a retry cannot change: what waits is refused, and
   * so is what is sent until the app calls `reconnect()`.
   */
  #end(code, reason) {
    this.#ended = true;
    this.#endedWhy = reason;
    this.#rejectWaiting(reason);
    this.#stop(code, reason);
  }

  /** Stops reconnecting, saying why; `reconnect()` or `rename()` go on. */
  #stop(code, reason) {
    clearTimeout(this.#timer);
    this.#attempt += 1;
    this.#setState("closed", { code, reason });
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
      case "delete":
        if (!Number.isInteger(frame.id)) return;
        this.#changes.settle("delete", frame.id, { id: frame.id });
        this.#emit("delete", { id: frame.id });
        return;
      case "edit":
      case "reactions":
        this.#onChange(frame);
        return;
      case "typing":
        if (Array.isArray(frame.users)) {
          this.#emit(
            "typing",
            frame.users.filter((u) => typeof u === "string"),
          );
        }
        return;
      case "error":
        this.#onError(frame);
        return;
      case "role":
        this.#moderator = frame.role === "moderator";
        this.#emit("role", {
          role: frame.role,
          everywhere: frame.everywhere === true,
        });
        return;
      case "moderated":
        this.#emit("moderated", this.#moderations.settle(frame));
        return;
      case "sanctions":
        this.#moderations.listed(frame);
        return;
      case "muted":
      case "unmuted":
        this.#muted = frame.type === "muted";
        this.#emit(frame.type, this.#muted ? banOf(frame, "") : {});
        return;
    }
    const change = presenceChangeOf(frame);
    if (!change) return;
    const { joined, left, renamed } = this.#roster.apply(change);
    for (const rename of renamed) this.#emit("rename", rename);
    this.#emit("presence", { full: false, joined, left, renamed });
  }

  #onChange(frame) {
    if (!Number.isInteger(frame.id)) return;
    const detail = frame.type === "edit"
      ? { id: frame.id, message: frame.message, edited: frame.edited }
      : { id: frame.id, reactions: frame.reactions };
    if (frame.type === "edit" && typeof frame.message !== "string") return;
    if (frame.type === "reactions" && !Array.isArray(frame.reactions)) return;
    this.#changes.settle(frame.type, frame.id, detail);
    this.#emit(frame.type, detail);
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
    this.#retries = 0;
    this.#setState("open");
    for (const cid of waiting) this.#transmit(cid);
  }

  #onError(frame) {
    const error = refusalOf(frame);
    const { code, cid } = error;
    this.#emit("error", error);
    if (error.id !== undefined) {
      this.#changes.refuse(error.id, error);
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
      this.#sendFrame({ type: "message", message: text, cid });
    }
  }

  #sendFrame(frame) {
    const socket = this.#socket;
    if (socket?.readyState === 1) socket.send(JSON.stringify(frame));
  }

  #rejectWaiting(reason) {
    const error = new ChatError("closed", reason || "The connection ended");
    this.#outbox.refuseAll(error);
    this.#renames.refuseAll(error);
    this.#changes.refuseAll(error);
    this.#moderations.refuseAll(error);
  }

  #setState(state, { code, reason } = {}) {
    const changed = state !== this.#state || code !== undefined;
    this.#state = state;
    if (!changed) return;
    const detail = { state };
    if (code !== undefined) detail.code = code;
    if (reason !== undefined) detail.reason = reason;
    this.#emit("state", detail);
  }

  #emit(type, detail) {
    this.dispatchEvent(new CustomEvent(type, { detail }));
  }
}
