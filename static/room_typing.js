/**
 * Who else is typing, in one line above the composer ("Alice is typing…"),
 * a polite live region so that screen readers say it between other
 * things; and the reader's own typing, told to the room through the client
 * library (which sends at most one frame every 3 s).
 *
 * @module
 */

import { fillTemplate } from "./room_text.js";

/** The "is typing" line of the room page. */
export class TypingLine {
  #line;
  #input;
  #text;
  #chat;

  /** `line` is the live region, `input` the composer's field. */
  constructor({ line, input, text, chat }) {
    this.#line = line;
    this.#input = input;
    this.#text = text;
    this.#chat = chat;
  }

  /** Shows who types among `users` (the reader is never among them). */
  show(users) {
    const text = this.#text;
    if (users.length === 0) {
      this.#line.replaceChildren();
    } else if (users.length === 1) {
      this.#line.replaceChildren(
        ...fillTemplate(text.typingOne, { user: users[0] }),
      );
    } else if (users.length === 2) {
      this.#line.replaceChildren(
        ...fillTemplate(text.typingTwo, { first: users[0], second: users[1] }),
      );
    } else {
      this.#line.replaceChildren(text.typingMany);
    }
  }

  wire() {
    this.#chat.addEventListener("typing", ({ detail }) => this.show(detail));
    this.#input.addEventListener("input", () => {
      if (this.#input.value.trim() !== "") this.#chat.typing();
    });
  }
}
