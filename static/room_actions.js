/**
 * What the reader can do to a message: a menu button on each line (shown
 * on hover and focus, always on touch screens), or a long press on the
 * line (room_long_press.js), opening a small panel of actions: to react
 * (room_reactions.js) to any message, to edit or delete the reader's own,
 * and for a moderator to delete anyone's; and the marks of what others did
 * ("(edited)", reaction chips). Refusals reach the reader through the
 * client's `error` event, which the page shows under the composer.
 *
 * @module
 */

import { REACTIONS, Reactions } from "./room_reactions.js";

/** The actions on the messages of one room page. */
export class MessageActions {
  #text;
  #chat;
  #chatLog;
  #startEdit;
  #reactions;
  #isModerator;
  /** The panel open now, with its toggle. */
  #open = null;

  /**
   * `startEdit(id, text)` puts message `id` into the composer to edit;
   * `isModerator()` says whether the reader may delete anyone's message.
   */
  constructor({ text, chat, lang, startEdit, isModerator = () => false }) {
    this.#text = text;
    this.#chat = chat;
    this.#startEdit = startEdit;
    this.#isModerator = isModerator;
    this.#reactions = new Reactions({ text, chat, lang });
  }

  /** The log this works on; set before the first message arrives. */
  set chatLog(chatLog) {
    this.#chatLog = chatLog;
  }

  /** Adds the menu button and the marks of `frame` to its line `item`. */
  decorate(item, frame) {
    if (frame.edited !== undefined) this.#markEdited(item);
    if (frame.reactions) this.#reactions.show(item, frame.reactions);
    const toggle = document.createElement("button");
    toggle.type = "button";
    toggle.className = "actions-toggle";
    toggle.setAttribute("aria-label", this.#text.messageActions);
    toggle.setAttribute("aria-expanded", "false");
    toggle.title = this.#text.messageActions;
    const dots = document.createElement("span");
    dots.setAttribute("aria-hidden", "true");
    dots.textContent = "⋯";
    toggle.append(dots);
    toggle.addEventListener("click", () => {
      if (this.#open?.toggle === toggle) this.close();
      else this.#openPanel(item, toggle);
    });
    item.append(toggle);
  }

  /** Opens the panel of the message line `item`, focus in it. */
  openFor(item) {
    const toggle = item.querySelector(":scope > .actions-toggle");
    if (toggle !== null && this.#open?.toggle !== toggle) {
      this.#openPanel(item, toggle);
    }
  }

  /** Closes the open panel; `refocus` puts focus back on its button. */
  close(refocus = false) {
    if (!this.#open) return;
    const { toggle, panel } = this.#open;
    this.#open = null;
    panel.remove();
    toggle.setAttribute("aria-expanded", "false");
    if (refocus && toggle.isConnected) toggle.focus();
  }

  #button(label, className, action) {
    const button = document.createElement("button");
    button.type = "button";
    button.className = className;
    button.textContent = label;
    button.addEventListener("click", () => {
      this.close(true);
      action();
    });
    return button;
  }

  /** The panel's buttons, built as it opens: a rename changes "mine". */
  #openPanel(item, toggle) {
    this.close();
    const id = Number(item.dataset.id);
    const panel = document.createElement("div");
    panel.className = "actions";
    panel.setAttribute("role", "group");
    panel.setAttribute("aria-label", this.#text.messageActions);
    const mine = item.classList.contains("mine");
    if (mine) {
      panel.append(
        this.#button(this.#text.edit, "edit", () => {
          this.#startEdit(id, item.querySelector(".text").textContent);
        }),
      );
    }
    if (mine || this.#isModerator()) {
      panel.append(
        this.#button(this.#text.delete, "delete", () => {
          // A refusal reaches the page's `error` listener, which shows it.
          this.#chat.delete(id).catch(() => {});
        }),
      );
    }
    for (const emoji of REACTIONS) {
      const button = this.#reactions.menuButton(emoji);
      button.addEventListener("click", () => {
        this.close(true);
        this.#reactions.toggle(id, emoji);
      });
      panel.append(button);
    }
    panel.addEventListener("keydown", (event) => {
      if (event.key === "Escape") {
        event.preventDefault();
        this.close(true);
      }
    });
    toggle.after(panel);
    toggle.setAttribute("aria-expanded", "true");
    this.#open = { toggle, panel };
    panel.querySelector("button")?.focus();
  }

  #markEdited(item) {
    if (item.querySelector(".edited")) return;
    const mark = document.createElement("span");
    mark.className = "edited";
    mark.textContent = this.#text.edited;
    item.querySelector(".text").after(mark);
  }

  /** Message `id` has a new text. */
  edited({ id, message }) {
    const item = this.#chatLog.findMessage(id);
    if (!item) return;
    this.#chatLog.showText(item, message);
    this.#markEdited(item);
  }

  wire() {
    this.#chat.addEventListener("edit", ({ detail }) => this.edited(detail));
    this.#chat.addEventListener("reactions", ({ detail }) => {
      const item = this.#chatLog.findMessage(detail.id);
      if (item) this.#reactions.show(item, detail.reactions);
    });
    // A click elsewhere closes the panel.
    document.addEventListener("click", (event) => {
      if (
        this.#open && !this.#open.toggle.parentElement.contains(event.target)
      ) {
        this.close();
      }
    });
  }
}
