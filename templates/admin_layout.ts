/**
 * The admin console's shell: the chat's stylesheet and the console's own,
 * one module script from `/admin/static/` (the Content-Security-Policy
 * forbids inline code), and, once signed in, the header with the console's
 * pages and the sign-out button (a form POST, so it works without script).
 *
 * @module
 */

import { html } from "hono/html";
import type { HtmlEscapedString } from "hono/utils/html";
import type { AdminMessages } from "./admin_messages.ts";
import { layout } from "./layout.ts";
import type { Lang } from "./messages.ts";

/** The console's pages, as the header links them. */
export type AdminPageName = "overview" | "rooms" | "sanctions" | "audit";

/** What a console page puts into the shell. */
export interface AdminLayoutProps {
  readonly lang: Lang;
  readonly t: AdminMessages;
  readonly title: string;
  /** File name under /admin/static/ of the page's script, if any. */
  readonly script?: string;
  /** The page the header marks as current; none: no header (sign-in). */
  readonly current?: AdminPageName | "room";
  readonly body: HtmlEscapedString | Promise<HtmlEscapedString>;
}

const LINKS: readonly [AdminPageName, string][] = [
  ["overview", "/admin/"],
  ["rooms", "/admin/rooms"],
  ["sanctions", "/admin/sanctions"],
  ["audit", "/admin/audit"],
];

function header(t: AdminMessages, current: AdminPageName | "room") {
  return html`
    <header class="admin-header">
      <p class="brand"><img src="/static/favicon.svg" alt="" width="24"
        height="24"><span>${t.title}</span></p>
      <nav aria-label="${t.nav}">
        <ul>
          ${LINKS.map(([page, href]) =>
            html`<li><a href="${href}"${
              page === current ||
                (page === "rooms" && current === "room")
                ? html`
                  aria-current="page"
                `
                : ""
            }>${t[page]}</a></li>`
          )}
        </ul>
      </nav>
      <form method="post" action="/admin/signout" class="admin-signout">
        <button type="submit">${t.signOut}</button>
      </form>
    </header>
  `;
}

/** Renders a complete console document; every interpolated value is escaped. */
export function adminLayout(props: AdminLayoutProps) {
  return layout({
    lang: props.lang,
    title: `${props.title} · ${props.t.title}`,
    assets: "/admin/static",
    stylesheet: "console.css",
    ...(props.script === undefined ? {} : { script: props.script }),
    bodyClass: "admin-page",
    body: html`
      ${props.current === undefined ? "" : header(props.t, props.current)}
      ${props.body}
    `,
  });
}
