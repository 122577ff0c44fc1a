/**
 * The client's link to the server: one socket at a time to the room,
 * opened with the current token and the client's place in the log;
 * reconnects with full jitter; a fresh token when the old one expired; a
 * stop, saying why, on the refusals and close codes that a retry cannot
 * change; and the HTTP calls, with the same token, that end when the
 * client closes. It owns the connection `state` and dispatches its
 * events; the client hears frames and the turns of the link through hooks.
 *
 * @module
 */

import { ChatError } from "./frames.js";
import { askWhyRefused, jitteredDelay, socketUrl } from "./connecting.js";
import { banOf } from "./moderation.js";
import { CHAT_PROTOCOL, CloseCode } from "./protocol.js";

const DEFAULT_BACKOFF = Object.freeze({ baseMs: 500, capMs: 5_000 });

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

/** One socket at a time to one room, and the calls beside it. */
export class Link {
  #base;
  #options;
  #WebSocket;
  #fetch;
  #backoff;
  #hooks;
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
  /** Ends the HTTP calls in flight when the client closes. */
  #calls = new AbortController();

  /**
   * @param {string | URL} url the server's address
   * @param {import("./chat_client.d.ts").ChatClientOptions} options
   * @param {{
   *   place: () => { name: string, key: string, lastId: number, epoch: string },
   *   connecting: () => void,
   *   frame: (frame: object) => void,
   *   dropped: () => void,
   *   unanswered: (error: ChatError) => void,
   *   ended: (reason: string) => void,
   *   nameRefused: (code: string, why: string) => boolean,
   *   emit: (type: string, detail: unknown) => void,
   * }} hooks the client's place in the log; a socket is opening; a frame
   * arrived; the socket went; a socket closed before answering; the
   * connection ended for good; renames made offline were refused (says
   * whether there were any); dispatches an event of the client
   */
  constructor(url, options, hooks) {
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
    if (typeof this.#fetch !== "function") {
      throw new TypeError(
        "No fetch in this runtime: pass one as the fetch option",
      );
    }
    this.#backoff = { ...DEFAULT_BACKOFF, ...options.backoff };
    this.#hooks = hooks;
  }

  get state() {
    return this.#state;
  }
  get closed() {
    return this.#closed;
  }
  /** The server ended the connection: nothing goes out until `reconnect()`. */
  get ended() {
    return this.#ended;
  }
  /** Why the server last ended the connection. */
  get endedWhy() {
    return this.#endedWhy;
  }

  /** Opens the first socket. */
  start() {
    this.#connect();
  }

  /** Sends `frame` when the socket is open; drops it otherwise. */
  send(frame) {
    const socket = this.#socket;
    if (socket?.readyState === 1) socket.send(JSON.stringify(frame));
  }

  /** The client caught up on this socket: it is open, and retries start over. */
  opened() {
    this.#retries = 0;
    this.#setState("open");
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
    this.#calls.abort();
    clearTimeout(this.#timer);
    this.#attempt += 1;
    this.#socket?.close(1000, "Closed by the client");
    this.#socket = undefined;
    this.#hooks.ended("The client is closed");
    this.#setState("closed");
  }

  /** GETs `path` (relative to the server's address) with the token. */
  async get(path) {
    const token = await this.#currentToken();
    return await this.#fetch(new URL(path, this.#base), {
      signal: this.#calls.signal,
      ...(token ? { headers: { Authorization: `Bearer ${token}` } } : {}),
    });
  }

  /** Opens a socket, with `token` when one was just fetched. */
  async #connect(token) {
    clearTimeout(this.#timer);
    const attempt = ++this.#attempt;
    const previous = this.#socket;
    this.#socket = undefined;
    this.#hooks.connecting();
    previous?.close(1000, "Reconnecting");
    if (this.#state !== "connecting") this.#setState("reconnecting");
    let socket;
    let url;
    try {
      token ??= await this.#currentToken();
      if (attempt !== this.#attempt) return;
      url = socketUrl(this.#base, this.#options.room, {
        ...this.#hooks.place(),
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
      if (typeof frame === "object" && frame !== null) this.#hooks.frame(frame);
    });
    socket.addEventListener("close", (event) => {
      if (this.#socket !== socket) return; // replaced or closed on purpose
      this.#socket = undefined;
      this.#hooks.dropped();
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
    this.#hooks.unanswered(
      new ChatError("closed", "The connection closed before the answer"),
    );
    if (code === CloseCode.Banned) {
      this.#end(code, reason || "Banned from this room by a moderator");
      // The GET of the socket's address says until when and why.
      askWhyRefused(this.#fetch, url, this.#calls.signal).then((answer) => {
        const { status, why, body } = answer;
        if (this.#closed) return;
        this.#hooks.emit(
          "banned",
          banOf(status === 403 ? body : {}, why || reason),
        );
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
      if (this.#hooks.nameRefused("name_taken", reason)) {
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
      this.#hooks.emit("banned", banOf(body, why));
      return;
    }
    if (status === 401 && typeof this.#options.token === "function") {
      this.#renewToken(status, why || "The token was refused");
      return;
    }
    if (status === 400 && this.#hooks.nameRefused("bad_name", why)) {
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
    this.#hooks.ended(reason);
    this.#stop(code, reason);
  }

  /** Stops reconnecting, saying why; `reconnect()` or `rename()` go on. */
  #stop(code, reason) {
    clearTimeout(this.#timer);
    this.#attempt += 1;
    this.#setState("closed", { code, reason });
  }

  #setState(state, { code, reason } = {}) {
    const changed = state !== this.#state || code !== undefined;
    this.#state = state;
    if (!changed) return;
    const detail = { state };
    if (code !== undefined) detail.code = code;
    if (reason !== undefined) detail.reason = reason;
    this.#hooks.emit("state", detail);
  }
}
