/**
 * Index page: checks the room name with the server's own rule (read from the
 * page's data attributes) and goes to /chat/<room>/; lists the rooms with
 * people in them, then the recently active ones with the time of their last
 * message, from GET /api/rooms, refreshed while the page is visible; for a
 * reader the site signed in, the rooms their token allows
 * (index_signed_in.js).
 * Room names only ever reach the page through textContent.
 *
 * @module
 */

import { showSignedInRooms } from "./index_signed_in.js";

/** How often the list of rooms is refreshed while the page is visible. */
const REFRESH_MS = 5_000;

const picker = document.getElementById("room-picker");
const input = document.getElementById("room-name-input");
const submit = document.getElementById("room-name-submit");
const errorBox = document.getElementById("room-name-error");
const roomList = document.getElementById("room-list");
const roomListEmpty = document.getElementById("room-list-empty");

const text = JSON.parse(picker.dataset.text);
const pattern = new RegExp(picker.dataset.pattern, "u");
const maxLength = Number(picker.dataset.maxLength);
const lang = document.documentElement.lang || undefined;
let refreshTimer;

/** Returns the message to show for `name`, or "" when it is valid. */
function problemWith(name) {
  const length = [...name].length;
  if (length === 0) return text.roomNameEmpty;
  if (length > maxLength) return text.roomNameTooLong;
  if (!pattern.test(name)) return text.roomNameInvalid;
  if (/^\.+$/.test(name)) return text.roomNameDots;
  return "";
}

function enter() {
  const name = input.value.trim().normalize("NFC");
  const problem = problemWith(name);
  if (problem) {
    errorBox.textContent = problem;
    errorBox.hidden = false;
    input.setAttribute("aria-invalid", "true");
    input.focus();
    return;
  }
  globalThis.location.pathname = `/chat/${encodeURIComponent(name)}/`;
}

/** How long ago `ms` was, in the reader's words ("5 minutes ago"). */
function ago(ms) {
  const seconds = Math.round((ms - Date.now()) / 1000);
  const format = new Intl.RelativeTimeFormat(lang, { numeric: "auto" });
  for (
    const [unit, size] of [["day", 86_400], ["hour", 3600], ["minute", 60]]
  ) {
    if (Math.abs(seconds) >= size) {
      return format.format(Math.round(seconds / size), unit);
    }
  }
  return format.format(0, "minute");
}

function roomItem(room) {
  const item = document.createElement("li");
  const link = document.createElement("a");
  link.href = `/chat/${encodeURIComponent(room.name)}/`;
  const name = document.createElement("bdi");
  name.className = "room-name";
  name.textContent = room.name;
  const count = document.createElement("span");
  count.className = "room-count";
  if (room.online > 0) {
    count.textContent = text.peopleOnline.split("{count}").join(
      room.online.toLocaleString(lang),
    );
  } else {
    count.classList.add("quiet");
    count.textContent = text.lastMessage.split("{time}").join(
      ago(room.lastMessageAt),
    );
  }
  link.append(name, count);
  item.append(link);
  return item;
}

const isOnlineRoom = (value) =>
  typeof value?.name === "string" && Number.isInteger(value.online) &&
  value.online > 0;

const isRecentRoom = (value) =>
  typeof value?.name === "string" &&
  Number.isFinite(Date.parse(value.lastMessageAt));

/**
 * One list: the rooms with someone online, busiest first, then the others
 * that were recently active, the latest first.
 */
function roomsOf(body) {
  const online = (Array.isArray(body.rooms) ? body.rooms : [])
    .filter(isOnlineRoom)
    .sort((a, b) => b.online - a.online || a.name.localeCompare(b.name, lang));
  const listed = new Set(online.map(({ name }) => name));
  const recent = (Array.isArray(body.recent) ? body.recent : [])
    .filter((room) => isRecentRoom(room) && !listed.has(room.name))
    .map(({ name, lastMessageAt }) => ({
      name,
      online: 0,
      lastMessageAt: Date.parse(lastMessageAt),
    }))
    .sort((a, b) => b.lastMessageAt - a.lastMessageAt);
  return [...online, ...recent];
}

async function refreshRooms() {
  clearTimeout(refreshTimer);
  try {
    const response = await fetch("/api/rooms", { cache: "no-store" });
    // Private rooms (sign-in required) are not listed to a visitor.
    if (!response.ok) {
      roomList.replaceChildren();
      roomListEmpty.hidden = false;
      return;
    }
    const rooms = roomsOf(await response.json());
    roomList.replaceChildren(...rooms.map(roomItem));
    roomListEmpty.hidden = rooms.length > 0;
  } catch (error) {
    // A network error leaves the last list up; the next refresh retries.
    if (!(error instanceof TypeError)) throw error;
  } finally {
    if (document.visibilityState === "visible") {
      refreshTimer = setTimeout(refreshRooms, REFRESH_MS);
    }
  }
}

input.focus();
input.addEventListener("keydown", (event) => {
  if (event.key === "Enter" && !event.isComposing) enter();
});
input.addEventListener("input", () => {
  errorBox.hidden = true;
  input.removeAttribute("aria-invalid");
});
submit.addEventListener("click", enter);
document.addEventListener("visibilitychange", () => {
  if (document.visibilityState === "visible") refreshRooms();
  else clearTimeout(refreshTimer);
});
refreshRooms();
showSignedInRooms(
  {
    section: document.getElementById("my-rooms"),
    who: document.getElementById("my-rooms-who"),
    list: document.getElementById("my-room-list"),
  },
  text,
  lang,
);
