/**
 * The JSON API: rooms with someone online and the recently active ones,
 * who is online in a room (paged
 * by name), and older messages of a room for "load older". With
 * `CHAT_AUTH=required` every room is private: a caller shows a signed token
 * (`Authorization: Bearer <token>` or `?token=`) and sees only the rooms it
 * allows, or the server API key and sees every room. With sign-in on,
 * `GET /api/me` answers who a token says its holder is and which rooms it
 * allows.
 *
 * @module
 */

import { type Context, Hono } from "hono";
import { HTTPException } from "hono/http-exception";
import { messageFrame } from "../chat/frames.ts";
import type { RoomName } from "../chat/room_name.ts";
import type { Store } from "../chat/store.ts";
import type { SignInMode, TokenVerifier } from "../chat/identity.ts";
import { integerParam, roomParam } from "../http/params.ts";
import { isApiKey } from "./server_api.ts";

/** The most messages one page of `/messages` returns. */
export const MAX_PAGE = 200;

/** How many recently active rooms `GET /api/rooms` lists. */
export const RECENT_ROOMS = 20;

/** Who may read which rooms. */
export interface ApiAccess {
  /** `required`: rooms are private to the callers their tokens allow. */
  readonly mode: SignInMode;
  readonly verifier?: TokenVerifier;
  /** The server API key, which may read every room. */
  readonly apiKey?: string;
}

/** Which rooms a caller may read: all, or a set. */
type Readable = "all" | ReadonlySet<RoomName>;

/** The token of `Authorization: Bearer <token>`, if any. */
function bearerOf(c: Context): string | undefined {
  return /^Bearer (.+)$/.exec(c.req.header("Authorization") ?? "")?.[1];
}

/** Answers 401 unless the caller may read rooms; says which ones. */
async function readableRooms(c: Context, access: ApiAccess): Promise<Readable> {
  if (access.mode !== "required" || access.verifier === undefined) {
    return "all";
  }
  const bearer = bearerOf(c);
  if (
    bearer !== undefined && access.apiKey !== undefined &&
    await isApiKey(bearer, access.apiKey)
  ) return "all";
  const token = bearer ?? c.req.query("token");
  if (token === undefined || token === "") {
    throw new HTTPException(401, {
      message: "Rooms are private here: send a signed token",
    });
  }
  const check = await access.verifier.verify(token);
  if (!check.ok) {
    throw new HTTPException(401, { message: `Token refused: ${check.reason}` });
  }
  return check.identity.rooms ?? "all";
}

/** A room the caller may not read is refused with 403. */
function assertReadable(readable: Readable, room: RoomName): void {
  if (readable !== "all" && !readable.has(room)) {
    throw new HTTPException(403, {
      message: `Your token does not allow the room ${room}`,
    });
  }
}

/** Builds the `/api` routes over `store`. */
export function apiRoutes(
  store: Store,
  access: ApiAccess = { mode: "off" },
): Hono {
  const app = new Hono();

  app.get("/api/rooms", async (c) => {
    const readable = await readableRooms(c, access);
    const allowed = ({ name }: { name: RoomName }) =>
      readable === "all" || readable.has(name);
    const [online, recent] = await Promise.all([
      store.presence.rooms(),
      store.messages.recent(RECENT_ROOMS),
    ]);
    return c.json({
      rooms: online.filter(allowed),
      recent: recent.filter(allowed),
    });
  });

  // Only from the header: a token in a URL ends up in proxies' logs.
  app.get("/api/me", async (c) => {
    const { verifier } = access;
    if (access.mode === "off" || verifier === undefined) {
      throw new HTTPException(404, {
        message: "Sign-in is off on this server (CHAT_AUTH=off)",
      });
    }
    const token = bearerOf(c);
    if (token === undefined) {
      throw new HTTPException(401, {
        message: "Send the token as Authorization: Bearer <token>",
      });
    }
    const check = await verifier.verify(token);
    if (!check.ok) {
      throw new HTTPException(401, {
        message: `Token refused: ${check.reason}`,
      });
    }
    const { name, rooms } = check.identity;
    c.header("Cache-Control", "no-store");
    return c.json({ name, rooms: rooms === undefined ? null : [...rooms] });
  });

  app.get("/api/rooms/:room/presence", async (c) => {
    const room = roomParam(c.req.param("room"), "Cannot read room");
    assertReadable(await readableRooms(c, access), room);
    const limit = Math.min(
      integerParam("limit", c.req.query("limit"), { min: 1 }) ?? MAX_PAGE,
      MAX_PAGE,
    );
    const after = c.req.query("after");
    const users = await store.presence.list(room, {
      limit,
      ...(after === undefined ? {} : { after }),
    });
    return c.json({ users, count: await store.presence.count(room) });
  });

  app.get("/api/rooms/:room/messages", async (c) => {
    const room = roomParam(c.req.param("room"), "Cannot read room");
    assertReadable(await readableRooms(c, access), room);
    const before = integerParam("before", c.req.query("before"), { min: 1 });
    const limit = Math.min(
      integerParam("limit", c.req.query("limit"), { min: 1 }) ?? 50,
      MAX_PAGE,
    );
    const messages = before === undefined
      ? await store.messages.latest(room, limit)
      : await store.messages.before(room, before, limit);
    return c.json({ messages: messages.map(messageFrame) });
  });

  return app;
}
