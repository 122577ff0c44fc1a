/**
 * The admin console's pages: sign-in, "turned off", and the pages behind
 * the session (overview, rooms, one room, bans and mutes, audit log). The
 * server renders their frame; their scripts fill in and refresh the
 * figures and lists from `/admin/api/`.
 *
 * @module
 */

import { html } from "hono/html";
import type { AdminMessages } from "./admin_messages.ts";
import { adminLayout, type AdminPageName } from "./admin_layout.ts";
import type { Lang } from "./messages.ts";

/** How one may sign in on this server. */
export interface SignInWays {
  /** CHAT_API_KEY is set. */
  readonly key: boolean;
  /** Tokens are checked (CHAT_AUTH is on). */
  readonly token: boolean;
}

/**
 * A table the page's script fills (its body `<id>-list`) under the column
 * `heads`, and the line shown instead while it is empty (`<id>-empty`).
 */
function listTable(id: string, heads: readonly string[], empty: string) {
  return html`
    <table class="admin-table">
      <thead>
        <tr>${heads.map((head) => html`<th scope="col">${head}</th>`)}</tr>
      </thead>
      <tbody id="${id}-list"></tbody>
    </table>
    <p id="${id}-empty" class="muted" hidden>${empty}</p>
  `;
}

/**
 * One of the console's pages in its header: titled with its name, its
 * script `<page>.js`, `body` under its heading.
 */
function consolePage(
  lang: Lang,
  t: AdminMessages,
  page: AdminPageName,
  body: unknown,
) {
  return adminLayout({
    lang,
    t,
    title: t[page],
    script: `${page}.js`,
    current: page,
    body: main(t, page, html`<h1>${t[page]}</h1>${body}`),
  });
}

/** The main element every console page shares, with the script's text. */
function main(t: AdminMessages, page: string, body: unknown, room = "") {
  return html`
    <main id="admin" class="admin" data-page="${page}"
      data-text="${JSON.stringify(t.text)}" ${room === "" ? "" : html`
        data-room="${room}"
      `}>
      ${body}
      <p id="admin-status" class="muted admin-status" role="status"></p>
    </main>
  `;
}

/** The sign-in page; `keyError` after a refused key (401, or 429 when locked out). */
export function signInPage(
  lang: Lang,
  t: AdminMessages,
  ways: SignInWays,
  /** Why the key just posted did not sign in, shown under the form. */
  keyError?: string,
) {
  return adminLayout({
    lang,
    t,
    title: t.signInTitle,
    script: "signin.js",
    body: main(
      t,
      "signin",
      html`
        <h1>${t.signInTitle}</h1>
        <p>${t.signInIntro}</p>
        ${ways.key
          ? html`
            <form id="admin-signin" method="post" action="/admin/session"
              class="admin-form">
              <label for="admin-key">${t.apiKey}</label>
              <input id="admin-key" name="key" type="password" required
                autocomplete="current-password"${keyError !== undefined
                  ? html`
                    aria-invalid="true" aria-describedby="admin-key-error"
                  `
                  : ""}>
              <button class="primary" type="submit">${t.signIn}</button>
              ${keyError !== undefined
                ? html`<p id="admin-key-error" class="form-error" role="alert">${keyError}</p>`
                : ""}
            </form>
          `
          : ""}
        <p id="admin-token-error" class="form-error" role="alert" hidden></p>
      `,
    ),
  });
}

/** What `/admin/` shows when nobody can sign in. */
export function disabledPage(lang: Lang, t: AdminMessages) {
  return adminLayout({
    lang,
    t,
    title: t.disabledTitle,
    body: html`
      <main id="admin" class="admin">
        <h1>${t.disabledTitle}</h1>
        <p>${t.disabledIntro}</p>
        <p id="admin-disabled-how">${t.disabledHow}</p>
      </main>
    `,
  });
}

function figure(id: string, label: string) {
  return html`
    <div class="admin-figure">
      <dt>${label}</dt>
      <dd id="${id}">…</dd>
    </div>
  `;
}

/** The overview: the server's figures, refreshed every few seconds. */
export function overviewPage(lang: Lang, t: AdminMessages) {
  return consolePage(
    lang,
    t,
    "overview",
    html`
      <dl class="admin-figures">
        ${figure("ov-connections", t.connections)}
        ${figure("ov-rooms", t.activeRooms)}
        ${figure("ov-rate", t.messageRate)}
        ${figure("ov-memory", t.memory)}
        ${figure("ov-fds", t.descriptors)}
        ${figure("ov-store", t.store)}
        ${figure("ov-bus", t.bus)}
        ${figure("ov-webhooks", t.webhooks)}
        ${figure("ov-uptime", t.uptime)}
      </dl>
    `,
  );
}

/** The rooms: searchable, sorted by people online or by activity. */
export function roomsPage(lang: Lang, t: AdminMessages) {
  return consolePage(
    lang,
    t,
    "rooms",
    html`
      <div class="admin-tools">
        <label for="rooms-search">${t.search}</label>
        <input id="rooms-search" type="search" autocomplete="off">
        <label for="rooms-sort">${t.sortBy}</label>
        <select id="rooms-sort">
          <option value="online">${t.sortOnline}</option>
          <option value="activity">${t.sortActivity}</option>
        </select>
      </div>
      ${listTable("rooms", [t.room, t.online, t.lastMessage], t.text.noRooms)}
    `,
  );
}

/** The duration picker and reason of a mute or a ban. */
function actionForm(t: AdminMessages) {
  return html`
    <form id="act-form" class="admin-form admin-act" hidden
      aria-labelledby="act-title">
      <h3 id="act-title"></h3>
      <label for="act-duration">${t.duration}</label>
      <select id="act-duration">
        <option value="600">${t.minutes10}</option>
        <option value="3600">${t.hour1}</option>
        <option value="86400">${t.day1}</option>
        <option value="">${t.forGood}</option>
      </select>
      <label for="act-reason">${t.reason}</label>
      <input id="act-reason" type="text" maxlength="200" autocomplete="off">
      <div class="row">
        <button id="act-cancel" type="button">${t.cancel}</button>
        <button id="act-apply" class="primary" type="submit">${t
          .apply}</button>
      </div>
    </form>
  `;
}

/** One room: its live log, who is online, its mutes and bans. */
export function roomPage(lang: Lang, t: AdminMessages, room: string) {
  return adminLayout({
    lang,
    t,
    title: t.roomTitle(room),
    script: "room.js",
    current: "room",
    body: main(
      t,
      "room",
      html`
        <h1><bdi>${room}</bdi></h1>
        <div class="admin-room">
          <section aria-labelledby="room-log-title" class="admin-panel">
            <h2 id="room-log-title">${t.log}</h2>
            <ol id="room-log" class="admin-log"></ol>
            <p id="room-log-empty" class="muted" hidden>${t.text
              .noMessages}</p>
          </section>
          <section aria-labelledby="room-online-title" class="admin-panel">
            <h2 id="room-online-title">${t.online}</h2>
            <ul id="room-online" class="admin-people"></ul>
            <p id="room-online-empty" class="muted" hidden>${t.text
              .nobodyOnline}</p>
            ${actionForm(t)}
            <h2>${t.roomSanctions}</h2>
            <ul id="room-sanctions" class="admin-people"></ul>
            <p id="room-sanctions-empty" class="muted" hidden>${t.text
              .noSanctions}</p>
          </section>
        </div>
      `,
      room,
    ),
  });
}

/** Every mute and ban in force, with unmute and unban. */
export function sanctionsPage(lang: Lang, t: AdminMessages) {
  return consolePage(
    lang,
    t,
    "sanctions",
    html`
      ${listTable("sanctions", [
        t.kind,
        t.user,
        t.room,
        t.until,
        t.reason,
        t.by,
        t.action,
      ], t.text.noSanctions)}
    `,
  );
}

/** The audit log, newest first, a page at a time. */
export function auditPage(lang: Lang, t: AdminMessages) {
  return consolePage(
    lang,
    t,
    "audit",
    html`
      ${listTable("audit", [
        t.when,
        t.by,
        t.action,
        t.room,
        t.user,
        t.reason,
        t.until,
      ], t.text.noEntries)}
      <button id="audit-older" type="button" hidden>${t.older}</button>
    `,
  );
}
