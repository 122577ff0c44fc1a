/**
 * The server API, for the backend of the site the chat belongs to: post a
 * message as the site, delete a message, and remove a user from a room, on
 * every isolate and process (through the same store and bus as messages).
 * Authenticated with `Authorization: Bearer <CHAT_API_KEY>`, compared in
 * constant time; without a key configured these routes do not exist (404).
 *
 * @module
 */

import { type Context, Hono, type MiddlewareHandler } from "hono";
import { bodyLimit } from "hono/body-limit";
import { HTTPException } from "hono/http-exception";
import { timingSafeEqual } from "hono/utils/buffer";
import { parseSendMessage } from "../chat/client_frames.ts";
import { messageFrame } from "../chat/frames.ts";
import type { ChatHub } from "../chat/hub.ts";
import { StoreError } from "../chat/store.ts";
import { parseUserName } from "../chat/user_name.ts";
import type { Logger } from "../observability/log.ts";
import { integerParam, roomParam } from "../http/params.ts";

/** What the server API needs. */
export interface ServerApiOptions {
  readonly hub: ChatHub;
  readonly log: Logger;
  /** The key callers must present; undefined turns the API off. */
  readonly apiKey: string | undefined;
  /** The longest message, as for sockets. */
  readonly maxMessageChars: number;
  /** The largest request body, in bytes, as for a socket frame. */
  readonly maxBodyBytes: number;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/**
 * Drops the rest of a body the route did not read (refused with 401 or
 * 413): left unread, Deno keeps the connection and its body resource until
 * its 30 s header timeout. The route reads the body through a stream of our
 * own, whose source is cancelled once the route is done.
 */
const dropUnreadBody: MiddlewareHandler = async (c, next) => {
  const source = c.req.raw.body?.getReader();
  if (!source) return await next();
  let finished = false;
  const body = new ReadableStream<Uint8Array>({
    async pull(controller) {
      const chunk = await source.read();
      if (chunk.done) {
        finished = true;
        controller.close();
      } else {
        controller.enqueue(chunk.value);
      }
    },
    cancel: (reason) => source.cancel(reason),
  });
  c.req.raw = new Request(c.req.raw, { body });
  try {
    await next();
  } finally {
    if (!finished) await source.cancel();
  }
};

/**
 * Stops reading a body at `maxBytes` and answers 413: one with a larger
 * `Content-Length` is not read at all, a streamed one no further than the
 * limit.
 */
function limitBody(maxBytes: number): MiddlewareHandler {
  return bodyLimit({
    maxSize: maxBytes,
    onError: () => {
      throw new HTTPException(413, {
        message: `Body is larger than ${maxBytes} bytes`,
      });
    },
  });
}

/** Reads a JSON object body (bounded by {@linkcode limitBody}), or answers 400. */
async function jsonBody(c: Context): Promise<Record<string, unknown>> {
  const text = await c.req.text();
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    if (!(error instanceof SyntaxError)) throw error;
    throw new HTTPException(400, { message: "Body is not JSON" });
  }
  if (!isRecord(value)) {
    throw new HTTPException(400, { message: "Body must be a JSON object" });
  }
  return value;
}

function userField(body: Record<string, unknown>): string {
  if (typeof body.user !== "string") {
    throw new HTTPException(400, { message: 'Body needs a string "user"' });
  }
  // The site may use any name, reserved ones included: it is the site.
  const user = parseUserName(body.user, []);
  if (!user.ok) {
    throw new HTTPException(400, { message: `user: ${user.error}` });
  }
  return user.name;
}

/** Builds the server API routes; none when `apiKey` is undefined. */
export function serverApiRoutes(options: ServerApiOptions): Hono {
  const app = new Hono();
  const { apiKey, hub, log } = options;
  if (apiKey === undefined) return app;

  const authorised: MiddlewareHandler = async (c, next) => {
    const header = c.req.header("Authorization") ?? "";
    const given = /^Bearer (.+)$/.exec(header)?.[1] ?? "";
    // Compares SHA-256 digests, so keys of any length take the same time.
    const ok = await timingSafeEqual(given, apiKey);
    if (!ok) {
      log.warn("api.unauthorised", {
        method: c.req.method,
        path: c.req.path,
        given: header === "" ? "none" : "wrong key",
      });
      throw new HTTPException(401, {
        message: "A valid Authorization: Bearer <CHAT_API_KEY> is required",
      });
    }
    await next();
  };
  // The key is checked before any of the body is read.
  const guarded = [
    dropUnreadBody,
    authorised,
    limitBody(options.maxBodyBytes),
  ] as const;

  app.post("/api/rooms/:room/messages", ...guarded, async (c) => {
    const room = roomParam(c.req.param("room"), "Cannot post");
    const body = await jsonBody(c);
    const user = userField(body);
    // The text goes through the same checks as a socket's message.
    const parsed = parseSendMessage(
      { message: body.message, cid: body.cid },
      { maxMessageChars: options.maxMessageChars },
    );
    if (!parsed.ok) {
      return c.json(
        { error: parsed.error.error, code: parsed.error.code },
        400,
      );
    }
    try {
      const { message, duplicate } = await hub.send({
        room,
        user,
        message: parsed.frame.message,
        cid: parsed.frame.cid,
        author: "server",
      });
      log.info("api.message_posted", { room, user, id: message.id });
      return c.json(messageFrame(message), duplicate ? 200 : 201);
    } catch (error) {
      if (!(error instanceof StoreError)) throw error;
      log.error("api.post_failed", { room, error });
      return c.json(
        { error: `The message was not stored: ${error.message}` },
        503,
      );
    }
  });

  app.delete(
    "/api/rooms/:room/messages/:id",
    dropUnreadBody,
    authorised,
    async (c) => {
      const room = roomParam(c.req.param("room"), "Cannot delete");
      const id = integerParam("id", c.req.param("id"), { min: 1 });
      if (id === undefined || !await hub.deleteMessage(room, id)) {
        return c.json({ error: `Room ${room} holds no message ${id}` }, 404);
      }
      log.info("api.message_deleted", { room, id });
      return c.body(null, 204);
    },
  );

  app.post("/api/rooms/:room/disconnect", ...guarded, async (c) => {
    const room = roomParam(c.req.param("room"), "Cannot disconnect");
    const user = userField(await jsonBody(c));
    try {
      const closed = await hub.disconnect(room, user);
      log.info("api.user_disconnected", { room, user, closed });
      return c.json({ closed }, 200);
    } catch (error) {
      if (!(error instanceof StoreError)) throw error;
      log.error("api.disconnect_failed", { room, error });
      return c.json(
        { error: `Nobody was disconnected: ${error.message}` },
        503,
      );
    }
  });

  return app;
}
