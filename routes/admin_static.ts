/**
 * The admin console's scripts and stylesheet (`static/admin/`) under
 * `/admin/static/`, from the module graph like the chat's own
 * (`routes/static_files.ts`), so a bundle or a compiled binary carries them.
 *
 * @module
 */

import { Hono } from "hono";
import audit from "../static/admin/audit.js" with { type: "text" };
import consoleScript from "../static/admin/console.js" with { type: "text" };
import overview from "../static/admin/overview.js" with { type: "text" };
import room from "../static/admin/room.js" with { type: "text" };
import rooms from "../static/admin/rooms.js" with { type: "text" };
import sanctionList from "../static/admin/sanction_list.js" with {
  type: "text",
};
import sanctions from "../static/admin/sanctions.js" with { type: "text" };
import signIn from "../static/admin/signin.js" with { type: "text" };
import styleSheet from "../static/admin/console.css" with { type: "text" };
import { type Asset, CSS, JS, serveAssets } from "./static_files.ts";

/** Every file, by the name the pages ask for. */
export const ADMIN_ASSETS: ReadonlyMap<string, Asset> = new Map([
  ["audit.js", { body: audit, contentType: JS }],
  ["console.js", { body: consoleScript, contentType: JS }],
  ["overview.js", { body: overview, contentType: JS }],
  ["room.js", { body: room, contentType: JS }],
  ["rooms.js", { body: rooms, contentType: JS }],
  ["sanction_list.js", { body: sanctionList, contentType: JS }],
  ["sanctions.js", { body: sanctions, contentType: JS }],
  ["signin.js", { body: signIn, contentType: JS }],
  ["console.css", { body: styleSheet, contentType: CSS }],
]);

/** Builds the `/admin/static/:file` route. */
export function adminStaticRoutes(): Hono {
  const app = new Hono();
  serveAssets(app, "/admin/static", ADMIN_ASSETS, "admin");
  return app;
}
