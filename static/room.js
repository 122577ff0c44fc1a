/**
 * Room page: connects to the room's WebSocket (wss: under https), shows
 * history, live messages and who is online, keeps what was typed while the
 * connection was down and sends it once (each message has a cid) when it is
 * back. Reconnects by itself with capped backoff and jitter, at once when
 * the browser comes online or the tab becomes visible, and on "Retry now",
 * asking with since= for what it missed.
 * A site that signs its users in hands the page a token in the address's
 * fragment (`#token=`); the page keeps it for this tab and joins with it.
 * User text only ever reaches the page through textContent.
 *
 * @module
 */

import { ChatLog, fillTemplate, verifiedMark } from "./room_log.js";
import {
  browserKey,
  rememberName,
  storedName,
  storedToken,
  takeTokenFromAddress,
} from "./room_storage.js";

/** Close codes from docs/protocol.md. */
const TOKEN_EXPIRED = 4001;
const NAME_TAKEN = 4009;
const REMOVED_BY_SITE = 4010;
/**
 * Sockets refused in a row, by a server that answers HTTP, before the page
 * gives up: a refused token is refused again, however often it knocks.
 */
const MAX_REFUSALS = 3;
/** Reconnect delays: full jitter over 0.5 s doubling, capped at 5 s. */
const RETRY_BASE_MS = 500;
const RETRY_CAP_MS = 5_000;
const PAGE_SIZE = 50;
/** Refusals after which a message cannot simply be sent again later. */
const FINAL_REFUSALS = new Set(["empty", "too_long", "bad_frame"]);
/** Refusals that concern a rename, shown by the name form. */
const NAME_REFUSALS = new Set(["bad_name", "name_taken", "name_fixed"]);

const room = document.getElementById("room");
const scroller = document.getElementById("chat-scroller");
const logElement = document.getElementById("chat-log");
const input = document.getElementById("chat-message-input");
const composer = document.getElementById("chat-composer");
const composerError = document.getElementById("chat-composer-error");
const status = document.getElementById("chat-status");
const statusText = document.getElementById("chat-status-text");
const retry = document.getElementById("chat-retry");
const myName = document.getElementById("chat-my-name");
const myNameText = document.getElementById("chat-my-name-text");
const nameForm = document.getElementById("chat-name-form");
const nameInput = document.getElementById("chat-name-input");
const nameCancel = document.getElementById("chat-name-cancel");
const nameError = document.getElementById("chat-name-error");
const users = document.getElementById("chat-users");
const usersPanel = document.getElementById("chat-users-panel");
const onlineToggle = document.getElementById("chat-online-toggle");
const onlineCountText = document.getElementById("chat-online-count");
const loadOlder = document.getElementById("chat-load-older");

const text = JSON.parse(room.dataset.text);
const roomName = room.dataset.room;
const lang = document.documentElement.lang || undefined;
const scheme = globalThis.location.protocol === "https:" ? "wss:" : "ws:";
const roomPath = encodeURIComponent(roomName);
const wide = globalThis.matchMedia("(min-width: 48rem)");

const chatLog = new ChatLog({
  log: logElement,
  scroller,
  pill: document.getElementById("chat-new-messages"),
  lang,
  text,
});

let socket;
let retries = 0;
let reconnectTimer;
/** Sockets refused in a row while the server was reachable. */
let refusals = 0;
let lastId = 0;
/** The epoch of the room's log that `lastId` is in, when the server said. */
let epoch = "";
let oldestId = 0;
let me = "";
/** The server vouches for this page's name (a signed user). */
let signedIn = false;
/** A rename was sent; the next presence frame says what it became. */
let renaming = false;
let loadingOlder = false;
/** Names online, each with whether a signed identity holds it. */
const online = new Map();
/** People online in all; the presence frame lists the first ones only. */
let onlineCount = 0;
/**
 * Messages sent or typed but not yet confirmed by the server, by their cid:
 * resent after a reconnect (the server stores a cid once), put back into
 * the composer when refused.
 */
const pending = new Map();

/** The reader's words for a refusal `code`; the server's as a fallback. */
function reasonFor(frame) {
  return text.errors[frame.code] ??
    (typeof frame.error === "string" ? frame.error : "");
}

// --- Connection state -----------------------------------------------------

/**
 * Shows the banner (it overlays the log: nothing moves) or hides it when
 * `message` is empty. `canRetry` offers "Retry now".
 */
function showStatus(message, canRetry = false) {
  statusText.textContent = message;
  status.hidden = message === "";
  retry.hidden = !canRetry;
  usersPanel.classList.toggle("stale", message !== "");
}

function isOpen() {
  return socket?.readyState === WebSocket.OPEN;
}

// --- Who is online --------------------------------------------------------

function renderUsers() {
  const names = [...online.keys()].sort((a, b) => a.localeCompare(b, lang));
  users.replaceChildren(...names.map((name) => {
    const item = document.createElement("li");
    const bdi = document.createElement("bdi");
    bdi.textContent = name;
    item.append(bdi);
    if (online.get(name)) item.append(verifiedMark(text.verified));
    if (name === me) item.className = "me";
    return item;
  }));
  const more = onlineCount - online.size;
  if (more > 0) {
    const item = document.createElement("li");
    item.className = "more";
    item.append(...fillTemplate(text.moreOnline, { count: String(more) }));
    users.append(item);
  }
  onlineCountText.textContent = onlineCount.toLocaleString(lang);
}

function addOnline(user, verified) {
  if (!online.has(user)) onlineCount += 1;
  online.set(user, verified);
}

function removeOnline(user) {
  if (online.delete(user) || onlineCount > online.size) onlineCount -= 1;
}

/** Applies joins, leaves and renames to the list, then tells the log. */
function showChanges({ joined = [], left = [], renamed = [], verified = [] }) {
  for (const user of joined) addOnline(user, verified.includes(user));
  for (const user of left) removeOnline(user);
  for (const { from, to, signed } of renamed) {
    removeOnline(from);
    addOnline(to, signed);
  }
  renderUsers();
  for (const user of joined) {
    // The reader knows they came in; a reconnect is not news either.
    if (user !== me) chatLog.joined(user);
  }
  for (const user of left) chatLog.left(user);
  for (const { from, to } of renamed) chatLog.renamed(from, to);
}

/** Who is online opens as a side column on a wide screen, a panel on a phone. */
function setUsersOpen(open) {
  usersPanel.classList.toggle("open", open);
  onlineToggle.setAttribute("aria-expanded", String(open));
}

// --- The reader's name ----------------------------------------------------

function showMe(name) {
  me = name;
  myNameText.textContent = name;
  myName.setAttribute(
    "aria-label",
    signedIn ? name : text.changeNameOf.split("{user}").join(name),
  );
  myName.disabled = signedIn;
  myName.classList.toggle("signed", signedIn);
  chatLog.markOwn(name);
}

function openNameForm() {
  if (signedIn) return;
  nameForm.hidden = false;
  myName.setAttribute("aria-expanded", "true");
  nameInput.value = me;
  nameError.hidden = true;
  nameInput.focus();
  nameInput.select();
}

function closeNameForm() {
  nameForm.hidden = true;
  myName.setAttribute("aria-expanded", "false");
  renaming = false;
}

function showNameError(message) {
  nameForm.hidden = false;
  nameError.textContent = message;
  nameError.hidden = false;
  nameInput.setAttribute("aria-invalid", "true");
  nameInput.focus();
}

function rename() {
  const name = nameInput.value.trim();
  if (name === "" || name === me) {
    closeNameForm();
    myName.focus();
    return;
  }
  nameInput.removeAttribute("aria-invalid");
  nameError.hidden = true;
  if (isOpen()) {
    // One rename for the room; the new presence frame confirms it.
    renaming = true;
    socket.send(JSON.stringify({ type: "rename", name }));
    return;
  }
  // Offline: the next connection simply joins under the new name (at
  // once, when the last one ended because the old name was taken).
  rememberName(name);
  showMe(name);
  closeNameForm();
  myName.focus();
  reconnectIfDown();
}

// --- Frames ---------------------------------------------------------------

function isMessage(frame) {
  return frame && frame.type === "message" && Number.isInteger(frame.id) &&
    typeof frame.message === "string" && typeof frame.user === "string";
}

function appendMessage(frame) {
  if (!isMessage(frame)) return;
  if (typeof frame.cid === "string") settle(frame.cid);
  if (frame.id <= lastId) return;
  lastId = frame.id;
  if (!oldestId) oldestId = frame.id;
  chatLog.appendMessage(frame);
}

function showHistory(frame) {
  const messages = Array.isArray(frame.messages) ? frame.messages : [];
  // Not recovered: what we show may have a hole, so start over from the
  // latest history and say so if we had been showing messages.
  const missed = !frame.recovered && lastId > 0;
  if (!frame.recovered) {
    chatLog.clear();
    lastId = 0;
    oldestId = 0;
  }
  epoch = typeof frame.epoch === "string" ? frame.epoch : "";
  for (const message of messages) appendMessage(message);
  if (missed) chatLog.notice(text.missed);
  // Whatever the history did not confirm goes out again, in order.
  for (const item of pending.values()) chatLog.appendLine(item.line);
  for (const cid of pending.keys()) transmit(cid);
  loadOlder.hidden = !(oldestId > 1);
  chatLog.scrollToEnd();
}

function showPresence(frame) {
  if (typeof frame.you === "string") {
    const list = Array.isArray(frame.users) ? frame.users : [];
    online.clear();
    for (const user of list) {
      if (typeof user?.name === "string") {
        online.set(user.name, user.verified === true);
      }
    }
    onlineCount = Number.isInteger(frame.count) ? frame.count : online.size;
    signedIn = online.get(frame.you) === true;
    showMe(frame.you);
    if (renaming) {
      rememberName(frame.you);
      closeNameForm();
      myName.focus();
    }
    renderUsers();
  }
}

function strings(list) {
  return Array.isArray(list) ? list.filter((n) => typeof n === "string") : [];
}

function showRefusal(frame) {
  if (NAME_REFUSALS.has(frame.code)) {
    renaming = false;
    showNameError(reasonFor(frame));
    return;
  }
  const item = typeof frame.cid === "string"
    ? pending.get(frame.cid)
    : undefined;
  if (!item) {
    composerError.textContent = reasonFor(frame);
    composerError.hidden = false;
    return;
  }
  if (input.value === "") {
    // Back into the composer, with the reason under it: nothing is lost.
    settle(frame.cid);
    input.value = item.message;
    composerError.textContent = reasonFor(frame);
    composerError.hidden = false;
    input.focus();
    return;
  }
  // The composer holds something newer: the line stays, marked, with a
  // way to send it again (unless sending it again cannot work).
  markNotSent(frame.cid, reasonFor(frame), !FINAL_REFUSALS.has(frame.code));
}

function handle(frame) {
  switch (frame.type) {
    case "history":
      showHistory(frame);
      break;
    case "presence":
      showPresence(frame);
      break;
    case "join":
      if (typeof frame.user === "string") {
        showChanges({
          joined: [frame.user],
          verified: frame.verified === true ? [frame.user] : [],
        });
      }
      break;
    case "leave":
      if (typeof frame.user === "string") showChanges({ left: [frame.user] });
      break;
    case "rename":
      if (typeof frame.from === "string" && typeof frame.to === "string") {
        showChanges({
          renamed: [{
            from: frame.from,
            to: frame.to,
            signed: frame.verified === true,
          }],
        });
      }
      break;
    case "presence_change":
      showChanges({
        joined: strings(frame.joined),
        left: strings(frame.left),
        verified: strings(frame.verified),
        renamed: (Array.isArray(frame.renamed) ? frame.renamed : [])
          .filter((r) =>
            typeof r?.from === "string" && typeof r?.to === "string"
          )
          .map(({ from, to }) => ({ from, to, signed: false })),
      });
      break;
    case "message":
      appendMessage(frame);
      break;
    case "delete":
      if (Number.isInteger(frame.id)) chatLog.removeMessage(frame.id);
      break;
    case "error":
      showRefusal(frame);
      break;
  }
}

// --- The socket -----------------------------------------------------------

function socketUrl(token) {
  const query = new URLSearchParams();
  const name = storedName();
  if (name) query.set("name", name);
  query.set("key", browserKey());
  if (lastId > 0) {
    query.set("since", String(lastId));
    // The ids of another log name other messages: the server answers a
    // since= of another epoch with fresh history.
    if (epoch) query.set("epoch", epoch);
  }
  if (token) query.set("token", token);
  return `${scheme}//${globalThis.location.host}/ws/chat/${roomPath}/?${query}`;
}

function connect() {
  clearTimeout(reconnectTimer);
  if (!isOpen()) showStatus(text.connecting, retries > 0);
  const token = storedToken();
  // Offering the subprotocol asks for the typed frames (history, presence).
  const current = new WebSocket(socketUrl(token), room.dataset.protocol);
  socket = current;
  let opened = false;
  current.addEventListener("open", () => {
    opened = true;
    retries = 0;
    refusals = 0;
    showStatus("");
  });
  current.addEventListener("message", (event) => {
    if (socket !== current) return; // replaced; its successor catches up
    let frame;
    try {
      frame = JSON.parse(event.data);
    } catch {
      return;
    }
    if (frame && typeof frame === "object") handle(frame);
  });
  current.addEventListener("close", (event) => {
    if (socket !== current) return; // replaced on purpose
    if (event.code === NAME_TAKEN) {
      // Reconnecting under the same name would be refused again.
      showStatus(text.nameTaken);
      openNameForm();
      return;
    }
    if (event.code === REMOVED_BY_SITE) {
      // The site decides whether this user may come back, not the page.
      showStatus(text.removedBySite);
      return;
    }
    if (event.code === TOKEN_EXPIRED) {
      // Only the site can renew a token; the same one is refused again.
      if (storedToken() === token) showStatus(text.tokenExpired);
      else connect();
      return;
    }
    showStatus(text.disconnected, true);
    if (opened) scheduleReconnect();
    else retryUnlessRefused(current, token);
  });
}

/** Exponential backoff with full jitter, capped so that a page is back soon. */
function scheduleReconnect() {
  clearTimeout(reconnectTimer);
  const delay = Math.random() *
    Math.min(RETRY_CAP_MS, RETRY_BASE_MS * 2 ** retries);
  retries += 1;
  reconnectTimer = setTimeout(connect, delay);
}

/**
 * A socket that never opened was refused before the upgrade (401 or 403
 * for a token, a limit) or never reached the server. Browsers hide the
 * status from scripts, so the page asks whether the server answers at all:
 * one that is down is waited for as long as it takes, one that answers yet
 * keeps refusing is taken at its word after a few tries.
 */
async function retryUnlessRefused(current, token) {
  let reachable = true;
  try {
    await fetch(globalThis.location.pathname, {
      method: "HEAD",
      cache: "no-store",
    });
  } catch (error) {
    if (!(error instanceof TypeError)) throw error;
    reachable = false; // fetch rejects with a TypeError on network errors
  }
  if (socket !== current) return; // replaced meanwhile (retry, new token)
  refusals = reachable ? refusals + 1 : 0;
  if (refusals < MAX_REFUSALS) scheduleReconnect();
  else showStatus(token ? text.signInRefused : text.connectionRefused, true);
}

/** Reconnects at once: "Retry now", back online, tab visible, new token. */
function reconnectNow() {
  clearTimeout(reconnectTimer);
  const old = socket;
  socket = undefined;
  old?.close(1000, "Reconnecting");
  refusals = 0;
  connect();
}

/** Reconnects at once unless connected or connecting already. */
function reconnectIfDown() {
  const state = socket?.readyState;
  if (state === WebSocket.OPEN || state === WebSocket.CONNECTING) return;
  retries = 0;
  reconnectNow();
}

// --- History on demand ----------------------------------------------------

async function loadOlderMessages() {
  // aria-disabled, not disabled: a disabled button loses keyboard focus.
  if (!oldestId || loadingOlder) return;
  loadingOlder = true;
  loadOlder.setAttribute("aria-disabled", "true");
  try {
    const token = storedToken();
    // Rooms are private where tokens are required: the API wants one too.
    const response = await fetch(
      `/api/rooms/${roomPath}/messages?before=${oldestId}&limit=${PAGE_SIZE}`,
      token ? { headers: { Authorization: `Bearer ${token}` } } : {},
    );
    if (!response.ok) return;
    const { messages } = await response.json();
    const older = (Array.isArray(messages) ? messages : []).filter(isMessage);
    chatLog.prependMessages(older);
    if (older.length) oldestId = older[0].id;
    loadOlder.hidden = older.length < PAGE_SIZE || oldestId <= 1;
  } finally {
    loadingOlder = false;
    loadOlder.removeAttribute("aria-disabled");
    // The button went away with the last page: focus the log instead.
    if (loadOlder.hidden && document.activeElement === document.body) {
      logElement.focus({ preventScroll: true });
    }
  }
}

// --- Sending --------------------------------------------------------------

function pendingLine(message) {
  const item = document.createElement("li");
  item.className = "message pending mine";
  const body = document.createElement("bdi");
  body.className = "text";
  body.textContent = message;
  const state = document.createElement("span");
  state.className = "state";
  state.textContent = text.pending;
  item.append(body, state);
  return item;
}

function markNotSent(cid, reason, canRetry) {
  const item = pending.get(cid);
  if (!item) return;
  item.line.classList.replace("pending", "failed");
  const state = item.line.querySelector(".state");
  state.textContent = `${text.notSent} ${reason}`;
  if (canRetry) {
    const again = document.createElement("button");
    again.type = "button";
    again.className = "send-again";
    again.textContent = text.sendAgain;
    again.addEventListener("click", () => {
      item.line.classList.replace("failed", "pending");
      state.textContent = text.pending;
      again.remove();
      transmit(cid);
    });
    state.after(again);
  } else {
    pending.delete(cid); // never sent again; the line stays as a record
  }
}

function transmit(cid) {
  const item = pending.get(cid);
  if (item && isOpen() && !item.line.classList.contains("failed")) {
    socket.send(
      JSON.stringify({ type: "message", message: item.message, cid }),
    );
  }
}

function settle(cid) {
  pending.get(cid)?.line.remove();
  pending.delete(cid);
}

function send() {
  const message = input.value;
  composerError.hidden = true;
  if (message.trim() === "") return;
  const cid = crypto.randomUUID();
  const line = pendingLine(message);
  pending.set(cid, { message, line });
  chatLog.appendLine(line, { own: true });
  input.value = "";
  input.focus();
  transmit(cid);
}

// --- Wiring ---------------------------------------------------------------

composer.addEventListener("submit", (event) => {
  event.preventDefault();
  send();
});
input.addEventListener("keydown", (event) => {
  // Enter sends; Shift+Enter is a new line; an IME's Enter picks a word.
  if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
    event.preventDefault();
    send();
  }
});
input.addEventListener("input", () => {
  composerError.hidden = true;
});
myName.addEventListener("click", () => {
  if (nameForm.hidden) openNameForm();
  else closeNameForm();
});
nameForm.addEventListener("submit", (event) => {
  event.preventDefault();
  rename();
});
nameCancel.addEventListener("click", () => {
  closeNameForm();
  myName.focus();
});
nameForm.addEventListener("keydown", (event) => {
  if (event.key === "Escape") {
    closeNameForm();
    myName.focus();
  }
});
onlineToggle.addEventListener("click", () => {
  setUsersOpen(!usersPanel.classList.contains("open"));
});
wide.addEventListener("change", () => setUsersOpen(wide.matches));
loadOlder.addEventListener("click", loadOlderMessages);
retry.addEventListener("click", () => {
  retries = 0;
  reconnectNow();
});
globalThis.addEventListener("online", reconnectIfDown);
document.addEventListener("visibilitychange", () => {
  if (document.visibilityState === "visible") reconnectIfDown();
});
// The site renews a token by setting a new #token= on this page.
globalThis.addEventListener("hashchange", () => {
  if (takeTokenFromAddress()) reconnectNow();
});

setUsersOpen(wide.matches);
showMe(storedName());
takeTokenFromAddress();
input.focus();
connect();
