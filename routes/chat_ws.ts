/**
 * `/ws/chat/:room` (with or without the trailing slash): validates the room,
 * upgrades with `Deno.upgradeWebSocket`, and connects the socket to the hub.
 * Each text frame is parsed at this edge into a typed frame or answered
 * with an error frame.
 *
 * @module
 */

import { Hono } from "hono";
import type { Context } from "hono";
import { HTTPException } from "hono/http-exception";
import {
  type ErrorFrame,
  type FrameLimits,
  parseClientFrame,
} from "../chat/frames.ts";
import type { ChatHub, Member, Membership } from "../chat/hub.ts";
import type { RoomName } from "../chat/room_name.ts";
import { guestName, parseUserName } from "../chat/user_name.ts";
import type { Logger } from "../log.ts";
import { integerParam, roomParam } from "./params.ts";

/** Close codes the server uses; see docs/protocol.md. */
export const CloseCode = {
  /** The server is going away (shutdown). */
  GoingAway: 1001,
  /** A binary frame arrived; the protocol is JSON text. */
  UnsupportedData: 1003,
} as const;

/** What the socket route needs. */
export interface ChatSocketOptions {
  readonly hub: ChatHub;
  readonly log: Logger;
  readonly limits: FrameLimits;
  /** Seconds without a pong before Deno closes the socket. @default 30 */
  readonly idleTimeout?: number;
}

/** A short random id that ties a connection's log lines together. */
function connectionId(): string {
  return crypto.randomUUID().slice(0, 8);
}

/** Who connects where, parsed from the upgrade request. */
interface Admission {
  readonly room: RoomName;
  readonly user: string;
  readonly since: number | undefined;
}

/** Wires one upgraded socket to the hub. */
function attach(
  socket: WebSocket,
  { room, user, since }: Admission,
  options: ChatSocketOptions,
): void {
  const { hub, log, limits } = options;
  const id = connectionId();
  const member: Member = {
    id,
    deliver(text) {
      if (socket.readyState === WebSocket.OPEN) socket.send(text);
    },
  };
  const sendError = (error: ErrorFrame) =>
    member.deliver(JSON.stringify(error));
  let membership: Membership | undefined;

  socket.onopen = () => {
    membership = hub.connect(room, user, member, since);
    log.info("socket.open", { connection: id, room, user, since });
    membership.ready.catch((error) => {
      log.error("socket.admit_failed", { connection: id, room, error });
      socket.close(1011, "Cannot load the room; try again");
    });
  };
  socket.onmessage = (event: MessageEvent<unknown>) => {
    if (typeof event.data !== "string") {
      log.info("socket.binary_frame", { connection: id, room });
      socket.close(
        CloseCode.UnsupportedData,
        "Binary frames are not supported; send JSON text",
      );
      return;
    }
    const parsed = parseClientFrame(event.data, limits);
    if (!parsed.ok) {
      log.info("frame.rejected", {
        connection: id,
        room,
        code: parsed.error.code,
      });
      sendError(parsed.error);
      return;
    }
    hub.send(room, user, parsed.frame.message).catch((error) => {
      log.error("message.store_failed", { connection: id, room, error });
      sendError({
        type: "error",
        code: "unavailable",
        error: "The message could not be stored; send it again",
      });
    });
  };
  // Deno may report both error and close; leave() is idempotent.
  socket.onerror = (event) => {
    log.info("socket.error", {
      connection: id,
      room,
      error: event instanceof ErrorEvent ? event.message : "unknown",
    });
    membership?.leave();
  };
  socket.onclose = (event) => {
    membership?.leave();
    log.info("socket.close", { connection: id, room, code: event.code });
  };
}

/** Parses room, `name` and `since`, or answers 400 saying which is wrong. */
function admissionOf(c: Context): Admission {
  const room = roomParam(c.req.param("room"), "Cannot join room");
  const rawName = c.req.query("name");
  let user = guestName();
  if (rawName !== undefined && rawName.trim() !== "") {
    const parsed = parseUserName(rawName);
    if (!parsed.ok) {
      throw new HTTPException(400, {
        message: `Cannot join room: ${parsed.error}`,
      });
    }
    user = parsed.name;
  }
  const since = integerParam("since", c.req.query("since"), 0);
  return { room, user, since };
}

/** Builds the WebSocket routes. */
export function chatSocketRoutes(options: ChatSocketOptions): Hono {
  const app = new Hono();
  const upgrade = (c: Context) => {
    const admission = admissionOf(c);
    if (c.req.header("upgrade")?.toLowerCase() !== "websocket") {
      return c.json(
        {
          error: "This endpoint speaks WebSocket only; send an Upgrade request",
        },
        426,
        { Upgrade: "websocket" },
      );
    }
    const { socket, response } = Deno.upgradeWebSocket(c.req.raw, {
      idleTimeout: options.idleTimeout ?? 30,
    });
    attach(socket, admission, options);
    return response;
  };
  app.get("/ws/chat/:room", upgrade);
  app.get("/ws/chat/:room/", upgrade);
  return app;
}
