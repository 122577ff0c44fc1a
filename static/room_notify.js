/**
 * Being called while away: when the tab is hidden, the title counts the
 * messages that arrived, `(3) Chat room: lobby`, and a message mentioning
 * the reader raises a browser notification. Permission is asked only after
 * a click on the bell in the header, never on load; the bell's pressed
 * state says whether notifications are on.
 *
 * @module
 */

import { rememberNotify, storedNotify } from "./room_storage.js";
import { mentions } from "./room_text.js";

/** The bell, the hidden-tab count and the mention notifications. */
export class MentionNotifier {
  #bell;
  #text;
  #chat;
  #chatLog;
  #room;
  #title = document.title;
  #on = false;
  #unread = 0;
  /** Messages up to this id arrived before the tab was hidden. */
  #seen = 0;

  constructor({ bell, text, chat, chatLog, room }) {
    this.#bell = bell;
    this.#text = text;
    this.#chat = chat;
    this.#chatLog = chatLog;
    this.#room = room;
  }

  #permission() {
    return "Notification" in globalThis
      ? globalThis.Notification.permission
      : "unsupported";
  }

  #show() {
    const permission = this.#permission();
    this.#bell.hidden = permission === "unsupported";
    this.#bell.disabled = permission === "denied";
    this.#bell.setAttribute("aria-pressed", String(this.#on));
    const label = permission === "denied"
      ? this.#text.notifyBlocked
      : this.#on
      ? this.#text.notifyOn
      : this.#text.notifyOff;
    this.#bell.title = label;
    this.#bell.querySelector(".visually-hidden").textContent = label;
  }

  /**
   * Turning on asks the browser (it answers at once when already granted);
   * the choice is remembered so the bell stays on across visits.
   */
  async #toggle() {
    if (this.#on) {
      this.#on = false;
    } else if (this.#permission() !== "unsupported") {
      this.#on = await globalThis.Notification.requestPermission() ===
        "granted";
    }
    rememberNotify(this.#on);
    this.#show();
  }

  #arrived(frame) {
    if (document.visibilityState !== "hidden" || frame.id <= this.#seen) {
      return;
    }
    this.#seen = frame.id;
    const me = this.#chatLog.me ?? "";
    if (frame.user === me) return;
    this.#unread += 1;
    document.title = `(${this.#unread}) ${this.#title}`;
    if (!this.#on || !mentions(frame.message, me)) return;
    new globalThis.Notification(
      this.#text.mentionedBy.split("{user}").join(frame.user),
      { body: frame.message, tag: `chat-${this.#room}-${frame.id}` },
    );
  }

  #visibility() {
    if (document.visibilityState === "hidden") {
      this.#seen = Math.max(this.#seen, this.#chat.lastId);
      return;
    }
    this.#unread = 0;
    document.title = this.#title;
  }

  wire() {
    this.#on = storedNotify() && this.#permission() === "granted";
    this.#show();
    this.#bell.addEventListener("click", () => this.#toggle());
    this.#chat.addEventListener(
      "message",
      ({ detail }) => this.#arrived(detail),
    );
    document.addEventListener("visibilitychange", () => this.#visibility());
  }
}
