/**
 * The index page of the tutorial: type a room name, press Enter or the
 * button, land in `/chat/<room>/`. The ids are the tutorial's. Above it the
 * product's name, under the field the rules of a room name; below it, the
 * rooms a signed-in reader's token allows (when the tab holds one), the
 * rooms with people in them and the recently active ones, filled in and
 * kept fresh by the script.
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
    bodyClass: "index-page",
    body: html`
      <main id="room-picker" class="picker"
        data-pattern="${ROOM_NAME_PATTERN_SOURCE}"
        data-max-length="${MAX_ROOM_NAME_CHARS}"
        data-text="${JSON.stringify(t.index)}">
        <p class="brand"><img src="/static/favicon.svg" alt="" width="28"
          height="28"><span>${t.productName}</span></p>
        <h1>${t.indexTitle}</h1>
        <div class="picker-form">
          <label for="room-name-input">${t.indexPrompt}</label>
          <div class="row">
            <input id="room-name-input" type="text" size="100" autofocus
              autocomplete="off"
              enterkeyhint="go"
              aria-describedby="room-name-hint room-name-error">
            <input id="room-name-submit" class="primary" type="button"
              value="${t.enterRoom}">
          </div>
          <p id="room-name-hint" class="hint">${t.roomNameHint}</p>
          <p id="room-name-error" class="form-error" role="alert" hidden></p>
        </div>
        <section id="my-rooms" class="picker-rooms" hidden
          aria-labelledby="my-rooms-title">
          <h2 id="my-rooms-title">${t.signedInRooms}</h2>
          <p id="my-rooms-who" class="muted"></p>
          <ul id="my-room-list"></ul>
        </section>
        <section class="picker-rooms" aria-labelledby="room-list-title">
          <h2 id="room-list-title">${t.activeRooms}</h2>
          <ul id="room-list"></ul>
          <p id="room-list-empty" class="muted" hidden>${t.noActiveRooms}</p>
        </section>
      </main>
    `,
  });
}
