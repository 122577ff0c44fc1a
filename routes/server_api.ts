/**
 * The server API, for the backend of the site the chat belongs to: post a
 * message as the site, and moderate as the administrator (delete, remove,
 * mute and ban, the audit log: `moderation_api.ts`), on every isolate and
 * process (through the same store and bus as messages). Authenticated with
 * `Authorization: Bearer <CHAT_API_KEY>`, compared in constant time here and
 * nowhere else; without a key configured these routes do not exist (404).
 *
 * @module
 */

import { Hono, type MiddlewareHandler } from "hono";
import { HTTPException } from "hono/http-exception";
import { timingSafeEqual } from "hono/utils/buffer";
import { parseSendMessage } from "../chat/client_frames.ts";
import { messageFrame } from "../chat/frames.ts";
import type { ChatHub } from "../chat/hub.ts";
import { StoreError } from "../chat/store.ts";
import type { Logger } from "../observability/log.ts";
import { roomParam } from "../http/params.ts";
import {
  dropUnreadBody,
  jsonBody,
  limitBody,
  userField,
} from "../http/request_body.ts";
import { moderationRoutes, type ModeratorEnv } from "./moderation_api.ts";

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

/**
 * Whether `given` is the server API key. Compares SHA-256 digests, so keys
 * of any length take the same time.
 */
export async function isApiKey(
  given: string,
  apiKey: string,
): Promise<boolean> {
  return await timingSafeEqual(given, apiKey);
}

/**
 * Refuses a caller without `Authorization: Bearer <apiKey>` with 401 (and
 * logs the attempt, never the key); names the caller `api` for the audit
 * log. The one check of the server API key.
 */
export function apiKeyCheck(
  apiKey: string,
  log: Logger,
): MiddlewareHandler<ModeratorEnv> {
  return async (c, next) => {
    const header = c.req.header("Authorization") ?? "";
    const given = /^Bearer (.+)$/.exec(header)?.[1] ?? "";
    if (!await isApiKey(given, apiKey)) {
      log.warn("api.unauthorised", {
        method: c.req.method,
        path: c.req.path,
        given: header === "" ? "none" : "wrong key",
      });
      throw new HTTPException(401, {
        message: "A valid Authorization: Bearer <CHAT_API_KEY> is required",
      });
    }
    c.set("actor", "api");
    await next();
  };
}

/** Builds the server API routes; none when `apiKey` is undefined. */
export function serverApiRoutes(options: ServerApiOptions): Hono {
  const app = new Hono();
  const { apiKey, hub, log } = options;
  if (apiKey === undefined) return app;

  const authorised = apiKeyCheck(apiKey, log);
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

  // Delete, disconnect, mutes, bans and the audit log, as the administrator.
  app.route(
    "/api",
    moderationRoutes({
      hub,
      log,
      authorise: authorised,
      maxBodyBytes: options.maxBodyBytes,
      showAddresses: true,
    }),
  );

  return app;
}
