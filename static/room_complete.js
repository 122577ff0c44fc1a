/**
 * `@` completion in the composer: typing `@` and the start of a name lists
 * the matching people from the Online list under the caret's word. ↑ and ↓
 * move, Enter or Tab puts `@name ` in, Escape closes. The textarea points
 * at the chosen option with aria-activedescendant, so screen readers read
 * it while focus stays in the composer.
 *
 * @module
 */

/** At most this many names are offered at once. */
const MAX_OPTIONS = 8;

/** `@` and the start of a name, just before the caret. */
const MENTION_AT_CARET = /(?:^|\s)@([\p{L}\p{N}_.-]*)$/u;

/** The mention listbox of the composer. */
export class MentionCompletion {
  #input;
  #list;
  #chat;
  #lang;
  /** Where the `@` is in the composer, while the list is open. */
  #start = -1;
  #names = [];
  #active = 0;

  constructor({ input, list, chat, lang }) {
    this.#input = input;
    this.#list = list;
    this.#chat = chat;
    this.#lang = lang;
  }

  get isOpen() {
    return !this.#list.hidden;
  }

  close() {
    this.#list.hidden = true;
    this.#list.replaceChildren();
    this.#names = [];
    this.#start = -1;
    this.#input.removeAttribute("aria-activedescendant");
  }

  /** Lists the names matching the `@word` before the caret, if any. */
  #update() {
    const caret = this.#input.selectionEnd;
    const match = MENTION_AT_CARET.exec(this.#input.value.slice(0, caret));
    if (!match) return this.close();
    const query = match[1].toLowerCase();
    const me = this.#chat.you;
    this.#names = [...this.#chat.online.keys()]
      .filter((name) => name !== me && name.toLowerCase().startsWith(query))
      .sort((a, b) => a.localeCompare(b, this.#lang))
      .slice(0, MAX_OPTIONS);
    if (this.#names.length === 0) return this.close();
    this.#start = caret - match[1].length - 1;
    this.#active = 0;
    this.#list.replaceChildren(...this.#names.map((name, index) => {
      const option = document.createElement("li");
      option.id = `chat-mention-${index}`;
      option.setAttribute("role", "option");
      const bdi = document.createElement("bdi");
      bdi.textContent = name;
      option.append(bdi);
      // mousedown, not click: the composer keeps focus and its caret.
      option.addEventListener("mousedown", (event) => {
        event.preventDefault();
        this.#pick(index);
      });
      return option;
    }));
    this.#list.hidden = false;
    this.#highlight();
  }

  #highlight() {
    for (const [index, option] of [...this.#list.children].entries()) {
      option.setAttribute("aria-selected", String(index === this.#active));
    }
    this.#input.setAttribute(
      "aria-activedescendant",
      `chat-mention-${this.#active}`,
    );
    this.#list.children[this.#active]?.scrollIntoView({ block: "nearest" });
  }

  /** Puts `@name ` in place of the `@word` being typed. */
  #pick(index) {
    const name = this.#names[index];
    const { value, selectionEnd } = this.#input;
    const inserted = `@${name} `;
    this.#input.value = value.slice(0, this.#start) + inserted +
      value.slice(selectionEnd);
    const caret = this.#start + inserted.length;
    this.#input.setSelectionRange(caret, caret);
    this.close();
  }

  /** Handles the list's keys; says whether the key was used. */
  #key(event) {
    if (!this.isOpen || event.isComposing) return false;
    const count = this.#names.length;
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      const step = event.key === "ArrowDown" ? 1 : count - 1;
      this.#active = (this.#active + step) % count;
      this.#highlight();
    } else if (
      (event.key === "Enter" && !event.shiftKey) || event.key === "Tab"
    ) {
      this.#pick(this.#active);
    } else if (event.key === "Escape") {
      this.close();
    } else {
      return false;
    }
    return true;
  }

  /** Wire before the composer's own keys: the list's keys come first. */
  wire() {
    this.#input.addEventListener("keydown", (event) => {
      if (!this.#key(event)) return;
      event.preventDefault();
      event.stopImmediatePropagation();
    });
    this.#input.addEventListener("input", () => this.#update());
    this.#input.addEventListener("blur", () => this.close());
  }
}
