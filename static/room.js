/**
 * Room page: finds the page's elements and puts its parts together on the
 * client library (`/client/chat_client.js`), which keeps the socket, the
 * order of messages, the outbox and the online list. Its events reach the
 * log (room_log.js), the online list (room_online.js), the reader's name
 * (room_name.js), a first visit's invitation to choose one
 * (room_welcome.js), the banner (room_status.js), the line of who is
 * typing (room_typing.js), the actions on messages (room_actions.js, a
 * long press on phones in room_long_press.js), the line where the reader
 * left off (room_unread.js) and moderation (a moderator's tools, a muted
 * or banned reader's notice: room_moderation.js);
 * the composer (room_outbox.js) and older pages (room_older.js) call it.
 * A site that signs its users in hands the page a token in the address's
 * fragment (`#token=`), or, framing the page, by postMessage
 * (room_embed.js); the page keeps it for this tab and joins with it.
 * User text only ever reaches the page through textContent.
 *
 * @module
 */

import { ChatClient, CloseCode } from "../client/chat_client.js";
import { ChatLog } from "./room_log.js";
import { NameForm } from "./room_name.js";
import { OlderHistory } from "./room_older.js";
import { OnlineList } from "./room_online.js";
import { Outbox } from "./room_outbox.js";
import { acceptTokensFromParent, askParentForToken } from "./room_embed.js";
import { showConnectionState } from "./room_status.js";
import { TypingLine } from "./room_typing.js";
import { Welcome } from "./room_welcome.js";
import { MessageActions } from "./room_actions.js";
import { watchLongPress } from "./room_long_press.js";
import { UnreadMark } from "./room_unread.js";
import { MentionNotifier } from "./room_notify.js";
import { MentionCompletion } from "./room_complete.js";
import { Moderation } from "./room_moderation.js";
import {
  browserKey,
  forgetToken,
  rememberToken,
  storedName,
  storedToken,
  takeTokenFromAddress,
  tokenHasExpired,
} from "./room_storage.js";

const byId = (id) => document.getElementById(id);
const room = byId("room");
const logElement = byId("chat-log");
const input = byId("chat-message-input");
const usersPanel = byId("chat-users-panel");

const text = JSON.parse(room.dataset.text);
/** Origins of the sites that may frame this page (CHAT_FRAME_ANCESTORS). */
const frameAncestors = (room.dataset.frameAncestors ?? "").split(" ")
  .filter(Boolean);
const lang = document.documentElement.lang || undefined;

/**
 * The reader's words for a refusal; the server's as a fallback. The site's
 * own reason for refusing a message (its publish hook) is shown as given;
 * a refused name says which rule it broke.
 */
const reasonFor = (refusal) => {
  if (refusal.code === "rejected") {
    return text.rejected.split("{reason}").join(refusal.message);
  }
  if (
    refusal.code === "bad_name" && typeof refusal.reason === "string" &&
    Object.hasOwn(text.nameReasons, refusal.reason)
  ) {
    return text.nameReasons[refusal.reason];
  }
  return text.errors[refusal.code] ?? refusal.message;
};

takeTokenFromAddress();
const chat = new ChatClient(globalThis.location.origin, {
  room: room.dataset.room,
  name: storedName(),
  key: browserKey(),
  // Read at each connect: the site may have handed over a fresh one.
  token: () => storedToken(),
});

const actions = new MessageActions({
  text,
  chat,
  lang,
  startEdit: (id, message) => outbox.startEdit(id, message),
  isModerator: () => moderation.isModerator,
});
const chatLog = new ChatLog({
  decorate: (item, frame) => actions.decorate(item, frame),
  log: logElement,
  scroller: byId("chat-scroller"),
  pill: byId("chat-new-messages"),
  empty: byId("chat-empty"),
  lang,
  text,
});
const moderation = new Moderation({
  text,
  chat,
  chatLog,
  lang,
  reasonFor,
  elements: {
    room,
    muted: byId("chat-muted"),
    banned: byId("chat-banned"),
    bannedTitle: byId("chat-banned-title"),
    bannedDetail: byId("chat-banned-detail"),
  },
  redrawTools: () => online.render(),
});
const online = new OnlineList({
  list: byId("chat-users"),
  panel: usersPanel,
  toggle: byId("chat-online-toggle"),
  close: byId("chat-users-close"),
  backdrop: byId("chat-users-backdrop"),
  countText: byId("chat-online-count"),
  chatLog,
  text,
  lang,
  chat,
  userTools: (user) => moderation.userTools(user),
});
const name = new NameForm({
  elements: {
    button: byId("chat-my-name"),
    label: byId("chat-my-name-text"),
    form: byId("chat-name-form"),
    input: byId("chat-name-input"),
    cancel: byId("chat-name-cancel"),
    error: byId("chat-name-error"),
  },
  text,
  chatLog,
  chat,
  reasonFor,
});
const outbox = new Outbox({
  elements: {
    composer: byId("chat-composer"),
    input,
    error: byId("chat-composer-error"),
    editing: byId("chat-composer-editing"),
  },
  text,
  chatLog,
  chat,
  reasonFor,
});
actions.chatLog = chatLog;
const welcome = new Welcome({
  elements: {
    form: byId("chat-welcome"),
    input: byId("chat-welcome-input"),
    keep: byId("chat-welcome-keep"),
    error: byId("chat-welcome-error"),
  },
  chat,
  reasonFor,
  composer: input,
});
const typingLine = new TypingLine({
  line: byId("chat-typing"),
  input,
  text,
  chat,
});
const unread = new UnreadMark({
  room: room.dataset.room,
  chat,
  chatLog,
  text,
});
const completion = new MentionCompletion({
  input,
  list: byId("chat-mention-list"),
  chat,
  lang,
});
const notifier = new MentionNotifier({
  bell: byId("chat-notify"),
  text,
  chat,
  chatLog,
  room: room.dataset.room,
});
const older = new OlderHistory({
  button: byId("chat-load-older"),
  log: logElement,
  chatLog,
  chat,
});

/** A history that was not recovered said that messages were missed. */
let missed = false;
chat.addEventListener("history", ({ detail }) => {
  // Not recovered: what we show may have a hole; start over from here.
  if (!detail.recovered) chatLog.clear();
  missed ||= detail.missed;
  chatLog.loaded();
});
chat.addEventListener("message", ({ detail }) => chatLog.appendMessage(detail));
chat.addEventListener(
  "delete",
  ({ detail }) => chatLog.removeMessage(detail.id),
);
chat.addEventListener("presence", ({ detail }) => {
  if (detail.full) {
    name.confirmed(chat.you, online.isVerified(chat.you));
    welcome.offer(chat.you, name.signedIn);
    online.render();
  } else {
    online.showChanges(detail);
  }
});
/** Refusals that the name form shows. */
const NAME_REFUSALS = new Set(["bad_name", "name_taken", "name_fixed"]);
chat.addEventListener("error", ({ detail }) => {
  // A refused send or rename is shown by its line or by the name form; a
  // refusal of no message of ours (a broken frame) goes under the composer.
  // Being muted shows above the composer (room_moderation.js).
  const ours = detail.cid !== undefined || detail.code === "outbox_full";
  const shown = NAME_REFUSALS.has(detail.code) || detail.code === "muted";
  if (!ours && !shown) {
    outbox.showError(reasonFor(detail));
  }
});
chat.addEventListener("state", ({ detail }) => {
  if (detail.state === "open") {
    if (missed) chatLog.notice(text.missed);
    missed = false;
    outbox.showPendingLast();
    older.offer();
    if (!unread.scrollToDivider()) chatLog.scrollToEnd();
  }
  // Another browser holds the name: choose another, and rename() joins.
  if (detail.state === "closed" && detail.code === CloseCode.NameTaken) {
    name.open();
  }
  // The token ran out: a site that frames the page may hand a fresh one.
  if (
    detail.state === "closed" && (detail.code === CloseCode.TokenExpired ||
      detail.code === 401 && tokenHasExpired(storedToken()))
  ) {
    askParentForToken(frameAncestors, room.dataset.room);
  }
});
showConnectionState(chat, {
  banner: byId("chat-status"),
  label: byId("chat-status-text"),
  retry: byId("chat-retry"),
  guest: byId("chat-continue-guest"),
  usersPanel,
  composer: {
    input,
    submit: byId("chat-message-submit"),
    closed: byId("chat-composer-closed"),
  },
}, {
  text,
  token: {
    held: () => storedToken() !== "",
    expired: () => tokenHasExpired(storedToken()),
  },
  // Only where the server admits guests (CHAT_AUTH off or optional).
  guestsAllowed: room.dataset.auth !== "required",
  continueAsGuest: () => {
    forgetToken();
    chat.reconnect();
  },
});

completion.wire();
outbox.wire();
name.wire();
welcome.wire();
online.wire(globalThis.matchMedia("(min-width: 48rem)"));
older.wire();
typingLine.wire();
actions.wire();
watchLongPress(logElement, (item) => actions.openFor(item));
unread.wire();
notifier.wire();
moderation.wire();
// The site renews a token by setting a new #token= on this page, or, from
// the page that frames this one, by postMessage.
globalThis.addEventListener("hashchange", () => {
  if (takeTokenFromAddress()) chat.reconnect();
});
acceptTokensFromParent(
  frameAncestors,
  (token) => {
    rememberToken(token);
    chat.reconnect();
  },
);

name.show(storedName());
// In a site's frame, focus would scroll the site's page to the chat.
if (globalThis.parent === globalThis) input.focus();
