/**
 * Where the reader left off: the page remembers the newest message seen in
 * each room (localStorage, while the page is visible), and on return puts
 * a "New messages" line above the first message that came after it, and
 * scrolls there instead of to the end.
 *
 * @module
 */

import { rememberReadMark, storedReadMark } from "./room_storage.js";

/** The "New messages" line of one room page. */
export class UnreadMark {
  #room;
  #chat;
  #chatLog;
  #text;
  /** The newest id read on an earlier visit. */
  #lastRead;
  /** Messages sent after this (by their `ts`) arrived live, not as unread. */
  #openedAt;
  #divider = null;
  #scrolled = false;

  constructor({ room, chat, chatLog, text, openedAt = Date.now() }) {
    this.#room = room;
    this.#chat = chat;
    this.#chatLog = chatLog;
    this.#text = text;
    this.#lastRead = storedReadMark(room);
    this.#openedAt = openedAt;
  }

  /** Message `frame` is in the log: the first unread one gets the line. */
  #place(frame) {
    if (this.#divider?.isConnected || this.#scrolled) return;
    if (this.#lastRead === 0 || frame.id <= this.#lastRead) return;
    if (!(Date.parse(frame.ts) <= this.#openedAt)) return;
    const item = this.#chatLog.findMessage(frame.id);
    if (!item) return;
    const divider = document.createElement("li");
    divider.className = "unread";
    const label = document.createElement("span");
    label.textContent = this.#text.unread;
    divider.append(label);
    item.before(divider);
    this.#divider = divider;
  }

  #remember() {
    if (document.visibilityState !== "visible") return;
    if (this.#chat.lastId > storedReadMark(this.#room)) {
      rememberReadMark(this.#room, this.#chat.lastId);
    }
  }

  /**
   * Once, when the page is live: scrolls to the "New messages" line and
   * says true, or says false when there is none (scroll to the end then).
   */
  scrollToDivider() {
    if (this.#scrolled) return false;
    this.#scrolled = true;
    if (!this.#divider?.isConnected) return false;
    this.#divider.scrollIntoView({ block: "start" });
    return true;
  }

  wire() {
    this.#chat.addEventListener("message", ({ detail }) => {
      this.#place(detail);
      this.#remember();
    });
    document.addEventListener("visibilitychange", () => this.#remember());
  }
}
