/**
 * Index page, for a reader the site signed in: the token this tab keeps
 * (room_storage.js) may allow only some rooms, so the page asks the server
 * which (`GET /api/me`, which verifies the token) and lists them as links.
 * Without a token, or with one the server refuses, the list stays hidden.
 * Names only ever reach the page through textContent.
 *
 * @module
 */

import { storedToken } from "./room_storage.js";

function roomLink(room) {
  const item = document.createElement("li");
  const link = document.createElement("a");
  link.href = `/chat/${encodeURIComponent(room)}/`;
  const name = document.createElement("bdi");
  name.className = "room-name";
  name.textContent = room;
  link.append(name);
  item.append(link);
  return item;
}

/** What the server says about a token: `{name, rooms}`, or undefined. */
function identityOf(body) {
  if (typeof body?.name !== "string") return undefined;
  if (body.rooms === null) return { name: body.name, rooms: null };
  if (!Array.isArray(body.rooms)) return undefined;
  return {
    name: body.name,
    rooms: body.rooms.filter((room) => typeof room === "string"),
  };
}

/**
 * Fills `section` (its `who` line and `list`) with the rooms this tab's
 * token allows, in the words of `text`.
 */
export async function showSignedInRooms({ section, who, list }, text, lang) {
  const token = storedToken();
  if (token === "") return;
  let identity;
  try {
    const response = await fetch("/api/me", {
      headers: { Authorization: `Bearer ${token}` },
      cache: "no-store",
    });
    // 404: sign-in is off here; 401: the token is refused. Nothing to show.
    if (!response.ok) return;
    identity = identityOf(await response.json());
  } catch (error) {
    if (!(error instanceof TypeError || error instanceof SyntaxError)) {
      throw error;
    }
    return; // no answer: the page works without this list
  }
  if (!identity) return;
  const sentence = identity.rooms === null
    ? text.signedInAnyRoom
    : text.signedInAs;
  who.textContent = sentence.split("{user}").join(identity.name);
  const rooms = [...(identity.rooms ?? [])].sort((a, b) =>
    a.localeCompare(b, lang)
  );
  list.replaceChildren(...rooms.map(roomLink));
  section.hidden = false;
}
