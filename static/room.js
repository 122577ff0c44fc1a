/**
 * Room page: finds the page's elements and puts its parts together. The
 * connection (room_connection.js) keeps one WebSocket and reconnects; its
 * frames (room_frames.js) reach the log (room_log.js), the online list
 * (room_online.js), the reader's name (room_name.js) and the outbox
 * (room_outbox.js), which resends what the server has not confirmed; older
 * pages come on demand (room_older.js). The one state the parts share is
 * `position`, where the log is.
 * A site that signs its users in hands the page a token in the address's
 * fragment (`#token=`); the page keeps it for this tab and joins with it.
 * User text only ever reaches the page through textContent.
 *
 * @module
 */

import { Connection, statusBanner } from "./room_connection.js";
import { frameHandler } from "./room_frames.js";
import { ChatLog } from "./room_log.js";
import { NameForm } from "./room_name.js";
import { OlderHistory } from "./room_older.js";
import { OnlineList } from "./room_online.js";
import { Outbox } from "./room_outbox.js";
import { storedName, takeTokenFromAddress } from "./room_storage.js";

const byId = (id) => document.getElementById(id);
const room = byId("room");
const logElement = byId("chat-log");
const input = byId("chat-message-input");
const usersPanel = byId("chat-users-panel");

const text = JSON.parse(room.dataset.text);
const lang = document.documentElement.lang || undefined;
const roomPath = encodeURIComponent(room.dataset.room);

/**
 * Where the log is: the newest message shown and its log's epoch (for
 * since=), and the oldest shown (for older pages). Written by the frames.
 */
const position = { lastId: 0, epoch: "", oldestId: 0 };

const chatLog = new ChatLog({
  log: logElement,
  scroller: byId("chat-scroller"),
  pill: byId("chat-new-messages"),
  lang,
  text,
});

const retry = byId("chat-retry");
const connection = new Connection({
  roomPath,
  protocol: room.dataset.protocol,
  text,
  position,
  showStatus: statusBanner({
    banner: byId("chat-status"),
    label: byId("chat-status-text"),
    retry,
    usersPanel,
  }),
  // The parts below exist before the first socket opens.
  onFrame: (frame) => handle(frame),
  onNameTaken: () => name.open(),
});
const online = new OnlineList({
  list: byId("chat-users"),
  panel: usersPanel,
  toggle: byId("chat-online-toggle"),
  countText: byId("chat-online-count"),
  chatLog,
  text,
  lang,
  me: () => name.me,
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
  connection,
});
const outbox = new Outbox({
  elements: {
    composer: byId("chat-composer"),
    input,
    error: byId("chat-composer-error"),
  },
  text,
  chatLog,
  connection,
});
const older = new OlderHistory({
  button: byId("chat-load-older"),
  log: logElement,
  position,
  chatLog,
  roomPath,
});
const handle = frameHandler({
  position,
  chatLog,
  text,
  online,
  name,
  outbox,
  older,
});

outbox.wire();
name.wire();
online.wire(globalThis.matchMedia("(min-width: 48rem)"));
older.wire();
retry.addEventListener("click", () => connection.retryNow());
globalThis.addEventListener("online", () => connection.reconnectIfDown());
document.addEventListener("visibilitychange", () => {
  if (document.visibilityState === "visible") connection.reconnectIfDown();
});
// The site renews a token by setting a new #token= on this page.
globalThis.addEventListener("hashchange", () => {
  if (takeTokenFromAddress()) connection.reconnectNow();
});

name.show(storedName());
takeTokenFromAddress();
input.focus();
connection.connect();
