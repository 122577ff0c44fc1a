/**
 * The JSON API: rooms with someone online, who is online in a room (paged
 * by name), and older messages of a room for "load older".
 *
 * @module
 */

import { Hono } from "hono";
import { messageFrame } from "../chat/frames.ts";
import type { Store } from "../chat/store.ts";
import { integerParam, roomParam } from "./params.ts";

/** The most messages one page of `/messages` returns. */
export const MAX_PAGE = 200;

/** Builds the `/api` routes over `store`. */
export function apiRoutes(store: Store): Hono {
  const app = new Hono();

  app.get("/api/rooms", async (c) => {
    const rooms = await store.presence.rooms();
    return c.json({ rooms });
  });

  app.get("/api/rooms/:room/presence", async (c) => {
    const room = roomParam(c.req.param("room"), "Cannot read room");
    const limit = Math.min(
      integerParam("limit", c.req.query("limit"), 1) ?? MAX_PAGE,
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
    const before = integerParam("before", c.req.query("before"), 1);
    const limit = Math.min(
      integerParam("limit", c.req.query("limit"), 1) ?? 50,
      MAX_PAGE,
    );
    const messages = before === undefined
      ? await store.messages.latest(room, limit)
      : await store.messages.before(room, before, limit);
    return c.json({ messages: messages.map(messageFrame) });
  });

  return app;
}
