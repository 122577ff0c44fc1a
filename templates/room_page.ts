/**
 * The room page of the tutorial: the chat log fed over the WebSocket and the
 * message box, plus the name, the online list and "load older". The
 * tutorial's ids are kept; the room name and UI text reach the script
 * through escaped data attributes.
 *
 * @module
 */

import { html } from "hono/html";
import { CHAT_PROTOCOL } from "../chat/frames.ts";
import type { RoomName } from "../chat/room_name.ts";
import { MAX_USER_NAME_CHARS } from "../chat/user_name.ts";
import { layout } from "./layout.ts";
import type { Lang, Messages } from "./messages.ts";

/** Renders the page of `room` in `lang`. */
export function roomPage(room: RoomName, lang: Lang, t: Messages) {
  return layout({
    lang,
    title: t.roomTitle(room),
    script: "room.js",
    body: html`<main id="room" data-room="${room}"
  data-protocol="${CHAT_PROTOCOL}"
  data-text-connecting="${t.connecting}"
  data-text-disconnected="${t.disconnected}"
  data-text-joined="${t.joined}"
  data-text-left="${t.left}"
  data-text-missed="${t.missed}"
  data-text-name-taken="${t.nameTaken}"
  data-text-expired="${t.tokenExpired}"
  data-text-removed="${t.removedBySite}"
  data-text-sign-in-refused="${t.signInRefused}"
  data-text-refused="${t.connectionRefused}"
  data-text-verified="${t.verified}"
  data-text-more-online="${t.moreOnline}">
<p><a href="/chat/">${t.otherRooms}</a></p>
<h1 id="room-title">${t.roomTitle(room)}</h1>
<p id="chat-status" role="status">${t.connecting}</p>
<form id="chat-name-form">
  <label for="chat-name-input">${t.yourName}</label>
  <input id="chat-name-input" type="text" maxlength="${MAX_USER_NAME_CHARS}" autocomplete="nickname">
  <button id="chat-name-save" type="submit">${t.saveName}</button>
</form>
<div class="room-body">
  <section class="room-log">
    <button id="chat-load-older" type="button" hidden>${t.loadOlder}</button>
    <ol id="chat-log" aria-live="polite"></ol>
  </section>
  <aside class="room-users">
    <h2>${t.online}</h2>
    <ul id="chat-users"></ul>
  </aside>
</div>
<label for="chat-message-input">${t.messageLabel}</label><br>
<input id="chat-message-input" type="text" size="100" autofocus autocomplete="off"><br>
<input id="chat-message-submit" type="button" value="${t.send}">
</main>`,
  });
}
