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
import { parseRoomName, type RoomName } from "../chat/room_name.ts";
import type { Logger } from "../log.ts";

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

/** Wires one upgraded socket to the hub for `room`. */
function attach(
  socket: WebSocket,
  room: RoomName,
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
    membership = hub.join(room, member);
    log.info("socket.open", { connection: id, room });
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
    hub.send(room, parsed.frame.message);
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

/** Builds the WebSocket routes. */
export function chatSocketRoutes(options: ChatSocketOptions): Hono {
  const app = new Hono();
  const upgrade = (c: Context) => {
    const parsed = parseRoomName(c.req.param("room") ?? "");
    if (!parsed.ok) {
      throw new HTTPException(400, {
        message: `Cannot join room: ${parsed.error}`,
      });
    }
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
    attach(socket, parsed.name, options);
    return response;
  };
  app.get("/ws/chat/:room", upgrade);
  app.get("/ws/chat/:room/", upgrade);
  return app;
}
