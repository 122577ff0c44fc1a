/**
 * A first visit's invitation to choose a name: a page with no stored name
 * joins under the guest name the server gives, and this bar above the log
 * offers to change it, prefilled with that name. It never takes the focus
 * from the composer or stands in its way: a visitor who only types and
 * sends stays the guest. Saving a name or keeping the guest one stores it,
 * and the bar does not come back; nor does it for a signed user, whose name
 * is the site's.
 *
 * @module
 */

import { rememberName, storedName } from "./room_storage.js";

/** The invitation bar. */
export class Welcome {
  #elements;
  #chat;
  #reasonFor;
  #composer;
  /** Answered (saved or kept) on this page. */
  #answered = false;

  /**
   * `elements` holds the bar's `form`, its `input`, its `keep` button and
   * its `error` line; `composer` gets the focus back after an answer;
   * `reasonFor` turns a refusal into the reader's words.
   */
  constructor({ elements, chat, reasonFor, composer }) {
    this.#elements = elements;
    this.#chat = chat;
    this.#reasonFor = reasonFor;
    this.#composer = composer;
  }

  /**
   * After each full presence: shows the bar, with the name the server gave
   * (`you`), while no name is stored and the name is not a signed one.
   */
  offer(you, signed) {
    const { form, input } = this.#elements;
    if (this.#answered || signed || storedName() !== "") {
      form.hidden = true;
      return;
    }
    if (!form.hidden) return;
    input.value = you;
    form.hidden = false;
  }

  #finish(name) {
    rememberName(name);
    this.#answered = true;
    this.#elements.form.hidden = true;
    this.#composer.focus();
  }

  #refused(message) {
    const { input, error } = this.#elements;
    error.textContent = message;
    error.hidden = false;
    input.setAttribute("aria-invalid", "true");
    input.focus();
  }

  #save() {
    const { input, error } = this.#elements;
    const name = input.value.trim();
    error.hidden = true;
    input.removeAttribute("aria-invalid");
    if (name === "" || name === this.#chat.you) {
      this.#finish(this.#chat.you);
      return;
    }
    this.#chat.rename(name).then(
      (given) => this.#finish(given),
      (refusal) => this.#refused(this.#reasonFor(refusal)),
    );
  }

  wire() {
    const { form, keep, input, error } = this.#elements;
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.#save();
    });
    keep.addEventListener("click", () => this.#finish(this.#chat.you));
    input.addEventListener("input", () => {
      error.hidden = true;
      input.removeAttribute("aria-invalid");
    });
  }
}
