/**
 * Browser assets under `/static/`. They are imported as text so that they are
 * part of the module graph: a bundle or a compiled binary carries them, and
 * serving them reads nothing from disk. Responses carry an ETag.
 *
 * @module
 */

import { Hono } from "hono";
import { etag } from "hono/etag";
import { HTTPException } from "hono/http-exception";
import indexScript from "../static/index.js" with { type: "text" };
import indexSignedInScript from "../static/index_signed_in.js" with {
  type: "text",
};
import roomScript from "../static/room.js" with { type: "text" };
import roomNameScript from "../static/room_name.js" with { type: "text" };
import roomOlderScript from "../static/room_older.js" with { type: "text" };
import roomOnlineScript from "../static/room_online.js" with { type: "text" };
import roomOutboxScript from "../static/room_outbox.js" with { type: "text" };
import roomLogScript from "../static/room_log.js" with { type: "text" };
import roomEmbedScript from "../static/room_embed.js" with { type: "text" };
import roomDaysScript from "../static/room_days.js" with { type: "text" };
import roomWelcomeScript from "../static/room_welcome.js" with {
  type: "text",
};
import roomTypingScript from "../static/room_typing.js" with { type: "text" };
import roomActionsScript from "../static/room_actions.js" with {
  type: "text",
};
import roomLongPressScript from "../static/room_long_press.js" with {
  type: "text",
};
import roomReactionsScript from "../static/room_reactions.js" with {
  type: "text",
};
import roomTextScript from "../static/room_text.js" with { type: "text" };
import roomUnreadScript from "../static/room_unread.js" with { type: "text" };
import roomNotifyScript from "../static/room_notify.js" with { type: "text" };
import roomCompleteScript from "../static/room_complete.js" with {
  type: "text",
};
import roomModerationScript from "../static/room_moderation.js" with {
  type: "text",
};
import roomModerationDialogScript from "../static/room_moderation_dialog.js" with {
  type: "text",
};
import roomSanctionsScript from "../static/room_sanctions.js" with {
  type: "text",
};
import roomStatusScript from "../static/room_status.js" with { type: "text" };
import roomStorageScript from "../static/room_storage.js" with {
  type: "text",
};
import styleSheet from "../static/style.css" with { type: "text" };
import favicon from "../static/favicon.svg" with { type: "text" };

/** A file served as it is, with its media type. */
export interface Asset {
  readonly body: string;
  readonly contentType: string;
}

/** The media type of a browser script. */
export const JS = "text/javascript; charset=utf-8";
/** The media type of a stylesheet. */
export const CSS = "text/css; charset=utf-8";
const SVG = "image/svg+xml; charset=utf-8";

const ASSETS: ReadonlyMap<string, Asset> = new Map([
  ["index.js", { body: indexScript, contentType: JS }],
  ["index_signed_in.js", { body: indexSignedInScript, contentType: JS }],
  ["room.js", { body: roomScript, contentType: JS }],
  ["room_embed.js", { body: roomEmbedScript, contentType: JS }],
  ["room_name.js", { body: roomNameScript, contentType: JS }],
  ["room_older.js", { body: roomOlderScript, contentType: JS }],
  ["room_online.js", { body: roomOnlineScript, contentType: JS }],
  ["room_outbox.js", { body: roomOutboxScript, contentType: JS }],
  ["room_log.js", { body: roomLogScript, contentType: JS }],
  ["room_days.js", { body: roomDaysScript, contentType: JS }],
  ["room_welcome.js", { body: roomWelcomeScript, contentType: JS }],
  ["room_status.js", { body: roomStatusScript, contentType: JS }],
  ["room_typing.js", { body: roomTypingScript, contentType: JS }],
  ["room_actions.js", { body: roomActionsScript, contentType: JS }],
  ["room_long_press.js", { body: roomLongPressScript, contentType: JS }],
  ["room_reactions.js", { body: roomReactionsScript, contentType: JS }],
  ["room_text.js", { body: roomTextScript, contentType: JS }],
  ["room_unread.js", { body: roomUnreadScript, contentType: JS }],
  ["room_notify.js", { body: roomNotifyScript, contentType: JS }],
  ["room_complete.js", { body: roomCompleteScript, contentType: JS }],
  ["room_storage.js", { body: roomStorageScript, contentType: JS }],
  ["room_moderation.js", { body: roomModerationScript, contentType: JS }],
  [
    "room_moderation_dialog.js",
    { body: roomModerationDialogScript, contentType: JS },
  ],
  ["room_sanctions.js", { body: roomSanctionsScript, contentType: JS }],
  ["style.css", { body: styleSheet, contentType: CSS }],
  ["favicon.svg", { body: favicon, contentType: SVG }],
]);

/**
 * Serves each of `assets` under `<prefix>/<name>` with an ETag, revalidated
 * on every use; any other name under `prefix` is a 404 that names the
 * missing `kind` of file.
 */
export function serveAssets(
  app: Hono,
  prefix: string,
  assets: ReadonlyMap<string, Asset>,
  kind: string,
): void {
  app.get(`${prefix}/:file`, etag(), (c) => {
    const name = c.req.param("file");
    const asset = assets.get(name);
    if (!asset) {
      throw new HTTPException(404, { message: `No ${kind} file ${name}` });
    }
    return c.body(asset.body, 200, {
      "Content-Type": asset.contentType,
      // Revalidate every time; the ETag makes that a 304.
      "Cache-Control": "no-cache",
    });
  });
}

/** Builds the `/static/:file` route. */
export function staticRoutes(): Hono {
  const app = new Hono();
  serveAssets(app, "/static", ASSETS, "static");
  // Browsers that skip the pages' <link rel="icon"> ask for this path; they
  // all read an SVG served under it.
  app.get("/favicon.ico", etag(), (c) =>
    c.body(favicon, 200, {
      "Content-Type": SVG,
      "Cache-Control": "public, max-age=86400",
    }));
  return app;
}
