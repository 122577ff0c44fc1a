/**
 * Reactions on the room page: the emoji a reader can answer with, and the
 * chips under a message (an emoji and its count; the reader's own
 * highlighted and pressed; who reacted in the chip's title and accessible
 * name). A click on a chip adds or takes back the reader's reaction.
 *
 * @module
 */

/** The emoji the react menu offers. */
export const REACTIONS = ["👍", "❤️", "😂", "😮", "😢", "🎉"];

/** Fills `{name}` placeholders of `template` with plain text values. */
function fill(template, values) {
  return template.replace(
    /\{(\w+)\}/g,
    (whole, key) => Object.hasOwn(values, key) ? String(values[key]) : whole,
  );
}

/** Draws reaction chips and sends the reader's reactions. */
export class Reactions {
  #text;
  #chat;
  #lang;

  constructor({ text, chat, lang }) {
    this.#text = text;
    this.#chat = chat;
    this.#lang = lang;
  }

  /** Adds or takes back the reader's `emoji` on message `id`. */
  toggle(id, emoji) {
    // A refusal reaches the page's `error` listener, which shows it.
    this.#chat.react(id, emoji).catch(() => {});
  }

  /** A button of the react menu. */
  menuButton(emoji) {
    const button = document.createElement("button");
    button.type = "button";
    button.className = "react-with";
    button.textContent = emoji;
    const label = fill(this.#text.reactWith, { emoji });
    button.setAttribute("aria-label", label);
    button.title = label;
    return button;
  }

  /** Shows `reactions`, the whole state, under the message line `item`. */
  show(item, reactions) {
    const id = Number(item.dataset.id);
    item.querySelector(".reactions")?.remove();
    if (reactions.length === 0) return;
    const list = document.createElement("div");
    list.className = "reactions";
    for (const { emoji, count, users } of reactions) {
      const chip = document.createElement("button");
      chip.type = "button";
      chip.className = "reaction";
      const mine = users.includes(this.#chat.you);
      chip.classList.toggle("mine", mine);
      chip.setAttribute("aria-pressed", String(mine));
      const label = fill(this.#text.reactedBy, {
        emoji,
        count: count.toLocaleString(this.#lang),
        users: users.join(", "),
      });
      chip.setAttribute("aria-label", label);
      chip.title = label;
      const face = document.createElement("span");
      face.className = "emoji";
      face.textContent = emoji;
      const number = document.createElement("span");
      number.className = "count";
      number.textContent = count.toLocaleString(this.#lang);
      chip.append(face, " ", number);
      chip.addEventListener("click", () => this.toggle(id, emoji));
      list.append(chip);
    }
    (item.querySelector(".edited") ?? item.querySelector(".text")).after(list);
  }
}
