/**
 * The page shown for a missing page or an invalid room name, saying what
 * was wrong and offering the way back to the index.
 *
 * @module
 */

import { html } from "hono/html";
import { layout } from "./layout.ts";
import type { Lang, Messages } from "./messages.ts";

/** Renders an error page; `detail` is shown as text. */
export function errorPage(
  status: number,
  detail: string,
  lang: Lang,
  t: Messages,
) {
  const title = status === 404 ? t.notFoundTitle : t.errorTitle;
  return layout({
    lang,
    title,
    body: html`
      <main>
        <h1>${title}</h1>
        <p id="error-detail">${detail}</p>
        <p><a href="/chat/">${t.otherRooms}</a></p>
      </main>
    `,
  });
}
