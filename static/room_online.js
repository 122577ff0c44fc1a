/**
 * Who is online in the room: the list (names with their verified mark, the
 * reader's own marked, "and N more" past what the server listed), the count
 * in the header, and the panel that opens as a side column on a wide screen
 * and over the log on a phone.
 *
 * @module
 */

import { fillTemplate, verifiedMark } from "./room_log.js";

/** The list of people online, kept from presence frames. */
export class OnlineList {
  /** Names online, each with whether a signed identity holds it. */
  #online = new Map();
  /** People online in all; the presence frame lists the first ones only. */
  #count = 0;
  #list;
  #panel;
  #toggle;
  #countText;
  #chatLog;
  #text;
  #lang;
  #me;

  /**
   * `me` answers the reader's current name, marked in the list and not
   * announced in the log when it joins.
   */
  constructor({ list, panel, toggle, countText, chatLog, text, lang, me }) {
    this.#list = list;
    this.#panel = panel;
    this.#toggle = toggle;
    this.#countText = countText;
    this.#chatLog = chatLog;
    this.#text = text;
    this.#lang = lang;
    this.#me = me;
  }

  /** Whether a signed identity holds `name`. */
  isVerified(name) {
    return this.#online.get(name) === true;
  }

  /** Takes the whole list of a presence frame; `render` shows it. */
  replace(users, count) {
    this.#online.clear();
    for (const user of users) {
      if (typeof user?.name === "string") {
        this.#online.set(user.name, user.verified === true);
      }
    }
    this.#count = Number.isInteger(count) ? count : this.#online.size;
  }

  render() {
    const online = this.#online;
    const me = this.#me();
    const names = [...online.keys()].sort((a, b) =>
      a.localeCompare(b, this.#lang)
    );
    this.#list.replaceChildren(...names.map((name) => {
      const item = document.createElement("li");
      const bdi = document.createElement("bdi");
      bdi.textContent = name;
      item.append(bdi);
      if (online.get(name)) item.append(verifiedMark(this.#text.verified));
      if (name === me) item.className = "me";
      return item;
    }));
    const more = this.#count - online.size;
    if (more > 0) {
      const item = document.createElement("li");
      item.className = "more";
      item.append(
        ...fillTemplate(this.#text.moreOnline, { count: String(more) }),
      );
      this.#list.append(item);
    }
    this.#countText.textContent = this.#count.toLocaleString(this.#lang);
  }

  #add(user, verified) {
    if (!this.#online.has(user)) this.#count += 1;
    this.#online.set(user, verified);
  }

  #remove(user) {
    if (this.#online.delete(user) || this.#count > this.#online.size) {
      this.#count -= 1;
    }
  }

  /** Applies joins, leaves and renames to the list, then tells the log. */
  showChanges({ joined = [], left = [], renamed = [], verified = [] }) {
    for (const user of joined) this.#add(user, verified.includes(user));
    for (const user of left) this.#remove(user);
    for (const { from, to, signed } of renamed) {
      this.#remove(from);
      this.#add(to, signed);
    }
    this.render();
    const me = this.#me();
    for (const user of joined) {
      // The reader knows they came in; a reconnect is not news either.
      if (user !== me) this.#chatLog.joined(user);
    }
    for (const user of left) this.#chatLog.left(user);
    for (const { from, to } of renamed) this.#chatLog.renamed(from, to);
  }

  /** Who is online opens as a side column on a wide screen, a panel on a phone. */
  setOpen(open) {
    this.#panel.classList.toggle("open", open);
    this.#toggle.setAttribute("aria-expanded", String(open));
  }

  /** Opens or closes the panel by the toggle and follows the screen's width. */
  wire(wide) {
    this.#toggle.addEventListener("click", () => {
      this.setOpen(!this.#panel.classList.contains("open"));
    });
    wide.addEventListener("change", () => this.setOpen(wide.matches));
    this.setOpen(wide.matches);
  }
}
