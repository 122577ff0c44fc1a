/**
 * The room's WebSocket (wss: under https) and the banner that tells the
 * reader its state. Reconnects by itself with capped backoff and full
 * jitter, at once when asked (see `reconnectNow`), and asks with since= for
 * what it missed. A close code that a retry cannot change (the name is
 * taken, the site removed the user, the token expired) stops it; so do
 * repeated refusals by a server that answers.
 *
 * @module
 */

import { CloseCode } from "./close_codes.js";
import { browserKey, storedName, storedToken } from "./room_storage.js";

/**
 * Sockets refused in a row, by a server that answers HTTP, before the page
 * gives up: a refused token is refused again, however often it knocks.
 */
const MAX_REFUSALS = 3;
/** Reconnect delays: full jitter over 0.5 s doubling, capped at 5 s. */
const RETRY_BASE_MS = 500;
const RETRY_CAP_MS = 5_000;

const scheme = globalThis.location.protocol === "https:" ? "wss:" : "ws:";

/**
 * The banner over the log, from its elements: a function that shows
 * `message` (nothing moves) or hides the banner when it is empty, offering
 * "Retry now" when `canRetry`. While it shows, the online list is stale.
 */
export function statusBanner({ banner, label, retry, usersPanel }) {
  return (message, canRetry = false) => {
    label.textContent = message;
    banner.hidden = message === "";
    retry.hidden = !canRetry;
    usersPanel.classList.toggle("stale", message !== "");
  };
}

/** One socket to the room at a time, and the way back when it closes. */
export class Connection {
  #socket;
  /** Reconnects scheduled since the last socket opened. */
  #retries = 0;
  #reconnectTimer;
  /** Sockets refused in a row while the server was reachable. */
  #refusals = 0;
  #options;

  /**
   * `position` is where the log is (`lastId`, `epoch`), for since=;
   * `protocol` the subprotocol to offer; `showStatus` the banner;
   * `onFrame` takes each parsed frame; `onNameTaken` runs when the server
   * closes because another browser holds the name.
   */
  constructor(
    { roomPath, protocol, text, position, showStatus, onFrame, onNameTaken },
  ) {
    this.#options = {
      roomPath,
      protocol,
      text,
      position,
      showStatus,
      onFrame,
      onNameTaken,
    };
  }

  isOpen() {
    return this.#socket?.readyState === WebSocket.OPEN;
  }

  /** Sends `frame` as JSON; the caller checked `isOpen`. */
  send(frame) {
    this.#socket.send(JSON.stringify(frame));
  }

  #url(token) {
    const { position, roomPath } = this.#options;
    const query = new URLSearchParams();
    const name = storedName();
    if (name) query.set("name", name);
    query.set("key", browserKey());
    if (position.lastId > 0) {
      query.set("since", String(position.lastId));
      // The ids of another log name other messages: the server answers a
      // since= of another epoch with fresh history.
      if (position.epoch) query.set("epoch", position.epoch);
    }
    if (token) query.set("token", token);
    return `${scheme}//${globalThis.location.host}/ws/chat/${roomPath}/?${query}`;
  }

  connect() {
    const { text, showStatus, onFrame, onNameTaken, protocol } = this.#options;
    clearTimeout(this.#reconnectTimer);
    if (!this.isOpen()) showStatus(text.connecting, this.#retries > 0);
    const token = storedToken();
    // Offering the subprotocol asks for the typed frames (history, presence).
    const current = new WebSocket(this.#url(token), protocol);
    this.#socket = current;
    let opened = false;
    current.addEventListener("open", () => {
      opened = true;
      this.#retries = 0;
      this.#refusals = 0;
      showStatus("");
    });
    current.addEventListener("message", (event) => {
      if (this.#socket !== current) return; // replaced; its successor catches up
      let frame;
      try {
        frame = JSON.parse(event.data);
      } catch {
        return;
      }
      if (frame && typeof frame === "object") onFrame(frame);
    });
    current.addEventListener("close", (event) => {
      if (this.#socket !== current) return; // replaced on purpose
      if (event.code === CloseCode.NameTaken) {
        // Reconnecting under the same name would be refused again.
        showStatus(text.nameTaken);
        onNameTaken();
        return;
      }
      if (event.code === CloseCode.RemovedBySite) {
        // The site decides whether this user may come back, not the page.
        showStatus(text.removedBySite);
        return;
      }
      if (event.code === CloseCode.TokenExpired) {
        // Only the site can renew a token; the same one is refused again.
        if (storedToken() === token) showStatus(text.tokenExpired);
        else this.connect();
        return;
      }
      showStatus(text.disconnected, true);
      if (opened) this.#scheduleReconnect();
      else this.#retryUnlessRefused(current, token);
    });
  }

  /** Exponential backoff with full jitter, capped so that a page is back soon. */
  #scheduleReconnect() {
    clearTimeout(this.#reconnectTimer);
    const delay = Math.random() *
      Math.min(RETRY_CAP_MS, RETRY_BASE_MS * 2 ** this.#retries);
    this.#retries += 1;
    this.#reconnectTimer = setTimeout(() => this.connect(), delay);
  }

  /**
   * A socket that never opened was refused before the upgrade (401 or 403
   * for a token, a limit) or never reached the server. Browsers hide the
   * status from scripts, so the page asks whether the server answers at all:
   * one that is down is waited for as long as it takes, one that answers yet
   * keeps refusing is taken at its word after a few tries.
   */
  async #retryUnlessRefused(current, token) {
    const { text, showStatus } = this.#options;
    let reachable = true;
    try {
      await fetch(globalThis.location.pathname, {
        method: "HEAD",
        cache: "no-store",
      });
    } catch (error) {
      if (!(error instanceof TypeError)) throw error;
      reachable = false; // fetch rejects with a TypeError on network errors
    }
    if (this.#socket !== current) return; // replaced meanwhile (retry, new token)
    this.#refusals = reachable ? this.#refusals + 1 : 0;
    if (this.#refusals < MAX_REFUSALS) this.#scheduleReconnect();
    else showStatus(token ? text.signInRefused : text.connectionRefused, true);
  }

  /** Reconnects at once: back online, tab visible, new token. */
  reconnectNow() {
    clearTimeout(this.#reconnectTimer);
    const old = this.#socket;
    this.#socket = undefined;
    old?.close(1000, "Reconnecting");
    this.#refusals = 0;
    this.connect();
  }

  /** "Retry now": at once, and with the backoff started over. */
  retryNow() {
    this.#retries = 0;
    this.reconnectNow();
  }

  /** Reconnects at once unless connected or connecting already. */
  reconnectIfDown() {
    const state = this.#socket?.readyState;
    if (state === WebSocket.OPEN || state === WebSocket.CONNECTING) return;
    this.retryNow();
  }
}
