/**
 * The room page's chat log: message lines grouped by sender and minute, the
 * reader's own messages told apart, day separators, one-line notices, and
 * scrolling that follows new lines only while the reader is at the bottom
 * (a "new messages" button otherwise). User text only ever reaches the page
 * through textContent, each name and text isolated in a <bdi> so that
 * right-to-left or override characters cannot reorder their neighbours.
 *
 * @module
 */

/** Closer than this to the bottom counts as reading the newest lines. */
const NEAR_BOTTOM_PX = 48;
/** Messages of one sender closer together than this form one group. */
const GROUP_MS = 60_000;
/** A leave followed this soon by a join of the same name was a reconnect. */
const FLAP_MS = 60_000;

/** Fills `{name}` placeholders of `template`, each value in a <bdi>. */
export function fillTemplate(template, values) {
  const parts = template.split(/\{(\w+)\}/);
  return parts.map((part, index) => {
    if (index % 2 === 0) return part;
    if (!(part in values)) return `{${part}}`;
    const value = document.createElement("bdi");
    value.textContent = values[part];
    return value;
  });
}

/**
 * The mark beside a name the server vouches for: a badge drawn by the
 * stylesheet (a filled circle with a check), an element of its own with a
 * label, outside the name's text. No text a name can hold draws it, and
 * the server refuses check marks in names, so a name cannot imitate it.
 */
export function verifiedMark(label) {
  const mark = document.createElement("span");
  mark.className = "verified";
  mark.setAttribute("role", "img");
  mark.setAttribute("aria-label", label);
  mark.title = label;
  return mark;
}

function localDay(date) {
  return `${date.getFullYear()}-${date.getMonth()}-${date.getDate()}`;
}

/** The log of one room page. */
export class ChatLog {
  /** The name this page goes by; its messages are marked as its own. */
  me = "";
  #log;
  #scroller;
  #pill;
  #lang;
  #text;
  /** Recent leave lines by name, removed again if the name comes back. */
  #recentLeaves = new Map();

  constructor({ log, scroller, pill, lang, text }) {
    this.#log = log;
    this.#scroller = scroller;
    this.#pill = pill;
    this.#lang = lang;
    this.#text = text;
    scroller.addEventListener("scroll", () => {
      if (this.atBottom()) pill.hidden = true;
    }, { passive: true });
    pill.addEventListener("click", () => {
      this.scrollToEnd();
      log.focus({ preventScroll: true });
    });
  }

  /** Whether the reader is looking at the newest lines. */
  atBottom() {
    const { scrollHeight, scrollTop, clientHeight } = this.#scroller;
    return scrollHeight - scrollTop - clientHeight < NEAR_BOTTOM_PX;
  }

  scrollToEnd() {
    this.#scroller.scrollTop = this.#scroller.scrollHeight;
    this.#pill.hidden = true;
  }

  /** Empties the log. */
  clear() {
    this.#log.replaceChildren();
    this.#recentLeaves.clear();
  }

  /**
   * Appends a message frame. The view follows it when the reader was at
   * the bottom or it is their own; otherwise the "new messages" button
   * appears.
   */
  appendMessage(frame) {
    const item = this.#messageItem(frame);
    const follow = this.atBottom() || item.classList.contains("mine");
    const previous = this.#lastMessage();
    if (!previous || this.#dayOf(previous) !== this.#dayOf(item)) {
      this.#log.append(this.#daySeparator(item));
    }
    this.#group(item, this.#log.lastElementChild);
    this.#log.append(item);
    this.#settle(follow);
    return item;
  }

  /** Puts older messages (oldest first) above the others, keeping the view. */
  prependMessages(frames) {
    const fromBottom = this.#scroller.scrollHeight - this.#scroller.scrollTop;
    this.#log.prepend(...frames.map((frame) => this.#messageItem(frame)));
    this.#decorate();
    this.#scroller.scrollTop = this.#scroller.scrollHeight - fromBottom;
  }

  /** Removes a deleted message; its neighbours regroup. */
  removeMessage(id) {
    // The selector is built from a whole number only, never from text.
    const item = this.#log.querySelector(`li.message[data-id="${id}"]`);
    if (!item) return;
    item.remove();
    this.#decorate();
  }

  /** Appends any line (a notice, a pending message), following if at the end. */
  appendLine(item, { own = false } = {}) {
    const follow = own || this.atBottom();
    this.#log.append(item);
    this.#settle(follow);
  }

  /** A one-line notice; `values` fill the template's placeholders. */
  notice(template, values = {}, className = "notice") {
    const item = document.createElement("li");
    item.className = className;
    item.append(...fillTemplate(template, values));
    this.appendLine(item);
    return item;
  }

  /**
   * Says that `user` joined, unless they left a moment ago: then it was a
   * reconnect, and the leave line goes instead of adding a join line.
   */
  joined(user) {
    const leave = this.#recentLeaves.get(user);
    this.#recentLeaves.delete(user);
    if (leave && Date.now() - leave.at < FLAP_MS && leave.item.isConnected) {
      leave.item.remove();
      return;
    }
    this.notice(this.#text.joined, { user }, "presence");
  }

  left(user) {
    const item = this.notice(this.#text.left, { user }, "presence");
    this.#recentLeaves.set(user, { item, at: Date.now() });
  }

  renamed(from, to) {
    this.#recentLeaves.delete(from);
    this.notice(this.#text.renamed, { from, to }, "presence");
  }

  /** Marks the messages of `me` (after a rename, say) as the reader's own. */
  markOwn(me) {
    this.me = me;
    for (const item of this.#log.querySelectorAll("li.message")) {
      item.classList.toggle("mine", item.dataset.user === me);
    }
  }

  #settle(follow) {
    if (follow) this.scrollToEnd();
    else this.#pill.hidden = false;
  }

  #messageItem(frame) {
    const item = document.createElement("li");
    item.className = "message";
    item.dataset.id = String(frame.id);
    item.dataset.user = frame.user;
    item.dataset.ts = frame.ts;
    if (frame.user === this.me && frame.server !== true) {
      item.classList.add("mine");
    }
    if (frame.server === true) item.classList.add("from-site");
    const meta = document.createElement("div");
    meta.className = "meta";
    const user = document.createElement("bdi");
    user.className = "user";
    user.textContent = frame.user;
    meta.append(user);
    // Only a name the server vouches for (the site's, or a signed user's)
    // gets the mark; a guest can pick any name.
    if (frame.verified === true) {
      meta.append(verifiedMark(this.#text.verified));
    }
    const time = document.createElement("time");
    time.dateTime = frame.ts;
    const date = new Date(frame.ts);
    if (!Number.isNaN(date.getTime())) {
      time.textContent = date.toLocaleTimeString(this.#lang, {
        hour: "numeric",
        minute: "2-digit",
      });
      time.title = date.toLocaleString(this.#lang);
    }
    meta.append(" ", time);
    const body = document.createElement("bdi");
    body.className = "text";
    body.textContent = frame.message;
    item.append(meta, body);
    return item;
  }

  #lastMessage() {
    const items = this.#log.querySelectorAll("li.message");
    return items[items.length - 1];
  }

  #dayOf(item) {
    const date = new Date(item.dataset.ts);
    return Number.isNaN(date.getTime()) ? "" : localDay(date);
  }

  #daySeparator(item) {
    const separator = document.createElement("li");
    separator.className = "day";
    const date = new Date(item.dataset.ts);
    const time = document.createElement("time");
    if (!Number.isNaN(date.getTime())) {
      time.dateTime = item.dataset.ts.slice(0, 10);
      const thisYear = date.getFullYear() === new Date().getFullYear();
      time.textContent = date.toLocaleDateString(this.#lang, {
        weekday: "long",
        month: "long",
        day: "numeric",
        ...(thisYear ? {} : { year: "numeric" }),
      });
    }
    separator.append(time);
    return separator;
  }

  /** Marks `item` as the continuation of `previous` when they group. */
  #group(item, previous) {
    const groups = previous?.classList.contains("message") &&
      previous.dataset.user === item.dataset.user &&
      previous.classList.contains("from-site") ===
        item.classList.contains("from-site") &&
      Math.abs(Date.parse(item.dataset.ts) - Date.parse(previous.dataset.ts)) <
        GROUP_MS;
    item.classList.toggle("continued", Boolean(groups));
  }

  /** Recomputes day separators and groups over the whole log. */
  #decorate() {
    for (const separator of this.#log.querySelectorAll("li.day")) {
      separator.remove();
    }
    let day;
    for (const item of this.#log.querySelectorAll("li.message")) {
      const itsDay = this.#dayOf(item);
      if (itsDay !== day) {
        item.before(this.#daySeparator(item));
        day = itsDay;
      }
      this.#group(item, item.previousElementSibling);
    }
  }
}
