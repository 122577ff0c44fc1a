/**
 * The moderator's dialog to mute or ban someone: a modal `<dialog>` (the
 * browser keeps focus inside it, Escape closes it, focus returns to the
 * button that opened it) with a choice of duration (10 minutes, 1 hour,
 * 1 day, for good), a reason the person will read, and the refusal, if
 * any, in the dialog itself. Built from elements and text nodes only.
 *
 * @module
 */

import { fillTemplate } from "./room_text.js";

/** The durations offered, in seconds (null: for good), by their word. */
const DURATIONS = [
  ["tenMinutes", 600],
  ["oneHour", 3_600],
  ["oneDay", 86_400],
  ["forGood", null],
];

/** The most characters of a reason; the server cuts a close reason shorter. */
const MAX_REASON_CHARS = 200;

/** Makes an element with a class and children. */
function element(tag, className, ...children) {
  const made = document.createElement(tag);
  if (className) made.className = className;
  made.append(...children);
  return made;
}

/** One dialog, reused for each mute or ban. */
export class SanctionDialog {
  #text;
  #act;
  #reasonFor;
  #dialog;
  #title;
  #form;
  #reason;
  /** The ban's "every room" choice, and the line that holds it. */
  #everywhere;
  #everywhereLine;
  #mayBanEverywhere;
  #error;
  #submit;
  /** What the open dialog does: `{ kind, user, refocus, opener }`. */
  #target = null;
  #busy = false;

  /**
   * `text` is the moderation text; `act({ kind, user, duration, reason,
   * everywhere })` carries it out and resolves, or rejects with the
   * server's refusal, which `reasonFor` puts in the reader's words;
   * `mayBanEverywhere()` says whether a ban may be for every room.
   */
  constructor({ text, act, reasonFor, mayBanEverywhere }) {
    this.#text = text;
    this.#act = act;
    this.#reasonFor = reasonFor;
    this.#mayBanEverywhere = mayBanEverywhere;
    this.#build();
  }

  #build() {
    const text = this.#text;
    this.#dialog = element("dialog", "moderation-dialog");
    this.#dialog.setAttribute("aria-labelledby", "moderation-dialog-title");
    this.#title = element("h2");
    this.#title.id = "moderation-dialog-title";
    const legend = element("legend", "", text.duration);
    const choices = element("fieldset", "durations", legend);
    for (const [word, seconds] of DURATIONS) {
      const radio = document.createElement("input");
      radio.type = "radio";
      radio.name = "duration";
      radio.value = seconds === null ? "" : String(seconds);
      radio.defaultChecked = seconds === 600;
      choices.append(element("label", "", radio, " ", text[word]));
    }
    this.#reason = document.createElement("input");
    this.#reason.type = "text";
    this.#reason.id = "moderation-reason";
    this.#reason.maxLength = MAX_REASON_CHARS;
    this.#reason.autocomplete = "off";
    this.#reason.setAttribute(
      "aria-describedby",
      "moderation-reason-hint moderation-error",
    );
    const label = element("label", "", text.reason);
    label.htmlFor = this.#reason.id;
    this.#everywhere = document.createElement("input");
    this.#everywhere.type = "checkbox";
    this.#everywhere.id = "moderation-everywhere";
    this.#everywhereLine = element(
      "label",
      "everywhere",
      this.#everywhere,
      " ",
      text.everyRoom,
    );
    const hint = element("p", "hint", text.reasonHint);
    hint.id = "moderation-reason-hint";
    this.#error = element("p", "form-error");
    this.#error.id = "moderation-error";
    this.#error.setAttribute("role", "alert");
    this.#error.hidden = true;
    const cancel = element("button", "", text.cancel);
    cancel.type = "button";
    cancel.addEventListener("click", () => this.close());
    this.#submit = element("button", "primary");
    this.#submit.type = "submit";
    this.#form = element(
      "form",
      "",
      this.#title,
      choices,
      element("div", "reason", label, this.#reason, hint),
      this.#everywhereLine,
      this.#error,
      element("div", "row", cancel, this.#submit),
    );
    this.#form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.#confirm();
    });
    this.#dialog.append(this.#form);
    document.body.append(this.#dialog);
  }

  /** Whether the dialog is open. */
  get isOpen() {
    return this.#dialog.open;
  }

  /**
   * Opens the dialog to `kind` ("mute" or "ban") `user`; `refocus()` puts
   * focus back once it is done, when the button that opened it is gone.
   */
  open(kind, user, refocus = () => {}) {
    const text = this.#text;
    this.#target = { kind, user, refocus, opener: document.activeElement };
    this.#title.replaceChildren(
      ...fillTemplate(kind === "ban" ? text.banUser : text.muteUser, { user }),
    );
    this.#submit.textContent = kind === "ban" ? text.ban : text.mute;
    this.#submit.className = kind === "ban" ? "primary danger" : "primary";
    this.#form.reset();
    this.#everywhereLine.hidden = kind !== "ban" || !this.#mayBanEverywhere();
    this.#showError("");
    this.#setBusy(false);
    // Focus returns to the opener when the dialog closes (the browser's rule).
    this.#dialog.showModal();
    this.#form.querySelector("input[name=duration]:checked")?.focus();
  }

  close() {
    this.#target = null;
    if (this.#dialog.open) this.#dialog.close();
  }

  #showError(message) {
    this.#error.textContent = message;
    this.#error.hidden = message === "";
  }

  #setBusy(busy) {
    this.#busy = busy;
    this.#submit.setAttribute("aria-disabled", String(busy));
  }

  async #confirm() {
    if (this.#busy || !this.#target) return;
    const chosen = this.#form.querySelector("input[name=duration]:checked");
    const duration = chosen?.value ? Number(chosen.value) : null;
    const reason = this.#reason.value.trim();
    const everywhere = !this.#everywhereLine.hidden && this.#everywhere.checked;
    const target = this.#target;
    this.#setBusy(true);
    this.#showError("");
    try {
      const { kind, user } = target;
      await this.#act({ kind, user, duration, reason, everywhere });
      if (this.#target === target) {
        this.close();
        // Focus went back to the opener, which a redraw may have replaced.
        if (!target.opener?.isConnected) target.refocus();
      }
    } catch (error) {
      if (!(error instanceof Error)) throw error;
      if (this.#target === target) this.#showError(this.#reasonFor(error));
    } finally {
      this.#setBusy(false);
    }
  }
}
