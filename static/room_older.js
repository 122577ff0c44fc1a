/**
 * Older messages on demand: the "load older" button above the log fetches
 * the page before the oldest one shown from the room's messages API (with
 * the token, where rooms are private) and puts it on top.
 *
 * @module
 */

import { isMessage } from "./room_frames.js";
import { storedToken } from "./room_storage.js";

const PAGE_SIZE = 50;

/** The "load older" button and the page it is fetching. */
export class OlderHistory {
  #loading = false;
  #button;
  #log;
  #position;
  #chatLog;
  #roomPath;

  /**
   * `log` takes the focus when the button goes away; `position.oldestId`
   * is the oldest message shown.
   */
  constructor({ button, log, position, chatLog, roomPath }) {
    this.#button = button;
    this.#log = log;
    this.#position = position;
    this.#chatLog = chatLog;
    this.#roomPath = roomPath;
  }

  /** Offers the button while there are older messages than those shown. */
  offer() {
    this.#button.hidden = !(this.#position.oldestId > 1);
  }

  async #load() {
    const position = this.#position;
    const button = this.#button;
    // aria-disabled, not disabled: a disabled button loses keyboard focus.
    if (!position.oldestId || this.#loading) return;
    this.#loading = true;
    button.setAttribute("aria-disabled", "true");
    try {
      const token = storedToken();
      // Rooms are private where tokens are required: the API wants one too.
      const response = await fetch(
        `/api/rooms/${this.#roomPath}/messages?before=${position.oldestId}&limit=${PAGE_SIZE}`,
        token ? { headers: { Authorization: `Bearer ${token}` } } : {},
      );
      if (!response.ok) return;
      const { messages } = await response.json();
      const older = (Array.isArray(messages) ? messages : []).filter(
        isMessage,
      );
      this.#chatLog.prependMessages(older);
      if (older.length) position.oldestId = older[0].id;
      button.hidden = older.length < PAGE_SIZE || position.oldestId <= 1;
    } finally {
      this.#loading = false;
      button.removeAttribute("aria-disabled");
      // The button went away with the last page: focus the log instead.
      if (button.hidden && document.activeElement === document.body) {
        this.#log.focus({ preventScroll: true });
      }
    }
  }

  wire() {
    this.#button.addEventListener("click", () => this.#load());
  }
}
