/**
 * The index page of the tutorial: type a room name, press Enter or the
 * button, land in `/chat/<room>/`. The ids are the tutorial's.
 *
 * @module
 */

import { html } from "hono/html";
import {
  MAX_ROOM_NAME_CHARS,
  ROOM_NAME_PATTERN_SOURCE,
} from "../chat/room_name.ts";
import { layout } from "./layout.ts";
import type { Lang, Messages } from "./messages.ts";

/** Renders the index page in `lang`. */
export function indexPage(lang: Lang, t: Messages) {
  return layout({
    lang,
    title: t.indexTitle,
    script: "index.js",
    body: html`<main id="room-picker"
  data-pattern="${ROOM_NAME_PATTERN_SOURCE}"
  data-max-length="${MAX_ROOM_NAME_CHARS}"
  data-error-empty="${t.roomNameEmpty}"
  data-error-too-long="${t.roomNameTooLong}"
  data-error-invalid="${t.roomNameInvalid}"
  data-error-dots="${t.roomNameDots}">
<h1>${t.indexTitle}</h1>
<label for="room-name-input">${t.indexPrompt}</label><br>
<input id="room-name-input" type="text" size="100" autofocus autocomplete="off"
  aria-describedby="room-name-error"><br>
<input id="room-name-submit" type="button" value="${t.enterRoom}">
<p id="room-name-error" role="alert" hidden></p>
</main>`,
  });
}
