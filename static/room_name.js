/**
 * The reader's own name in the room's header, and the form that changes it
 * through the client library: connected, the server confirms the new name;
 * offline, the next connection joins under it. A signed user's name is the
 * site's: the form does not open.
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
  #elements;
  #text;
  #chatLog;
  #chat;
  #reasonFor;

  /**
   * `elements` holds the header's `button` and its `label`, the `form`, its
   * `input`, `cancel` button and `error` line; `reasonFor` turns a refusal
   * into the reader's words.
   */
  constructor({ elements, text, chatLog, chat, reasonFor }) {
    this.#elements = elements;
    this.#text = text;
    this.#chatLog = chatLog;
    this.#chat = chat;
    this.#reasonFor = reasonFor;
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
  }

  /** The server refused a rename for `message`. */
  refused(message) {
    const { form, input, error } = this.#elements;
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
    const online = this.#chat.state === "open";
    const renamed = this.#chat.rename(name).then((given) => {
      rememberName(given);
      if (online) this.#dismiss();
    }, (refusal) => {
      if (!online) {
        // The client went back to the name it had.
        rememberName(this.#chat.you);
        this.show(this.#chat.you);
      }
      this.refused(this.#reasonFor(refusal));
    });
    if (online) return renamed; // the server's answer closes the form
    // Offline: the next connection joins under the new name (at once,
    // when the last one ended because the old name was taken).
    rememberName(name);
    this.show(name);
    this.#dismiss();
    return renamed;
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
