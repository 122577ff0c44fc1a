/**
 * The room page: a full-height chat. A header with the room name, who is
 * online and the reader's own name; the log filling the space; a composer
 * at the bottom. The tutorial's ids are kept (`#chat-log`,
 * `#chat-message-input`, `#chat-message-submit`); the room name, the UI
 * text, the sign-in mode and the origins that may frame the page reach the
 * script through escaped data attributes.
 *
 * @module
 */

import { html } from "hono/html";
import type { SignInMode } from "../chat/identity.ts";
import type { RoomName } from "../chat/room_name.ts";
import { MAX_USER_NAME_CHARS } from "../chat/user_name.ts";
import { layout } from "./layout.ts";
import type { Lang, Messages } from "./messages.ts";

/** What the room page's script needs to know about the server. */
export interface RoomPageServer {
  /** The sign-in mode: guests are welcome unless it is `required`. */
  readonly auth: SignInMode;
  /** Origins that may frame the page and hand it a token by postMessage. */
  readonly frameAncestors: readonly string[];
}

/** Renders the page of `room` in `lang`. */
export function roomPage(
  room: RoomName,
  lang: Lang,
  t: Messages,
  server: RoomPageServer,
) {
  return layout({
    lang,
    title: t.roomTitle(room),
    script: "room.js",
    bodyClass: "room-page",
    body: html`
      <main id="room" class="room" data-room="${room}"
        data-text="${JSON.stringify(t.room)}" data-auth="${server.auth}"
        data-frame-ancestors="${server.frameAncestors.join(" ")}">
        <header class="room-header">
          <a class="room-back" href="/chat/"
            title="${t
              .otherRooms}"><span aria-hidden="true">‹</span> <span class="label">${t
              .rooms}</span></a>
          <h1 id="room-title" title="${room}"><bdi>${room}</bdi></h1>
          <button id="chat-online-toggle" class="room-online-toggle" type="button"
            aria-controls="chat-users-panel" aria-expanded="false"
            title="${t
              .showOnline}"><span class="dot" aria-hidden="true"></span><span
          class="visually-hidden">${t.online}: </span><span
          id="chat-online-count">0</span></button>
          <button id="chat-notify" class="room-notify" type="button"
            aria-pressed="false" hidden><span aria-hidden="true">🔔</span><span
            class="visually-hidden"></span></button>
          <div class="room-me">
            <button id="chat-my-name" class="room-my-name" type="button"><bdi
            id="chat-my-name-text"></bdi><span class="edit"
            aria-hidden="true">✎</span></button>
            <form id="chat-name-form" class="room-name-form" hidden>
              <label for="chat-name-input">${t.yourName}</label>
              <input id="chat-name-input" type="text" maxlength="${MAX_USER_NAME_CHARS}"
                autocomplete="nickname" aria-describedby="chat-name-error">
              <div class="row">
                <button id="chat-name-cancel" type="button">${t.cancel}</button>
                <button id="chat-name-save" class="primary"
                  type="submit">${t.saveName}</button>
              </div>
              <p id="chat-name-error" class="form-error" role="alert" hidden></p>
            </form>
          </div>
        </header>
        <div class="room-body">
          <section class="room-log" aria-label="${t.roomTitle(room)}">
            <div id="chat-status" class="room-banner" role="status"><span
            id="chat-status-text">${t.room.connecting}</span>
            <button id="chat-retry" type="button" hidden>${t
              .retryNow}</button>
            <button id="chat-continue-guest" type="button" hidden>${t
              .continueAsGuest}</button></div>
            <form id="chat-welcome" class="room-welcome" hidden>
              <label for="chat-welcome-input">${t.welcome}</label>
              <div class="row">
                <input id="chat-welcome-input" type="text"
                  maxlength="${MAX_USER_NAME_CHARS}" autocomplete="nickname"
                  aria-describedby="chat-welcome-error">
                <button id="chat-welcome-save" class="primary"
                  type="submit">${t.saveName}</button>
                <button id="chat-welcome-keep" type="button">${t
                  .keepName}</button>
              </div>
              <p id="chat-welcome-error" class="form-error" role="alert" hidden></p>
            </form>
            <div id="chat-scroller" class="room-scroller">
              <button id="chat-load-older" class="room-load-older" type="button"
                hidden>${t.loadOlder}</button>
              <ol id="chat-log" aria-live="polite" aria-relevant="additions"
                tabindex="0"
                aria-label="${t.roomTitle(room)}"></ol>
              <div id="chat-empty" class="room-empty" hidden>
                <p class="title">${t.emptyTitle}</p>
                <p>${t.emptyHint}</p>
              </div>
            </div>
            <button id="chat-new-messages" class="room-new-messages" type="button"
              hidden><span class="count"></span> <span aria-hidden="true">↓</span></button>
          </section>
          <div id="chat-users-backdrop" class="room-users-backdrop"></div>
          <aside id="chat-users-panel" class="room-users"
            aria-labelledby="chat-users-title">
            <div class="room-users-head">
              <h2 id="chat-users-title">${t.online}</h2>
              <button id="chat-users-close" class="room-users-close" type="button"
                aria-label="${t
                  .closeOnline}"><span aria-hidden="true">×</span></button>
            </div>
            <ul id="chat-users"></ul>
          </aside>
        </div>
        <section id="chat-banned" class="room-banned" hidden
          aria-labelledby="chat-banned-title">
          <h2 id="chat-banned-title" tabindex="-1">${t.room.moderation
            .bannedTitle}</h2>
          <p id="chat-banned-detail"></p>
          <p><a href="/chat/">${t.otherRooms}</a></p>
        </section>
        <form id="chat-composer" class="room-composer">
          <p id="chat-muted" class="composer-muted" role="status" hidden></p>
          <p id="chat-typing" class="room-typing" aria-live="polite"></p>
          <label for="chat-message-input" class="visually-hidden">${t
            .messageLabel}</label>
          <ul id="chat-mention-list" class="room-mention-list" role="listbox"
            aria-label="${t.room.mentionList}" hidden></ul>
          <textarea id="chat-message-input" rows="1" autofocus autocomplete="off"
            placeholder="${t.messagePlaceholder}" aria-autocomplete="list"
            aria-controls="chat-mention-list"
            aria-describedby="chat-composer-error"></textarea>
          <button id="chat-message-submit" class="primary"
            type="submit">${t.send}</button>
          <p id="chat-composer-error" class="form-error" role="alert" hidden></p>
          <p id="chat-composer-editing" class="composer-editing"
            hidden>${t.room
              .editing}</p>
          <p id="chat-composer-closed" class="composer-closed" hidden>${t
            .composerClosed}</p>
        </form>
      </main>
    `,
  });
}
