/**
 * The room page's chat log: message lines grouped by sender and minute, the
 * reader's own messages told apart, day separators, one-line notices, a
 * friendly line while the room has no message, and scrolling that follows
 * new lines only while the reader is at the bottom (a "new messages" button
 * with a count otherwise). User text only ever reaches the page through
 * textContent and text nodes, each name and text isolated in a <bdi> so that right-to-left
 * or override characters cannot reorder their neighbours.
 *
 * Lines are in the order things happened. Messages are in the server's
 * order (their ids) and carry the server's `ts`; system lines (joins,
 * leaves, renames, notices) carry the time this page received them. Two
 * rules keep them in time order without comparing the two clocks:
 * - Days: a day separator goes before the first line of each local day,
 *   system lines included; a message of an earlier day than the system
 *   lines at the end of the log (history that arrives after a reconnect)
 *   goes above them and their separator.
 * - Joins trail messages: the server gathers joins for 150 ms
 *   (docs/protocol.md), and after a restart the one who comes back sends
 *   what waited in their outbox at once. So a join of someone whose message
 *   arrived moments ago ({@linkcode JOIN_TRAIL_MS} by this page's clock, and
 *   no older than that by the server's, next to the newest message) goes
 *   above that message: they came in, then they spoke.
 *
 * @module
 */

import {
  dayOf,
  daySeparator,
  isDated,
  isMessage,
  laterDayAtEnd,
  separate,
} from "./room_days.js";
import { fillTemplate, showMessageText, verifiedMark } from "./room_text.js";

/** Closer than this to the bottom counts as reading the newest lines. */
const NEAR_BOTTOM_PX = 48;
/** Messages of one sender closer together than this form one group. */
const GROUP_MS = 60_000;
/** A leave followed this soon by a join of the same name was a reconnect. */
const FLAP_MS = 60_000;
/** A join is placed above its user's messages received this recently. */
export const JOIN_TRAIL_MS = 2_000;

/** The log of one room page. */
export class ChatLog {
  /** The name this page goes by; its messages are marked as its own. */
  me = "";
  #log;
  #scroller;
  #pill;
  #empty;
  #lang;
  #text;
  #now;
  #decorateMessage;
  /** Recent leave lines by name, removed again if the name comes back. */
  #recentLeaves = new Map();
  /** Messages that arrived while the reader was scrolled up. */
  #unread = 0;
  /** Whether the reader was at the bottom when the view last settled. */
  #following = true;
  /** Whether the room's history has arrived (else "no messages" is unknown). */
  #loaded = false;

  /**
   * `pill` is the "new messages" button, `empty` what shows while the room
   * has no message; `now` is the clock system lines are dated by;
   * `decorate(item, frame)` adds to each message line (its actions).
   */
  constructor(
    {
      log,
      scroller,
      pill,
      empty,
      lang,
      text,
      now = () => Date.now(),
      decorate = () => {},
    },
  ) {
    this.#log = log;
    this.#scroller = scroller;
    this.#pill = pill;
    this.#empty = empty;
    this.#lang = lang;
    this.#text = text;
    this.#now = now;
    this.#decorateMessage = decorate;
    scroller.addEventListener("scroll", () => {
      this.#following = this.atBottom();
      if (this.#following) this.#hidePill();
    }, { passive: true });
    pill.addEventListener("click", () => {
      this.scrollToEnd();
      log.focus({ preventScroll: true });
    });
    // A banner or a bar above the log takes its height from the log: a
    // reader at the bottom stays at the bottom.
    new ResizeObserver(() => {
      if (this.#following) scroller.scrollTop = scroller.scrollHeight;
    }).observe(scroller);
  }

  /** The history has arrived: an empty log now means an empty room. */
  loaded() {
    this.#loaded = true;
    this.#showEmpty();
  }

  /** Whether the reader is looking at the newest lines. */
  atBottom() {
    const { scrollHeight, scrollTop, clientHeight } = this.#scroller;
    return scrollHeight - scrollTop - clientHeight < NEAR_BOTTOM_PX;
  }

  scrollToEnd() {
    this.#scroller.scrollTop = this.#scroller.scrollHeight;
    this.#following = true;
    this.#hidePill();
  }

  /** Empties the log. */
  clear() {
    this.#log.replaceChildren();
    this.#recentLeaves.clear();
    this.#showEmpty();
  }

  #hidePill() {
    this.#pill.hidden = true;
    this.#unread = 0;
  }

  #showEmpty() {
    this.#empty.hidden = !this.#loaded ||
      this.#log.querySelector("li.message") !== null;
  }

  /**
   * Appends a message frame. The view follows it when the reader was at
   * the bottom or it is their own; otherwise the "new messages" button
   * appears.
   */
  appendMessage(frame) {
    const item = this.#messageItem(frame);
    const follow = this.atBottom() || item.classList.contains("mine");
    this.#log.insertBefore(item, laterDayAtEnd(this.#log, dayOf(frame.ts)));
    separate(item, this.#lang);
    // Pending lines of the reader's (the server's copies replace them)
    // stand between nothing.
    let previous = item.previousElementSibling;
    while (previous?.classList.contains("pending")) {
      previous = previous.previousElementSibling;
    }
    this.#group(item, previous);
    const next = item.nextElementSibling;
    if (next && isMessage(next)) this.#group(next, item);
    this.#empty.hidden = true;
    this.#settle(follow, 1);
    return item;
  }

  /** Puts older messages (oldest first) above the others, keeping the view. */
  prependMessages(frames) {
    const fromBottom = this.#scroller.scrollHeight - this.#scroller.scrollTop;
    this.#log.prepend(...frames.map((frame) => this.#messageItem(frame)));
    this.#decorate();
    this.#showEmpty();
    this.#scroller.scrollTop = this.#scroller.scrollHeight - fromBottom;
  }

  /** The line of message `id`, or null. */
  findMessage(id) {
    if (!Number.isSafeInteger(id)) return null;
    // The selector is built from a whole number only, never from text.
    return this.#log.querySelector(`li.message[data-id="${id}"]`);
  }

  /** The newest of the reader's own stored messages, or null. */
  lastOwnMessage() {
    const own = this.#log.querySelectorAll("li.message.mine[data-id]");
    return own.item(own.length - 1);
  }

  /** Removes a deleted message; its neighbours regroup. */
  removeMessage(id) {
    const item = this.findMessage(id);
    if (!item) return;
    item.remove();
    this.#decorate();
    this.#showEmpty();
  }

  /** Appends any line (a notice, a pending message), following if at the end. */
  appendLine(item, { own = false } = {}) {
    const follow = own || this.atBottom();
    this.#log.append(item);
    if (isDated(item)) separate(item, this.#lang);
    this.#showEmpty();
    this.#settle(follow);
  }

  /**
   * A one-line notice, dated now; `values` fill the template's
   * placeholders. It goes at the end, or above `before`.
   */
  notice(template, values = {}, className = "notice", before = null) {
    const item = document.createElement("li");
    item.className = className;
    item.dataset.ts = new Date(this.#now()).toISOString();
    item.append(...fillTemplate(template, values));
    if (before === null) {
      this.appendLine(item);
      return item;
    }
    // Where the reader is now, not as of the last scroll event: one that
    // scrolled up a moment ago must not be taken back to the end.
    const follow = this.atBottom();
    before.before(item);
    // The message now follows a system line: it shows its sender again.
    this.#group(before, item);
    if (follow) this.scrollToEnd();
    return item;
  }

  /**
   * Says that `user` joined, unless they left a moment ago: then it was a
   * reconnect, and the leave line goes instead of adding a join line.
   */
  joined(user) {
    const leave = this.#recentLeaves.get(user);
    this.#recentLeaves.delete(user);
    if (leave && this.#now() - leave.at < FLAP_MS && leave.item.isConnected) {
      leave.item.remove();
      return;
    }
    this.notice(
      this.#text.joined,
      { user },
      "presence",
      this.#recentMessageOf(user),
    );
  }

  /**
   * The first of `user`'s messages that arrived within JOIN_TRAIL_MS and
   * are as recent by the server's clock, next to the newest message: a join
   * that trails them happened before them (see the module's doc).
   */
  #recentMessageOf(user) {
    const now = this.#now();
    let newest;
    let found = null;
    for (
      let line = this.#log.lastElementChild;
      line;
      line = line.previousElementSibling
    ) {
      if (!isMessage(line) || !isDated(line)) continue;
      if (now - Number(line.dataset.received) > JOIN_TRAIL_MS) break;
      const ts = Date.parse(line.dataset.ts);
      newest ??= ts;
      if (!(newest - ts <= JOIN_TRAIL_MS)) break;
      if (line.dataset.user === user) found = line;
    }
    return found;
  }

  left(user) {
    const item = this.notice(this.#text.left, { user }, "presence");
    this.#recentLeaves.set(user, { item, at: this.#now() });
  }

  renamed(from, to) {
    this.#recentLeaves.delete(from);
    this.notice(this.#text.renamed, { from, to }, "presence");
  }

  /**
   * Marks the messages of `me` (after a rename, say) as the reader's own,
   * and the mentions of `me` in the others.
   */
  markOwn(me) {
    this.me = me;
    for (const item of this.#log.querySelectorAll("li.message[data-id]")) {
      item.classList.toggle("mine", item.dataset.user === me);
      this.showText(item, item.querySelector(".text").textContent);
    }
  }

  /** Shows `message` as the text of line `item`, marking mentions of me. */
  showText(item, message) {
    const mentioned = showMessageText(
      item.querySelector(".text"),
      message,
      item.classList.contains("mine") ? "" : this.me,
    );
    item.classList.toggle("mentions-me", mentioned);
  }

  /** Follows the new lines, or counts `messages` more unread ones. */
  #settle(follow, messages = 0) {
    if (follow) {
      this.scrollToEnd();
      return;
    }
    this.#following = false;
    if (messages === 0 && this.#pill.hidden) return;
    this.#unread += messages;
    const count = this.#pill.querySelector(".count");
    count.textContent = this.#text.newMessages.split("{count}").join(
      Math.max(this.#unread, 1).toLocaleString(this.#lang),
    );
    this.#pill.hidden = false;
  }

  #messageItem(frame) {
    const item = document.createElement("li");
    item.className = "message";
    item.dataset.id = String(frame.id);
    item.dataset.user = frame.user;
    item.dataset.ts = frame.ts;
    item.dataset.received = String(this.#now());
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
    item.append(meta, body);
    this.showText(item, frame.message);
    this.#decorateMessage(item, frame);
    return item;
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
    for (const line of this.#log.querySelectorAll("li[data-ts]")) {
      const itsDay = dayOf(line.dataset.ts);
      if (itsDay !== day && itsDay !== "") {
        line.before(daySeparator(line.dataset.ts, this.#lang));
        day = itsDay;
      }
      if (isMessage(line)) this.#group(line, line.previousElementSibling);
    }
  }
}
