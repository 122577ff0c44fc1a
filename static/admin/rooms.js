/**
 * The rooms: those with people online and the recently active ones, from
 * GET /admin/api/rooms every few seconds, filtered by the search field and
 * sorted by people online or by their last message.
 *
 * @module
 */

import {
  api,
  el,
  fill,
  numberText,
  refreshEvery,
  roomHref,
  show,
  text,
  timeText,
} from "./console.js";

const REFRESH_MS = 5_000;
const search = document.getElementById("rooms-search");
const sort = document.getElementById("rooms-sort");
const list = document.getElementById("rooms-list");
const empty = document.getElementById("rooms-empty");
let rooms = [];

function render() {
  const wanted = search.value.trim().toLowerCase();
  const shown = rooms.filter((room) =>
    room.name.toLowerCase().includes(wanted)
  );
  shown.sort(
    sort.value === "activity"
      ? (a, b) => (b.lastMessageAt ?? "").localeCompare(a.lastMessageAt ?? "")
      : (a, b) => b.online - a.online || a.name.localeCompare(b.name),
  );
  show(
    list,
    shown.map((room) =>
      el(
        "tr",
        {},
        el(
          "th",
          { scope: "row" },
          el(
            "a",
            { href: roomHref(room.name) },
            el("bdi", { text: room.name }),
          ),
        ),
        el("td", {
          text: fill(text.peopleOnline, { count: numberText(room.online) }),
        }),
        el("td", {
          text: room.lastMessageAt ? timeText(room.lastMessageAt) : text.none,
        }),
      )
    ),
    empty,
  );
}

refreshEvery(REFRESH_MS, async () => {
  const { rooms: online, recent } = await api("rooms");
  const byName = new Map();
  for (const room of online) byName.set(room.name, { ...room });
  for (const room of recent) {
    const known = byName.get(room.name);
    if (known) known.lastMessageAt = room.lastMessageAt;
    else byName.set(room.name, { ...room, online: 0 });
  }
  rooms = [...byName.values()];
  render();
});
search.addEventListener("input", render);
sort.addEventListener("change", render);
