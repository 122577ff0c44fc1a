/**
 * A moderator's list of who is muted or banned in the room: a button in
 * the Online panel's header opens a modal `<dialog>` that asks the server
 * (the client library's `sanctions()`) and lists the mutes and the bans in
 * force, each with until when, why, by whom and when, and an Unmute or
 * Unban button. A ban from every room has one only for a moderator of
 * every room, whose unban lifts it everywhere (others leave it to the
 * admin console). The list is asked for again after each action. Built
 * from elements and text nodes only.
 *
 * @module
 */

import { fillTemplate } from "./room_text.js";

/** Makes an element with a class and children. */
function element(tag, className, ...children) {
  const made = document.createElement(tag);
  if (className) made.className = className;
  made.append(...children);
  return made;
}

/** The button and the dialog of the list, on one room page. */
export class SanctionsList {
  #text;
  #chat;
  #reasonFor;
  #when;
  #liftsEverywhere;
  #button;
  #dialog;
  #status;
  #error;
  #more;
  #close;
  /** The list of each kind: its `<ul>` and its empty line. */
  #lists = {};
  /** Counts the questions asked, so that only the last answer is shown. */
  #asked = 0;
  #busy = false;

  /**
   * `text` is the moderation text; `chat` the client; `reasonFor` words a
   * refusal; `when(iso)` a time; `liftsEverywhere()` whether the reader
   * moderates every room; the button goes into `head`, before `before`.
   */
  constructor({ text, chat, reasonFor, when, liftsEverywhere, head, before }) {
    this.#text = text;
    this.#chat = chat;
    this.#reasonFor = reasonFor;
    this.#when = when;
    this.#liftsEverywhere = liftsEverywhere;
    this.#button = element("button", "room-sanctions-open", text.sanctions);
    this.#button.type = "button";
    this.#button.hidden = true;
    this.#button.setAttribute("aria-haspopup", "dialog");
    this.#button.addEventListener("click", () => this.#open());
    head?.insertBefore(this.#button, before ?? null);
    this.#build();
  }

  #build() {
    const text = this.#text;
    this.#dialog = element("dialog", "moderation-dialog sanctions-dialog");
    this.#dialog.setAttribute("aria-labelledby", "sanctions-dialog-title");
    const title = element("h2", "", text.sanctions);
    title.id = "sanctions-dialog-title";
    this.#status = element("p", "hint");
    this.#status.setAttribute("role", "status");
    this.#error = element("p", "form-error");
    this.#error.setAttribute("role", "alert");
    this.#error.hidden = true;
    const sections = [["mute", text.mutedList], ["ban", text.bannedList]].map(
      ([kind, heading]) => {
        const headingElement = element("h3", "", heading);
        headingElement.id = `sanctions-${kind}-title`;
        const list = element("ul", "sanctions");
        list.setAttribute("aria-labelledby", headingElement.id);
        const empty = element(
          "p",
          "hint",
          kind === "mute" ? text.noneMuted : text.noneBanned,
        );
        empty.hidden = true;
        this.#lists[kind] = { list, empty };
        return element("section", "", headingElement, list, empty);
      },
    );
    this.#more = element("p", "hint", text.more);
    this.#more.hidden = true;
    this.#close = element("button", "", text.close);
    this.#close.type = "button";
    this.#close.addEventListener("click", () => this.close());
    this.#dialog.append(
      title,
      this.#status,
      this.#error,
      ...sections,
      this.#more,
      element("div", "row", this.#close),
    );
    document.body.append(this.#dialog);
  }

  /** Shows the button (a moderator's only), or hides it and the dialog. */
  show(shown) {
    this.#button.hidden = !shown;
    if (!shown) this.close();
  }

  close() {
    this.#asked += 1;
    if (this.#dialog.open) this.#dialog.close();
  }

  #open() {
    for (const { list, empty } of Object.values(this.#lists)) {
      list.replaceChildren();
      empty.hidden = true;
    }
    this.#more.hidden = true;
    this.#showError("");
    // Focus returns to the button when the dialog closes (the browser's rule).
    this.#dialog.showModal();
    this.#close.focus();
    void this.#refresh();
  }

  #showError(message) {
    this.#error.textContent = message;
    this.#error.hidden = message === "";
  }

  /** Asks for the lists and draws them; resolves once drawn (or refused). */
  async #refresh() {
    const asked = ++this.#asked;
    this.#status.textContent = this.#text.loading;
    try {
      const { mutes, bans, more } = await this.#chat.sanctions();
      if (asked !== this.#asked) return;
      this.#fill("mute", mutes);
      this.#fill("ban", bans);
      this.#more.hidden = !more;
    } catch (error) {
      if (!(error instanceof Error)) throw error;
      if (asked === this.#asked) this.#showError(this.#reasonFor(error));
    } finally {
      if (asked === this.#asked) this.#status.textContent = "";
    }
  }

  #fill(kind, entries) {
    const { list, empty } = this.#lists[kind];
    list.replaceChildren(...entries.map((entry) => this.#entry(kind, entry)));
    empty.hidden = entries.length > 0;
  }

  #entry(kind, entry) {
    const text = this.#text;
    const { user, until, reason, by, at, everywhere } = entry;
    const who = element("div", "who", element("bdi", "name", user));
    const detail = (...nodes) => who.append(element("p", "detail", ...nodes));
    detail(
      ...(typeof until === "string"
        ? fillTemplate(text.listedUntil, { until: this.#when(until) })
        : [text.forGood]),
    );
    if (everywhere) detail(text.everyRoomBan);
    if (reason !== "") detail(...fillTemplate(text.because, { reason }));
    if (by !== "" && at !== "") {
      detail(...fillTemplate(text.listedBy, { by, at: this.#when(at) }));
    }
    const item = element("li", "", who);
    item.dataset.user = user;
    if (!everywhere || this.#liftsEverywhere()) {
      item.append(this.#liftButton(kind, user, everywhere));
    }
    return item;
  }

  #liftButton(kind, user, everywhere) {
    const text = this.#text;
    const button = element(
      "button",
      `lift ${kind === "mute" ? "unmute" : "unban"}`,
      kind === "mute" ? text.unmute : text.unban,
    );
    button.type = "button";
    button.dataset.user = user;
    const label = kind === "mute"
      ? text.unmuteUser
      : everywhere
      ? text.unbanUserEverywhere
      : text.unbanUser;
    button.setAttribute("aria-label", label.split("{user}").join(user));
    button.addEventListener("click", () => this.#lift(kind, user, everywhere));
    return button;
  }

  /** Lifts `user`'s `kind`, then draws the lists again and keeps focus. */
  async #lift(kind, user, everywhere) {
    if (this.#busy) return;
    this.#busy = true;
    this.#showError("");
    const buttons = [...this.#lists[kind].list.querySelectorAll("button")];
    const at = buttons.findIndex((button) => button.dataset.user === user);
    try {
      await (kind === "mute"
        ? this.#chat.unmute(user)
        : this.#chat.unban(user, { everywhere }));
    } catch (error) {
      if (!(error instanceof Error)) throw error;
      this.#showError(this.#reasonFor(error));
    } finally {
      this.#busy = false;
    }
    await this.#refresh();
    if (!this.#dialog.open) return;
    // The next entry's button takes the focus, else the last, else Close.
    const left = [...this.#lists[kind].list.querySelectorAll("button")];
    (left[Math.min(Math.max(at, 0), left.length - 1)] ?? this.#close).focus();
  }
}
