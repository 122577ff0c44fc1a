/**
 * The HTML shell every page shares, the console's too: language, title,
 * stylesheets, and one external module script (the Content-Security-Policy
 * forbids inline code).
 *
 * @module
 */

import { html } from "hono/html";
import type { HtmlEscapedString } from "hono/utils/html";
import type { Lang } from "./messages.ts";

/** What a page puts into the shell. */
export interface LayoutProps {
  readonly lang: Lang;
  readonly title: string;
  /** File name under `assets` of the page's script, if any. */
  readonly script?: string;
  /**
   * The path `script` and `stylesheet` are served under.
   * @default "/static"
   */
  readonly assets?: string;
  /** File name under `assets` of a stylesheet after /static/style.css, if any. */
  readonly stylesheet?: string;
  /** A class on `<body>` for page-wide layout, if any. */
  readonly bodyClass?: string;
  readonly body: HtmlEscapedString | Promise<HtmlEscapedString>;
}

/** Renders a complete document; every interpolated value is escaped. */
export function layout(props: LayoutProps) {
  const assets = props.assets ?? "/static";
  return html`
    <!DOCTYPE html>
    <html lang="${props.lang}">
      <head>
    <meta charset="utf-8">
    <meta name="viewport" content="width=device-width, initial-scale=1, viewport-fit=cover">
    <meta name="color-scheme" content="light dark">
    <title>${props.title}</title>
    <link rel="icon" href="/static/favicon.svg" type="image/svg+xml">
    <link rel="stylesheet" href="/static/style.css">
    ${props.stylesheet
      ? html`<link rel="stylesheet" href="${assets}/${props.stylesheet}">`
      : ""}
    ${props.script
      ? html`<script type="module" src="${assets}/${props.script}"></script>`
      : ""}
      </head>
      <body${props.bodyClass
        ? html`
          class="${props.bodyClass}"
        `
        : ""}>
    ${props.body}
      </body>
    </html>
  `;
}
