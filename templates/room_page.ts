/**
 * The room page of the tutorial: the chat log fed over the WebSocket and the
 * message box. The ids are the tutorial's; the room name reaches the script
 * through an escaped data attribute.
 *
 * @module
 */

import { html } from "hono/html";
import type { RoomName } from "../chat/room_name.ts";
import { layout } from "./layout.ts";
import type { Lang, Messages } from "./messages.ts";

/** Renders the page of `room` in `lang`. */
export function roomPage(room: RoomName, lang: Lang, t: Messages) {
  return layout({
    lang,
    title: t.roomTitle(room),
    script: "room.js",
    body: html`<main id="room" data-room="${room}"
  data-text-connecting="${t.connecting}"
  data-text-disconnected="${t.disconnected}">
<p><a href="/chat/">${t.otherRooms}</a></p>
<h1 id="room-title">${t.roomTitle(room)}</h1>
<p id="chat-status" role="status">${t.connecting}</p>
<ol id="chat-log" aria-live="polite"></ol>
<label for="chat-message-input">${t.messageLabel}</label><br>
<input id="chat-message-input" type="text" size="100" autofocus autocomplete="off"><br>
<input id="chat-message-submit" type="button" value="${t.send}">
</main>`,
  });
}
