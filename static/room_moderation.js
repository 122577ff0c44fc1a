/**
 * Moderation on the room page, as the client library reports it. A
 * moderator (the server says so after admission: the client's `role`
 * event and `moderator` property) gets a Mute and a Ban button beside each
 * other person in the Online list, opening the dialog of
 * room_moderation_dialog.js, and a note in the log when it took effect
 * (someone this page muted gets Unmute in place of Mute), and a "Muted and
 * banned" button in the Online panel's header that lists who is muted or
 * banned here, with Unmute and Unban (room_sanctions.js);
 * deleting anyone's message is in the message menu (room_actions.js asks
 * `isModerator`). A muted user reads above the composer why and until
 * when, until it ends or is lifted. A banned user reads why and until when
 * in place of the room, and the page does not reconnect.
 *
 * @module
 */

import { SanctionDialog } from "./room_moderation_dialog.js";
import { SanctionsList } from "./room_sanctions.js";
import { fillTemplate } from "./room_text.js";

/** The longest a timer can wait (setTimeout's limit, about 24.8 days). */
const LONGEST_TIMER_MS = 2 ** 31 - 1;

/** The moderation tools and notices of one room page. */
export class Moderation {
  #text;
  #chat;
  #chatLog;
  #lang;
  #elements;
  #redrawTools;
  #dialog;
  #sanctions;
  /** Whether the tools were last shown, to redraw only on a change. */
  #shown = false;
  #mutedTimer;
  /** The reader moderates every room (its `role` event), so may ban from all. */
  #everywhere = false;
  /** Names this page muted, offered Unmute (other moderators' are unknown). */
  #mutedHere = new Set();

  /**
   * `text` is the room text; `elements` holds the page's `room`, the
   * `muted` notice above the composer and the `banned` section with its
   * `bannedTitle` and `bannedDetail`; `redrawTools()` redraws what shows
   * the tools (the Online list); `reasonFor` words a refusal.
   */
  constructor(
    { text, chat, chatLog, lang, elements, reasonFor, redrawTools },
  ) {
    this.#text = text.moderation;
    this.#chat = chat;
    this.#chatLog = chatLog;
    this.#lang = lang;
    this.#elements = elements;
    this.#redrawTools = redrawTools;
    this.#dialog = new SanctionDialog({
      text: this.#text,
      reasonFor,
      mayBanEverywhere: () => this.#everywhere,
      act: ({ kind, user, duration, reason, everywhere }) =>
        kind === "ban"
          ? chat.ban(user, { duration, reason, everywhere })
          : chat.mute(user, { duration, reason }),
    });
    this.#sanctions = new SanctionsList({
      text: this.#text,
      chat,
      reasonFor,
      when: (iso) => this.#when(iso),
      liftsEverywhere: () => this.#everywhere,
      head: document.querySelector(".room-users-head"),
      before: document.getElementById("chat-users-close"),
    });
  }

  /** Whether the reader moderates this room (on the current connection). */
  get isModerator() {
    return this.#chat.moderator === true;
  }

  /** The buttons to moderate `user`, for their line of the Online list. */
  userTools(user) {
    if (!this.isModerator || user === this.#chat.you) return [];
    const text = this.#text;
    const first = this.#mutedHere.has(user)
      ? this.#tool("unmute", text.unmuteUser, user, () => {
        // A refusal reaches the page's `error` listener, which shows it.
        // Its line is drawn again: focus goes on to the new one.
        this.#chat.unmute(user).then(() => this.#focusTools(user), () => {});
      })
      : this.#tool("mute", text.muteUser, user, () => {
        this.#dialog.open("mute", user, () => this.#focusTools(user));
      });
    return [
      first,
      this.#tool("ban", text.banUser, user, () => {
        this.#dialog.open("ban", user, () => this.#focusTools(user));
      }),
    ];
  }

  /** Focuses the first tool of `user` in the list as it is now drawn. */
  #focusTools(user) {
    const tools = document.querySelectorAll("#chat-users .moderate");
    [...tools].find((button) => button.dataset.user === user)?.focus();
  }

  #tool(kind, label, user, action) {
    const button = document.createElement("button");
    button.type = "button";
    button.className = `moderate ${kind}`;
    button.dataset.user = user;
    button.textContent = this.#text[kind];
    button.setAttribute("aria-label", label.split("{user}").join(user));
    button.addEventListener("click", action);
    return button;
  }

  /** An ISO time in the reader's words and time zone. */
  #when(until) {
    return new Date(until).toLocaleString(this.#lang, {
      dateStyle: "medium",
      timeStyle: "short",
    });
  }

  /**
   * The sentence for a sanction: `untilTemplate` with `{until}` filled in,
   * or `forGood` when it has no end; then the reason if there is one.
   */
  #explain({ until, reason }, untilTemplate, forGood) {
    const nodes = typeof until === "string"
      ? fillTemplate(untilTemplate, { until: this.#when(until) })
      : [forGood];
    if (typeof reason === "string" && reason !== "") {
      nodes.push(" ", ...fillTemplate(this.#text.because, { reason }));
    }
    return nodes;
  }

  /** Shows above the composer that the reader is muted, until `until`. */
  showMuted(sanction) {
    const notice = this.#elements.muted;
    clearTimeout(this.#mutedTimer);
    const left = typeof sanction.until === "string"
      ? Date.parse(sanction.until) - Date.now()
      : Infinity;
    if (left <= 0) {
      this.clearMuted();
      return;
    }
    notice.replaceChildren(
      ...this.#explain(
        sanction,
        this.#text.mutedUntil,
        this.#text.mutedForGood,
      ),
    );
    notice.hidden = false;
    if (left <= LONGEST_TIMER_MS) {
      this.#mutedTimer = setTimeout(() => this.clearMuted(), left);
    }
  }

  clearMuted() {
    clearTimeout(this.#mutedTimer);
    this.#elements.muted.hidden = true;
    this.#elements.muted.replaceChildren();
  }

  /** Shows, in place of the room, that the reader is banned and why. */
  showBanned(sanction) {
    const { room, banned, bannedTitle, bannedDetail } = this.#elements;
    this.#dialog.close();
    this.#sanctions.show(false);
    this.clearMuted();
    bannedDetail.replaceChildren(
      ...this.#explain(
        sanction,
        this.#text.bannedUntil,
        this.#text.bannedForGood,
      ),
    );
    room.classList.add("banned");
    banned.hidden = false;
    bannedTitle.focus();
  }

  /** A moderator's own action took effect: a note in the log. */
  #noteDone({ action, user, until, everywhere }) {
    const text = this.#text;
    if (action === "mute") this.#mutedHere.add(user);
    if (action === "unmute") this.#mutedHere.delete(user);
    if (action === "mute" || action === "unmute") this.#redrawTools();
    if (action === "unmute") {
      this.#chatLog.notice(text.unmutedSomeone, { user });
    } else if (action === "unban") {
      this.#chatLog.notice(text.unbannedSomeone, { user });
    } else if (action === "ban") {
      this.#chatLog.notice(
        everywhere ? text.bannedSomeoneEverywhere : text.bannedSomeone,
        { user },
      );
    } else if (action === "mute" && typeof until === "string") {
      this.#chatLog.notice(text.mutedSomeoneUntil, {
        user,
        until: this.#when(until),
      });
    } else if (action === "mute") {
      this.#chatLog.notice(text.mutedSomeoneForGood, { user });
    }
  }

  /** Redraws the tools when the reader's role on this connection changes. */
  #roleMayHaveChanged() {
    const now = this.isModerator;
    if (now === this.#shown) return;
    this.#shown = now;
    if (!now) this.#dialog.close();
    this.#sanctions.show(now);
    this.#redrawTools();
  }

  wire() {
    const chat = this.#chat;
    chat.addEventListener("role", ({ detail }) => {
      this.#everywhere = detail.everywhere === true;
      this.#roleMayHaveChanged();
    });
    chat.addEventListener("state", () => this.#roleMayHaveChanged());
    chat.addEventListener("moderated", ({ detail }) => this.#noteDone(detail));
    chat.addEventListener("muted", ({ detail }) => this.showMuted(detail));
    chat.addEventListener("unmuted", () => this.clearMuted());
    chat.addEventListener("error", ({ detail }) => {
      if (detail.code === "muted") this.showMuted(detail);
    });
    chat.addEventListener("banned", ({ detail }) => this.showBanned(detail));
  }
}
