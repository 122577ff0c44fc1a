/**
 * The HTML pages: `/` → `/chat/`, the index page, and the room pages, in the
 * visitor's language.
 *
 * @module
 */

import { Hono } from "hono";
import type { Context } from "hono";
import { languageDetector } from "hono/language";
import { parseRoomName, type RoomName } from "../chat/room_name.ts";
import { indexPage } from "../templates/index_page.ts";
import {
  isLang,
  type Lang,
  LANGUAGES,
  messagesFor,
} from "../templates/messages.ts";
import { roomPage, type RoomPageServer } from "../templates/room_page.ts";
import { PageError } from "../http/page_error.ts";

/** Hono variables the page routes rely on. */
export interface PageEnv {
  Variables: { language: string };
}

/** Picks the visitor's language from Accept-Language; English otherwise. */
export const detectLanguage = languageDetector({
  supportedLanguages: [...LANGUAGES],
  fallbackLanguage: "en",
  order: ["header"],
  caches: false,
});

/** The language chosen by {@linkcode detectLanguage} for this request. */
export function requestLang(c: Context): Lang {
  const lang: unknown = c.get("language");
  return isLang(lang) ? lang : "en";
}

/** Validates the `:room` parameter or answers 404 saying why. */
function roomParam(c: Context): RoomName {
  const raw = c.req.param("room") ?? "";
  const parsed = parseRoomName(raw);
  if (!parsed.ok) {
    const shown = [...raw].slice(0, 110).join("");
    throw new PageError(404, `No such room "${shown}": ${parsed.error}`, {
      kind: "room_name",
      room: shown,
      problem: parsed.problem,
    });
  }
  return parsed.name;
}

/** The slash form of the current path, with its query string. */
function withTrailingSlash(c: Context): string {
  const url = new URL(c.req.url);
  return `${url.pathname}/${url.search}`;
}

/**
 * Builds the page routes; `server` says what the room page's script must
 * know: the sign-in mode, and the origins that may frame it.
 */
export function pageRoutes(server: RoomPageServer): Hono<PageEnv> {
  const app = new Hono<PageEnv>();
  app.use(detectLanguage);
  app.use(async (c, next) => {
    await next();
    c.header("Vary", "Accept-Language", { append: true });
  });

  app.get("/", (c) => c.redirect("/chat/", 302));
  app.get("/chat", (c) => c.redirect("/chat/", 301));
  app.get("/chat/", (c) => {
    const lang = requestLang(c);
    return c.html(indexPage(lang, messagesFor(lang)));
  });
  app.get("/chat/:room", (c) => {
    roomParam(c);
    return c.redirect(withTrailingSlash(c), 301);
  });
  app.get("/chat/:room/", (c) => {
    const room = roomParam(c);
    const lang = requestLang(c);
    return c.html(roomPage(room, lang, messagesFor(lang), server));
  });
  return app;
}
