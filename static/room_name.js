/**
 * The reader's own name in the room's header, and the form that changes it:
 * a rename goes to the server while connected (the next presence frame
 * confirms it), and while offline the name is kept for the next connection.
 * A signed user's name is the site's: the form does not open.
 *
 * @module
 */

import { rememberName } from "./room_storage.js";

/** The reader's name and the form to change it. */
export class NameForm {
  /** The name this page is in the room under. */
  me = "";
  /** The server vouches for this page's name (a signed user). */
  signedIn = false;
  /** A rename was sent; the next presence frame says what it became. */
  #renaming = false;
  #elements;
  #text;
  #chatLog;
  #connection;

  /**
   * `elements` holds the header's `button` and its `label`, the `form`, its
   * `input`, `cancel` button and `error` line.
   */
  constructor({ elements, text, chatLog, connection }) {
    this.#elements = elements;
    this.#text = text;
    this.#chatLog = chatLog;
    this.#connection = connection;
  }

  /** Shows `name` as the reader's own, in the header and on their lines. */
  show(name) {
    const { button, label } = this.#elements;
    this.me = name;
    label.textContent = name;
    button.setAttribute(
      "aria-label",
      this.signedIn ? name : this.#text.changeNameOf.split("{user}").join(name),
    );
    button.disabled = this.signedIn;
    button.classList.toggle("signed", this.signedIn);
    this.#chatLog.markOwn(name);
  }

  open() {
    if (this.signedIn) return;
    const { button, form, input, error } = this.#elements;
    form.hidden = false;
    button.setAttribute("aria-expanded", "true");
    input.value = this.me;
    error.hidden = true;
    input.focus();
    input.select();
  }

  close() {
    const { button, form } = this.#elements;
    form.hidden = true;
    button.setAttribute("aria-expanded", "false");
    this.#renaming = false;
  }

  /** Closes the form and gives the focus back to the name. */
  #dismiss() {
    this.close();
    this.#elements.button.focus();
  }

  /** The server's name in the room, from a presence frame. */
  confirmed(name, signedIn) {
    this.signedIn = signedIn;
    this.show(name);
    if (this.#renaming) {
      rememberName(name);
      this.#dismiss();
    }
  }

  /** The server refused a rename for `message`. */
  refused(message) {
    const { form, input, error } = this.#elements;
    this.#renaming = false;
    form.hidden = false;
    error.textContent = message;
    error.hidden = false;
    input.setAttribute("aria-invalid", "true");
    input.focus();
  }

  #rename() {
    const { input, error } = this.#elements;
    const name = input.value.trim();
    if (name === "" || name === this.me) {
      this.#dismiss();
      return;
    }
    input.removeAttribute("aria-invalid");
    error.hidden = true;
    if (this.#connection.isOpen()) {
      // One rename for the room; the new presence frame confirms it.
      this.#renaming = true;
      this.#connection.send({ type: "rename", name });
      return;
    }
    // Offline: the next connection simply joins under the new name (at
    // once, when the last one ended because the old name was taken).
    rememberName(name);
    this.show(name);
    this.#dismiss();
    this.#connection.reconnectIfDown();
  }

  wire() {
    const { button, form, cancel } = this.#elements;
    button.addEventListener("click", () => {
      if (form.hidden) this.open();
      else this.close();
    });
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.#rename();
    });
    cancel.addEventListener("click", () => this.#dismiss());
    form.addEventListener("keydown", (event) => {
      if (event.key === "Escape") this.#dismiss();
    });
  }
}
