/**
 * The client library (`client/`), served so that a page or a program can
 * import it from the chat server itself: `/client.js` is its entry, which
 * loads `/client/chat_client.js` and the modules beside it, with
 * its types at `/client/chat_client.d.ts` (Deno finds them through the
 * `X-TypeScript-Types` header). The files come from the module graph, so a
 * bundle or a compiled binary carries them. Any site may import them:
 * they are sent with CORS and a cross-origin resource policy.
 *
 * @module
 */

import { Hono } from "hono";
import { etag } from "hono/etag";
import { HTTPException } from "hono/http-exception";
import chatClientScript from "../client/chat_client.js" with { type: "text" };
import chatClientTypes from "../client/chat_client.d.ts" with { type: "text" };
import connectingScript from "../client/connecting.js" with { type: "text" };
import conversationScript from "../client/conversation.js" with {
  type: "text",
};
import framesScript from "../client/frames.js" with { type: "text" };
import linkScript from "../client/link.js" with { type: "text" };
import moderationScript from "../client/moderation.js" with { type: "text" };
import protocolScript from "../client/protocol.js" with { type: "text" };
import rosterScript from "../client/roster.js" with { type: "text" };
import waitingScript from "../client/waiting.js" with { type: "text" };

const JS = "text/javascript; charset=utf-8";
const TYPES_PATH = "/client/chat_client.d.ts";

/** `/client.js`: one address to import, whatever the files behind it. */
const ENTRY = `export * from "./client/chat_client.js";\n`;

const FILES: ReadonlyMap<string, { body: string; contentType: string }> =
  new Map([
    ["chat_client.js", { body: chatClientScript, contentType: JS }],
    ["connecting.js", { body: connectingScript, contentType: JS }],
    ["conversation.js", { body: conversationScript, contentType: JS }],
    ["frames.js", { body: framesScript, contentType: JS }],
    ["link.js", { body: linkScript, contentType: JS }],
    ["moderation.js", { body: moderationScript, contentType: JS }],
    ["protocol.js", { body: protocolScript, contentType: JS }],
    ["roster.js", { body: rosterScript, contentType: JS }],
    ["waiting.js", { body: waitingScript, contentType: JS }],
    ["chat_client.d.ts", {
      body: chatClientTypes,
      contentType: "application/typescript; charset=utf-8",
    }],
  ]);

/** Headers of every file of the library. */
function libraryHeaders(contentType: string): Record<string, string> {
  return {
    "Content-Type": contentType,
    // Revalidate every time; the ETag makes that a 304.
    "Cache-Control": "no-cache",
    "Access-Control-Allow-Origin": "*",
    "Cross-Origin-Resource-Policy": "cross-origin",
    ...(contentType === JS ? { "X-TypeScript-Types": TYPES_PATH } : {}),
  };
}

/** Builds the routes of the client library's files. */
export function clientLibraryRoutes(): Hono {
  const app = new Hono();
  app.get("/client.js", etag(), (c) => c.body(ENTRY, 200, libraryHeaders(JS)));
  app.get("/client/:file", etag(), (c) => {
    const name = c.req.param("file");
    const file = FILES.get(name);
    if (!file) {
      throw new HTTPException(404, { message: `No client file ${name}` });
    }
    return c.body(file.body, 200, libraryHeaders(file.contentType));
  });
  return app;
}
