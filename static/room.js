/**
 * Room page: connects to the room's WebSocket (wss: under https), renders
 * history, live messages, presence and "load older", and reconnects by
 * itself with backoff and jitter, asking for what it missed with since=.
 * A site that signs its users in hands the page a token in the address's
 * fragment (`#token=`); the page keeps it for this tab and joins with it.
 * User text only ever reaches the page through textContent.
 *
 * @module
 */

const NAME_KEY = "chat.name";
const BROWSER_KEY = "chat.key";
/**
 * The site's token for this tab. sessionStorage, not localStorage: the
 * token is the site's to renew, and it should not outlive the tab.
 */
const TOKEN_KEY = "chat.token";
/** Close codes from docs/protocol.md. */
const TOKEN_EXPIRED = 4001;
const NAME_TAKEN = 4009;
const REMOVED_BY_SITE = 4010;
/**
 * Sockets refused in a row, by a server that answers HTTP, before the page
 * gives up: a refused token is refused again, however often it knocks.
 */
const MAX_REFUSALS = 3;
const PAGE_SIZE = 50;

const room = document.getElementById("room");
const log = document.getElementById("chat-log");
const input = document.getElementById("chat-message-input");
const submit = document.getElementById("chat-message-submit");
const status = document.getElementById("chat-status");
const nameForm = document.getElementById("chat-name-form");
const nameInput = document.getElementById("chat-name-input");
const users = document.getElementById("chat-users");
const loadOlder = document.getElementById("chat-load-older");

const text = room.dataset;
const roomName = text.room;
const lang = document.documentElement.lang || undefined;
const scheme = globalThis.location.protocol === "https:" ? "wss:" : "ws:";
const roomPath = encodeURIComponent(roomName);

let socket;
let retries = 0;
let reconnectTimer;
/** Sockets refused in a row while the server was reachable. */
let refusals = 0;
/** The token when storage is disabled; it then lasts for this page. */
let pageToken = "";
let lastId = 0;
let oldestId = 0;
let me = "";
let pageKey;
const online = new Map();
/** People online in all; the presence frame lists the first ones only. */
let onlineCount = 0;
/**
 * Messages sent or typed but not yet confirmed by the server, by their cid:
 * resent after a reconnect (the server stores a cid once), put back into
 * the composer when refused.
 */
const pending = new Map();

function storedName() {
  try {
    return localStorage.getItem(NAME_KEY) ?? "";
  } catch {
    return "";
  }
}

function rememberName(name) {
  try {
    if (name) localStorage.setItem(NAME_KEY, name);
    else localStorage.removeItem(NAME_KEY);
  } catch {
    // Storage can be disabled; the name then lasts for this page only.
  }
}

function storedToken() {
  try {
    return sessionStorage.getItem(TOKEN_KEY) ?? "";
  } catch {
    return pageToken;
  }
}

function rememberToken(token) {
  pageToken = token;
  try {
    sessionStorage.setItem(TOKEN_KEY, token);
  } catch {
    // Storage can be disabled; the token then lasts for this page only.
  }
}

/**
 * Takes a `#token=` the site put in the address. Browsers never send the
 * fragment to a server; dropping it from the address bar at once keeps the
 * token out of bookmarks, copied links and the back button. Returns whether
 * there was one.
 */
function takeTokenFromAddress() {
  const fragment = new URLSearchParams(globalThis.location.hash.slice(1));
  const token = fragment.get("token");
  if (token === null) return false;
  const { pathname, search } = globalThis.location;
  history.replaceState(history.state, "", pathname + search);
  if (token === "") return false;
  rememberToken(token);
  return true;
}

/**
 * This browser's key: it proves to the server that two tabs are one user,
 * so that nobody else can take the name while it is online.
 */
function browserKey() {
  try {
    let key = localStorage.getItem(BROWSER_KEY);
    if (!key) {
      key = crypto.randomUUID();
      localStorage.setItem(BROWSER_KEY, key);
    }
    return key;
  } catch {
    // Without storage the key lasts for this page only.
    pageKey ??= crypto.randomUUID();
    return pageKey;
  }
}

function showStatus(message) {
  status.textContent = message;
  status.hidden = message === "";
}

function formatTime(ts) {
  const date = new Date(ts);
  if (Number.isNaN(date.getTime())) return "";
  return date.toLocaleTimeString(lang, { hour: "2-digit", minute: "2-digit" });
}

function messageItem(frame) {
  const item = document.createElement("li");
  item.className = "message";
  item.dataset.id = String(frame.id);
  const time = document.createElement("time");
  time.dateTime = frame.ts;
  time.textContent = formatTime(frame.ts);
  // <bdi> isolates each name and text, so that right-to-left or override
  // characters in one cannot reorder what stands around it.
  const user = document.createElement("bdi");
  user.className = "user";
  user.textContent = frame.user;
  const body = document.createElement("bdi");
  body.className = "text";
  body.textContent = frame.message;
  item.append(time, " ", user);
  // Only a name the server vouches for (the site's, or a signed user's)
  // gets the mark; a guest can pick any name.
  if (frame.verified === true) item.append(verifiedMark());
  if (frame.server === true) item.classList.add("from-site");
  item.append(" ", body);
  return item;
}

function verifiedMark() {
  const mark = document.createElement("span");
  mark.className = "verified";
  mark.textContent = "\u2713";
  mark.setAttribute("role", "img");
  mark.setAttribute("aria-label", text.textVerified);
  mark.title = text.textVerified;
  return mark;
}

function noticeItem(message, className) {
  const item = document.createElement("li");
  item.className = className;
  item.textContent = message;
  return item;
}

/** A notice whose template has `{user}`, the name isolated in a <bdi>. */
function userNoticeItem(template, name, className) {
  const item = document.createElement("li");
  item.className = className;
  const [before, ...after] = template.split("{user}");
  const user = document.createElement("bdi");
  user.textContent = name;
  item.append(before, user, after.join("{user}"));
  return item;
}

function scrollToEnd() {
  log.scrollTop = log.scrollHeight;
}

function isMessage(frame) {
  return frame && frame.type === "message" && Number.isInteger(frame.id) &&
    typeof frame.message === "string" && typeof frame.user === "string";
}

function appendMessage(frame) {
  if (isMessage(frame) && typeof frame.cid === "string") settle(frame.cid);
  if (!isMessage(frame) || frame.id <= lastId) return;
  lastId = frame.id;
  if (!oldestId) oldestId = frame.id;
  log.append(messageItem(frame));
}

function showHistory(frame) {
  const messages = Array.isArray(frame.messages) ? frame.messages : [];
  // Not recovered: what we show may have a hole, so start over from the
  // latest history and say so if we had been showing messages.
  const missed = !frame.recovered && lastId > 0;
  if (!frame.recovered) {
    log.replaceChildren();
    lastId = 0;
    oldestId = 0;
  }
  for (const message of messages) appendMessage(message);
  if (missed) log.append(noticeItem(text.textMissed, "notice"));
  // Whatever the history did not confirm goes out again, in order.
  for (const item of pending.values()) log.append(item.line);
  for (const cid of pending.keys()) transmit(cid);
  loadOlder.hidden = !(oldestId > 1);
  scrollToEnd();
}

function renderUsers() {
  const names = [...online.keys()].sort((a, b) => a.localeCompare(b));
  users.replaceChildren(...names.map((name) => {
    const item = document.createElement("li");
    const bdi = document.createElement("bdi");
    bdi.textContent = name;
    item.append(bdi);
    if (name === me) item.className = "me";
    return item;
  }));
  const more = onlineCount - online.size;
  if (more > 0) {
    const item = document.createElement("li");
    item.className = "more";
    item.textContent = text.textMoreOnline.split("{count}").join(String(more));
    users.append(item);
  }
}

/** Shows who came and who went, in the list and in the log. */
function showChanges(joined, left) {
  for (const user of joined) {
    if (!online.has(user)) onlineCount += 1;
    online.set(user, 1);
  }
  for (const user of left) {
    if (online.delete(user) || onlineCount > online.size) onlineCount -= 1;
  }
  renderUsers();
  for (const user of joined) {
    log.append(userNoticeItem(text.textJoined, user, "presence"));
  }
  for (const user of left) {
    log.append(userNoticeItem(text.textLeft, user, "presence"));
  }
  scrollToEnd();
}

function handle(frame) {
  switch (frame.type) {
    case "history":
      showHistory(frame);
      break;
    case "presence":
      me = typeof frame.you === "string" ? frame.you : me;
      if (!nameInput.value) nameInput.placeholder = me;
      online.clear();
      for (const user of Array.isArray(frame.users) ? frame.users : []) {
        if (typeof user?.name === "string") {
          online.set(user.name, user.connections);
        }
      }
      onlineCount = Number.isInteger(frame.count) ? frame.count : online.size;
      renderUsers();
      break;
    case "join":
    case "leave":
      if (typeof frame.user !== "string") break;
      if (frame.type === "join") showChanges([frame.user], []);
      else showChanges([], [frame.user]);
      break;
    case "presence_change": {
      const names = (list) =>
        Array.isArray(list) ? list.filter((n) => typeof n === "string") : [];
      showChanges(names(frame.joined), names(frame.left));
      break;
    }
    case "message":
      appendMessage(frame);
      scrollToEnd();
      break;
    case "delete":
      // The selector is built from a whole number only, never from text.
      if (Number.isInteger(frame.id)) {
        log.querySelector(`li.message[data-id="${frame.id}"]`)?.remove();
      }
      break;
    case "error":
      if (typeof frame.cid === "string" && pending.has(frame.cid)) {
        // Refused: the text goes back to the composer, not lost.
        const { message } = pending.get(frame.cid);
        settle(frame.cid);
        if (input.value === "") input.value = message;
      }
      if (typeof frame.error === "string") {
        log.append(noticeItem(frame.error, "error"));
        scrollToEnd();
      }
      break;
  }
}

function socketUrl(token) {
  const query = new URLSearchParams();
  const name = storedName();
  if (name) query.set("name", name);
  query.set("key", browserKey());
  if (lastId > 0) query.set("since", String(lastId));
  if (token) query.set("token", token);
  const search = query.size ? `?${query}` : "";
  return `${scheme}//${globalThis.location.host}/ws/chat/${roomPath}/${search}`;
}

function connect() {
  clearTimeout(reconnectTimer);
  showStatus(text.textConnecting);
  const token = storedToken();
  // Offering the subprotocol asks for the typed frames (history, presence).
  const current = new WebSocket(socketUrl(token), text.protocol);
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
    if (socket !== current) return; // replaced on purpose (name change)
    if (event.code === NAME_TAKEN) {
      // Reconnecting under the same name would be refused again.
      showStatus(text.textNameTaken);
      nameInput.focus();
      return;
    }
    if (event.code === REMOVED_BY_SITE) {
      // The site decides whether this user may come back, not the page.
      showStatus(text.textRemoved);
      return;
    }
    if (event.code === TOKEN_EXPIRED) {
      // Only the site can renew a token; the same one is refused again.
      if (storedToken() === token) showStatus(text.textExpired);
      else connect();
      return;
    }
    showStatus(text.textDisconnected);
    if (opened) scheduleReconnect();
    else retryUnlessRefused(current, token);
  });
}

/** Exponential backoff with full jitter, capped at 30 s. */
function scheduleReconnect() {
  const delay = Math.random() * Math.min(30_000, 500 * 2 ** retries);
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
  if (socket !== current) return; // replaced meanwhile (name, new token)
  refusals = reachable ? refusals + 1 : 0;
  if (refusals < MAX_REFUSALS) scheduleReconnect();
  else showStatus(token ? text.textSignInRefused : text.textRefused);
}

function reconnectNow() {
  clearTimeout(reconnectTimer);
  const old = socket;
  socket = undefined;
  old?.close(1000, "Reconnecting");
  refusals = 0;
  connect();
}

async function loadOlderMessages() {
  if (!oldestId) return;
  loadOlder.disabled = true;
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
    log.prepend(...older.map(messageItem));
    if (older.length) oldestId = older[0].id;
    loadOlder.hidden = older.length < PAGE_SIZE || oldestId <= 1;
  } finally {
    loadOlder.disabled = false;
  }
}

function pendingLine(message) {
  const item = document.createElement("li");
  item.className = "pending";
  const body = document.createElement("bdi");
  body.className = "text";
  body.textContent = message;
  item.append(body);
  return item;
}

function transmit(cid) {
  const item = pending.get(cid);
  if (item && socket?.readyState === WebSocket.OPEN) {
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
  if (message.trim() === "") return;
  const cid = crypto.randomUUID();
  const line = pendingLine(message);
  pending.set(cid, { message, line });
  log.append(line);
  scrollToEnd();
  input.value = "";
  input.focus();
  transmit(cid);
}

nameInput.value = storedName();
nameForm.addEventListener("submit", (event) => {
  event.preventDefault();
  const name = nameInput.value.trim();
  if (name === storedName()) return;
  rememberName(name);
  reconnectNow();
  input.focus();
});
loadOlder.addEventListener("click", loadOlderMessages);
input.focus();
input.addEventListener("keydown", (event) => {
  if (event.key === "Enter" && !event.isComposing) send();
});
submit.addEventListener("click", send);
// The site renews a token by setting a new #token= on this page.
globalThis.addEventListener("hashchange", () => {
  if (takeTokenFromAddress()) reconnectNow();
});
takeTokenFromAddress();
connect();
