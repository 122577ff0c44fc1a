/**
 * The composer and what it sent: each message shows as a pending line in
 * the log until the client library has the server's copy of it (the
 * library resends it after a reconnect, stored once). A refused message
 * goes back into the composer, or, when the composer holds something
 * newer, stays in the log marked "not sent" with a way to send it again.
 *
 * @module
 */

/** Refusals after which a message cannot simply be sent again later. */
const FINAL_REFUSALS = new Set([
  "empty",
  "too_long",
  "bad_frame",
  "rejected",
  "closed",
]);

/** Messages sent or typed but not yet confirmed by the server. */
export class Outbox {
  /** The pending lines, in the order sent. */
  #lines = new Set();
  #elements;
  #text;
  #chatLog;
  #chat;
  #reasonFor;
  /** The id of the reader's message the composer edits, or null. */
  #editing = null;

  /**
   * `elements` holds the `composer` form, its `input`, `error` line and
   * `editing` hint; `reasonFor` turns a refusal into the reader's words.
   */
  constructor({ elements, text, chatLog, chat, reasonFor }) {
    this.#elements = elements;
    this.#text = text;
    this.#chatLog = chatLog;
    this.#chat = chat;
    this.#reasonFor = reasonFor;
  }

  #pendingLine(message) {
    const item = document.createElement("li");
    item.className = "message pending mine";
    const body = document.createElement("bdi");
    body.className = "text";
    body.textContent = message;
    const state = document.createElement("span");
    state.className = "state";
    state.textContent = this.#text.pending;
    item.append(body, state);
    return item;
  }

  /** Sends `message`, shown by `line` until the server's copy arrives. */
  #transmit(message, line) {
    this.#lines.add(line);
    this.#chat.send(message).then(
      () => {
        this.#lines.delete(line);
        line.remove();
      },
      (error) => {
        this.#lines.delete(line);
        this.#refused(message, line, error);
      },
    );
  }

  #markNotSent(message, line, reason, canRetry) {
    const text = this.#text;
    line.classList.replace("pending", "failed");
    const state = line.querySelector(".state");
    state.textContent = `${text.notSent} ${reason}`;
    if (!canRetry) return; // never sent again; the line stays as a record
    const again = document.createElement("button");
    again.type = "button";
    again.className = "send-again";
    again.textContent = text.sendAgain;
    again.addEventListener("click", () => {
      line.classList.replace("failed", "pending");
      state.textContent = text.pending;
      again.remove();
      this.#transmit(message, line);
    });
    state.after(again);
  }

  /** The server or the client refused `message` for `error`. */
  #refused(message, line, error) {
    const reason = this.#reasonFor(error);
    const { input } = this.#elements;
    if (input.value === "") {
      // Back into the composer, with the reason under it: nothing is lost.
      line.remove();
      input.value = message;
      this.showError(reason);
      input.focus();
      return;
    }
    // The composer holds something newer: the line stays, marked, with a
    // way to send it again (unless sending it again cannot work).
    this.#markNotSent(message, line, reason, !FINAL_REFUSALS.has(error.code));
  }

  /** Shows the pending lines below the newest messages, in order. */
  showPendingLast() {
    for (const line of this.#lines) this.#chatLog.appendLine(line);
  }

  /** Shows `reason` under the composer. */
  showError(reason) {
    const { error } = this.#elements;
    error.textContent = reason;
    error.hidden = false;
  }

  /** Puts the reader's message `id` into the composer to edit it. */
  startEdit(id, message) {
    const { input, composer, editing } = this.#elements;
    this.#editing = id;
    composer.classList.add("editing");
    editing.hidden = false;
    input.value = message;
    input.focus();
    input.setSelectionRange(message.length, message.length);
  }

  /** Leaves the edit; the composer is empty again. */
  cancelEdit() {
    const { input, composer, editing } = this.#elements;
    this.#editing = null;
    composer.classList.remove("editing");
    editing.hidden = true;
    input.value = "";
  }

  #sendEdit(id, message) {
    this.cancelEdit();
    // A refusal reaches the page's `error` listener, which shows it.
    this.#chat.edit(id, message).catch(() => {});
  }

  #send() {
    const { input, error } = this.#elements;
    const message = input.value;
    error.hidden = true;
    if (message.trim() === "") return;
    if (this.#editing !== null) {
      this.#sendEdit(this.#editing, message);
      return;
    }
    const line = this.#pendingLine(message);
    this.#chatLog.appendLine(line, { own: true });
    input.value = "";
    input.focus();
    this.#transmit(message, line);
  }

  wire() {
    const { composer, input, error } = this.#elements;
    composer.addEventListener("submit", (event) => {
      event.preventDefault();
      this.#send();
    });
    input.addEventListener("keydown", (event) => {
      // Enter sends; Shift+Enter is a new line; an IME's Enter picks a word.
      if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
        event.preventDefault();
        this.#send();
        return;
      }
      if (event.isComposing) return;
      // ↑ in an empty composer edits the reader's newest message.
      if (event.key === "ArrowUp" && input.value === "") {
        const own = this.#chatLog.lastOwnMessage();
        if (own) {
          event.preventDefault();
          this.startEdit(
            Number(own.dataset.id),
            own.querySelector(".text").textContent,
          );
        }
      }
      if (event.key === "Escape" && this.#editing !== null) {
        event.preventDefault();
        this.cancelEdit();
      }
    });
    input.addEventListener("input", () => {
      error.hidden = true;
    });
  }
}
