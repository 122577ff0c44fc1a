/**
 * The composer and what it sent: each message gets a cid and a pending line
 * in the log until the server's copy of it arrives. Whatever the server has
 * not confirmed goes out again after a reconnect (the server stores a cid
 * once); a refused message goes back into the composer, or, when the
 * composer holds something newer, stays in the log marked "not sent" with a
 * way to send it again.
 *
 * @module
 */

/** Refusals after which a message cannot simply be sent again later. */
const FINAL_REFUSALS = new Set(["empty", "too_long", "bad_frame"]);

/** Messages sent or typed but not yet confirmed by the server. */
export class Outbox {
  /** Unconfirmed messages by their cid: `{ message, line }`. */
  #pending = new Map();
  #elements;
  #text;
  #chatLog;
  #connection;

  /** `elements` holds the `composer` form, its `input` and `error` line. */
  constructor({ elements, text, chatLog, connection }) {
    this.#elements = elements;
    this.#text = text;
    this.#chatLog = chatLog;
    this.#connection = connection;
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

  #markNotSent(cid, reason, canRetry) {
    const item = this.#pending.get(cid);
    if (!item) return;
    const text = this.#text;
    item.line.classList.replace("pending", "failed");
    const state = item.line.querySelector(".state");
    state.textContent = `${text.notSent} ${reason}`;
    if (canRetry) {
      const again = document.createElement("button");
      again.type = "button";
      again.className = "send-again";
      again.textContent = text.sendAgain;
      again.addEventListener("click", () => {
        item.line.classList.replace("failed", "pending");
        state.textContent = text.pending;
        again.remove();
        this.#transmit(cid);
      });
      state.after(again);
    } else {
      this.#pending.delete(cid); // never sent again; the line stays as a record
    }
  }

  #transmit(cid) {
    const item = this.#pending.get(cid);
    if (
      item && this.#connection.isOpen() &&
      !item.line.classList.contains("failed")
    ) {
      this.#connection.send({ type: "message", message: item.message, cid });
    }
  }

  /** The server's copy of message `cid` arrived: its pending line goes. */
  settle(cid) {
    this.#pending.get(cid)?.line.remove();
    this.#pending.delete(cid);
  }

  /** Shows the unconfirmed lines below fresh history and sends them again. */
  resendAll() {
    for (const item of this.#pending.values()) {
      this.#chatLog.appendLine(item.line);
    }
    for (const cid of this.#pending.keys()) this.#transmit(cid);
  }

  /** Shows `reason` under the composer. */
  showError(reason) {
    const { error } = this.#elements;
    error.textContent = reason;
    error.hidden = false;
  }

  /** The server refused message `cid` with `code`, for `reason`. */
  refused(cid, code, reason) {
    const item = typeof cid === "string" ? this.#pending.get(cid) : undefined;
    if (!item) {
      this.showError(reason);
      return;
    }
    const { input } = this.#elements;
    if (input.value === "") {
      // Back into the composer, with the reason under it: nothing is lost.
      this.settle(cid);
      input.value = item.message;
      this.showError(reason);
      input.focus();
      return;
    }
    // The composer holds something newer: the line stays, marked, with a
    // way to send it again (unless sending it again cannot work).
    this.#markNotSent(cid, reason, !FINAL_REFUSALS.has(code));
  }

  #send() {
    const { input, error } = this.#elements;
    const message = input.value;
    error.hidden = true;
    if (message.trim() === "") return;
    const cid = crypto.randomUUID();
    const line = this.#pendingLine(message);
    this.#pending.set(cid, { message, line });
    this.#chatLog.appendLine(line, { own: true });
    input.value = "";
    input.focus();
    this.#transmit(cid);
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
      }
    });
    input.addEventListener("input", () => {
      error.hidden = true;
    });
  }
}
