/**
 * Who is online in the room: the list (names with their verified mark, the
 * reader's own marked "(you)", "and N more" past what the server listed),
 * the count in the header, and the panel that opens as a side column on a
 * wide screen and as a drawer over the log on a phone (with a close button,
 * a backdrop that closes it, and Escape). The client library keeps the list
 * from the presence frames; this shows it and tells the log who came and
 * went. A moderator's tools for each person (room_moderation.js) go on
 * their line.
 *
 * @module
 */

import { fillTemplate, verifiedMark } from "./room_text.js";

/** The list of people online, as the chat client holds it. */
export class OnlineList {
  #list;
  #panel;
  #toggle;
  #close;
  #backdrop;
  /** Whether the screen is wide (the panel is a column, not a drawer). */
  #wide = true;
  #countText;
  #chatLog;
  #text;
  #lang;
  #chat;
  #userTools;

  /**
   * `chat` is the room's client; its `you` is marked in the list.
   * `userTools(name)` gives the buttons for a person's line, if any.
   */
  constructor(
    {
      list,
      panel,
      toggle,
      close,
      backdrop,
      countText,
      chatLog,
      text,
      lang,
      chat,
      userTools = () => [],
    },
  ) {
    this.#list = list;
    this.#panel = panel;
    this.#toggle = toggle;
    this.#close = close;
    this.#backdrop = backdrop;
    this.#countText = countText;
    this.#chatLog = chatLog;
    this.#text = text;
    this.#lang = lang;
    this.#chat = chat;
    this.#userTools = userTools;
  }

  /** Whether a signed identity holds `name`. */
  isVerified(name) {
    return this.#chat.online.get(name)?.verified === true;
  }

  render() {
    const { online, count, you } = this.#chat;
    const names = [...online.keys()].sort((a, b) =>
      a.localeCompare(b, this.#lang)
    );
    this.#list.replaceChildren(...names.map((name) => {
      const item = document.createElement("li");
      const bdi = document.createElement("bdi");
      bdi.textContent = name;
      item.append(bdi);
      if (online.get(name)?.verified) {
        item.append(verifiedMark(this.#text.verified));
      }
      if (name === you) {
        item.className = "me";
        // Drawn by the stylesheet after the name: the list's text stays
        // the names alone.
        item.dataset.you = this.#text.you;
      }
      const tools = this.#userTools(name);
      if (tools.length > 0) {
        const group = document.createElement("span");
        group.className = "user-tools";
        group.append(...tools);
        item.append(group);
      }
      return item;
    }));
    const more = count - online.size;
    if (more > 0) {
      const item = document.createElement("li");
      item.className = "more";
      item.append(
        ...fillTemplate(this.#text.moreOnline, { count: String(more) }),
      );
      this.#list.append(item);
    }
    this.#countText.textContent = count.toLocaleString(this.#lang);
  }

  /** Shows the list after a change, and tells the log who came and went. */
  showChanges({ joined, left, renamed }) {
    this.render();
    const me = this.#chat.you;
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

  /** Whether the panel is open as a drawer over the log (on a phone). */
  #drawerOpen() {
    return !this.#wide && this.#panel.classList.contains("open");
  }

  /** Closes the drawer and gives the focus back to the toggle. */
  #closeDrawer() {
    this.setOpen(false);
    this.#toggle.focus();
  }

  /** Opens or closes the panel by the toggle and follows the screen's width. */
  wire(wide) {
    this.#wide = wide.matches;
    this.#toggle.addEventListener("click", () => {
      this.setOpen(!this.#panel.classList.contains("open"));
      if (this.#drawerOpen()) this.#close.focus();
    });
    this.#close.addEventListener("click", () => this.#closeDrawer());
    this.#backdrop.addEventListener("click", () => this.#closeDrawer());
    document.addEventListener("keydown", (event) => {
      if (event.key === "Escape" && this.#drawerOpen()) this.#closeDrawer();
    });
    wide.addEventListener("change", () => {
      this.#wide = wide.matches;
      this.setOpen(wide.matches);
    });
    this.setOpen(wide.matches);
  }
}
