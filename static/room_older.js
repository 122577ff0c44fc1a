/**
 * Older messages on demand: the "load older" button above the log asks the
 * client library for the page before the oldest message shown (the rooms'
 * messages API, with the token where rooms are private) and puts it on top.
 *
 * @module
 */

const PAGE_SIZE = 50;

/** The "load older" button and the page it is fetching. */
export class OlderHistory {
  #loading = false;
  #button;
  #log;
  #chatLog;
  #chat;

  /** `log` takes the focus when the button goes away. */
  constructor({ button, log, chatLog, chat }) {
    this.#button = button;
    this.#log = log;
    this.#chatLog = chatLog;
    this.#chat = chat;
  }

  /** Offers the button while there are older messages than those shown. */
  offer() {
    this.#button.hidden = !(this.#chat.oldestId > 1);
  }

  async #load() {
    const button = this.#button;
    // aria-disabled, not disabled: a disabled button loses keyboard focus.
    if (!this.#chat.oldestId || this.#loading) return;
    this.#loading = true;
    button.setAttribute("aria-disabled", "true");
    try {
      const older = await this.#chat.loadOlder(PAGE_SIZE);
      this.#chatLog.prependMessages(older);
      button.hidden = older.length < PAGE_SIZE || this.#chat.oldestId <= 1;
    } catch (error) {
      // A refused or failed page leaves the button to try again.
      if (!(error instanceof Error)) throw error;
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
