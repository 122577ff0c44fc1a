/**
 * `/ws/chat/:room` (with or without the trailing slash). Before the upgrade:
 * room, `name` and `since` are validated (400), the Origin is checked (403),
 * a signed token checked (401, 403), and the connection limits applied
 * (429, 503) to the client's address (the forwarded one behind a trusted
 * proxy); a plain GET gets the same answers, or 426 when all passed. The
 * subprotocol decides the wire format (typed with `chat.v1`, the
 * tutorial's otherwise). After it, the socket is a `SocketSession`
 * (socket_session.ts).
 *
 * @module
 */

import { Hono } from "hono";
import type { Context } from "hono";
import { HTTPException } from "hono/http-exception";
import { isEpoch } from "../chat/epoch.ts";
import { CHAT_PROTOCOL, wireFormatFor } from "../chat/frames.ts";
import { MessageBudget } from "../chat/message_budget.ts";
import type { SharedBucketTable } from "../chat/shared_buckets.ts";
import type { RoomName } from "../chat/room_name.ts";
import {
  BROWSER_KEY,
  guestName,
  isAnonymousOwner,
  nameOwner,
  parseUserName,
  signedOwner,
} from "../chat/user_name.ts";
import type { Identity, SignInMode, TokenVerifier } from "../chat/identity.ts";
import { trustedProxies } from "../chat/address_range.ts";
import { clientAddress, peerAddress } from "../http/client_address.ts";
import type { ConnectionTracker } from "../http/connections.ts";
import { checkOrigin, type OriginPolicy } from "../http/origin.ts";
import { integerParam, roomParam } from "../http/params.ts";
import {
  type Admission,
  SocketSession,
  type SocketSessionOptions,
} from "../http/socket_session.ts";
import { createTurnPacer } from "../http/turn_pacer.ts";
import type { ChatHub } from "../chat/hub.ts";
import { bannedText } from "../chat/moderation.ts";

/** What the socket route needs. */
export interface ChatSocketOptions extends SocketSessionOptions {
  readonly connections: ConnectionTracker;
  readonly origin: OriginPolicy;
  /**
   * Shared memory for the budgets, under `--workers`; without it each
   * isolate keeps its own. @default undefined
   */
  readonly rateTable?: SharedBucketTable;
  /** Seconds without a pong before Deno closes the socket. */
  readonly idleTimeoutS: number;
  /**
   * Reverse proxies (canonical ranges, as `CHAT_TRUSTED_PROXIES` parses
   * them) whose forwarding headers name the client. @default none
   */
  readonly trustedProxies?: readonly string[];
  /**
   * Picks the name of a client that gives none (no `?name=`, no token).
   * @default a random `guest-xxxx` ({@linkcode guestName})
   */
  readonly guestNames?: () => string;
  /**
   * Signed identities: `off` ignores `?token=`; `optional` admits guests
   * and checks tokens that are given; `required` refuses sockets without a
   * valid token (401). @default off
   */
  readonly identity?: {
    readonly mode: SignInMode;
    readonly verifier?: TokenVerifier;
  };
}

/**
 * Messages handled per event-loop turn, over all sockets of the isolate; a
 * burst is spread over turns so that writes are flushed between them.
 */
const MESSAGES_PER_TURN = 64;

/**
 * Parses room, `name`, `key`, `since` and `epoch`, or answers 400 saying
 * which is wrong.
 */
async function admissionOf(
  c: Context,
  reservedNames: readonly string[],
  nameFromToken: boolean,
  pickGuestName: () => string,
  address: string,
): Promise<Admission> {
  const room = roomParam(c.req.param("room"), "Cannot join room");
  // A signed user's name comes from the token: ?name= is not even read.
  const rawName = nameFromToken ? undefined : c.req.query("name");
  let name: Pick<Admission, "user" | "pickGuestName"> = {
    user: pickGuestName(),
    pickGuestName,
  };
  if (rawName !== undefined && rawName.trim() !== "") {
    const parsed = parseUserName(rawName, reservedNames);
    if (!parsed.ok) {
      throw new HTTPException(400, {
        message: `Cannot join room: ${parsed.error}`,
      });
    }
    name = { user: parsed.name };
  }
  const key = c.req.query("key");
  if (key !== undefined && !BROWSER_KEY.test(key)) {
    throw new HTTPException(400, {
      message:
        "Cannot join room: key must be 16 to 128 letters, digits, - or _",
    });
  }
  const sinceId = integerParam("since", c.req.query("since"), { min: 0 });
  const epoch = c.req.query("epoch");
  if (epoch !== undefined && !isEpoch(epoch)) {
    throw new HTTPException(400, {
      message:
        "Cannot join room: epoch must be 1 to 64 letters, digits, - or _",
    });
  }
  const since = sinceId === undefined
    ? undefined
    : { id: sinceId, ...(epoch === undefined ? {} : { epoch }) };
  const format = wireFormatFor(c.req.header("sec-websocket-protocol"));
  const owner = await nameOwner(key);
  return { room, ...name, owner, since, format, address };
}

/** The outcome of checking the upgrade's `?token=`. */
type Identified =
  | { readonly ok: true; readonly identity?: Identity }
  | {
    readonly ok: false;
    readonly status: 401 | 403;
    readonly reason: "token" | "room_not_allowed";
    readonly message: string;
  };

/**
 * Checks `?token=` as the mode says. The token itself goes nowhere: not in
 * a log line, not in an answer.
 */
async function identify(
  c: Context,
  room: RoomName,
  options: ChatSocketOptions,
): Promise<Identified> {
  const mode = options.identity?.mode ?? "off";
  const verifier = options.identity?.verifier;
  if (mode === "off" || verifier === undefined) return { ok: true };
  const token = c.req.query("token");
  if (token === undefined || token === "") {
    return mode === "required"
      ? {
        ok: false,
        status: 401,
        reason: "token",
        message: "This server needs a signed token (?token=) to join a room",
      }
      : { ok: true };
  }
  const check = await verifier.verify(token);
  if (!check.ok) {
    return {
      ok: false,
      status: 401,
      reason: "token",
      message: `Token refused: ${check.reason}`,
    };
  }
  const { rooms } = check.identity;
  if (rooms !== undefined && !rooms.has(room)) {
    return {
      ok: false,
      status: 403,
      reason: "room_not_allowed",
      message: `Your token does not allow the room ${room}`,
    };
  }
  return { ok: true, identity: check.identity };
}

/**
 * The 403 of a banned subject (its owner, its address for a guest), once
 * the hub knows the sanctions in force, or undefined.
 */
async function bannedAnswer(
  hub: ChatHub,
  admission: Admission,
  identity: Identity | undefined,
) {
  await hub.moderation.ready;
  const ban = await hub.moderation.bannedFrom(admission.room, {
    owner: identity ? signedOwner(identity.sub) : admission.owner,
    address: admission.address,
    guest: identity === undefined,
  });
  if (!ban) return undefined;
  return {
    sanction: ban.id,
    body: {
      error: bannedText(ban),
      code: "banned",
      until: ban.until,
      reason: ban.reason,
    },
  };
}

/** Builds the WebSocket routes. */
export function chatSocketRoutes(options: ChatSocketOptions): Hono {
  const { log, metrics } = options;
  const pace = createTurnPacer(MESSAGES_PER_TURN);
  // Per sender and per client address, over every socket of this isolate;
  // under --workers over every worker's, wherever the kernel put them.
  const budget = new MessageBudget({
    sender: options.rate,
    address: options.addressRate,
    ...(options.rateTable ? { table: options.rateTable } : {}),
  });
  const proxies = trustedProxies(options.trustedProxies ?? []);
  const app = new Hono();
  const identityMode = options.identity?.mode ?? "off";
  const upgrade = async (c: Context) => {
    const peer = peerAddress(c);
    // Every limit, bucket and log line keys on the client, not on the
    // proxy in front of it.
    const ip = clientAddress(peer, c.req.raw.headers, proxies);
    const via = ip === peer ? {} : { peer };
    let admission = await admissionOf(
      c,
      options.reservedNames,
      identityMode !== "off" && (c.req.query("token") ?? "") !== "",
      options.guestNames ?? guestName,
      ip,
    );
    const origin = checkOrigin(
      c.req.header("origin"),
      new URL(c.req.url).origin,
      options.origin,
    );
    if (!origin.ok) {
      metrics.connectionRefused("origin");
      log.warn("upgrade.refused", {
        reason: origin.reason,
        ip,
        ...via,
        room: admission.room,
      });
      return c.json({ error: `Origin not allowed: ${origin.reason}` }, 403);
    }
    const checked = await identify(c, admission.room, options);
    if (!checked.ok) {
      metrics.connectionRefused(checked.reason);
      log.warn("upgrade.refused", {
        reason: checked.message,
        ip,
        ...via,
        room: admission.room,
      });
      return c.json({ error: checked.message }, checked.status);
    }
    const banned = await bannedAnswer(options.hub, admission, checked.identity);
    if (banned) {
      metrics.connectionRefused("banned");
      log.warn("upgrade.refused", {
        reason: "banned",
        sanction: banned.sanction,
        ip,
        ...via,
        room: admission.room,
      });
      return c.json(banned.body, 403);
    }
    // A plain GET gets the refusal an upgrade would have got, or 426 when
    // it would have been let in: a client whose socket never opened asks
    // this way why (browsers hide the upgrade's status from scripts).
    if (c.req.header("upgrade")?.toLowerCase() !== "websocket") {
      return c.json(
        {
          error: "This endpoint speaks WebSocket only; send an Upgrade request",
        },
        426,
        { Upgrade: "websocket" },
      );
    }
    if (checked.identity) {
      // A signed user's name is the token's; ?name= is ignored for them.
      const { pickGuestName: _picker, ...chosen } = admission;
      admission = {
        ...chosen,
        user: checked.identity.name,
        owner: signedOwner(checked.identity.sub),
        identity: checked.identity,
      };
    }
    const reservation = await options.connections.reserve(ip);
    if (!reservation.ok) {
      metrics.connectionRefused(reservation.reason);
      log.warn("upgrade.refused", {
        reason: reservation.message,
        ip,
        ...via,
        room: admission.room,
      });
      return c.json({ error: reservation.message }, reservation.status);
    }
    const { slot } = reservation;
    try {
      const { socket, response } = Deno.upgradeWebSocket(c.req.raw, {
        idleTimeout: options.idleTimeoutS,
        ...(admission.format === "typed" ? { protocol: CHAT_PROTOCOL } : {}),
      });
      slot.attach(socket);
      // A sender's budget follows who holds the name: a signed user or a
      // browser key over all their sockets, whatever address each comes
      // from. Sockets with neither share their address's, so that
      // reconnecting gains them nothing.
      const senderIsAddress = isAnonymousOwner(admission.owner);
      const sender = senderIsAddress ? `address:${ip}` : admission.owner;
      SocketSession.attach({
        socket,
        admission,
        wiring: {
          release: slot.release,
          pace,
          takeMessageToken: () => budget.take(sender, ip),
          senderIsAddress,
        },
        options,
      });
      return response;
    } catch (error) {
      slot.release();
      if (error instanceof TypeError) {
        // Deno refuses malformed upgrades (missing key or version).
        throw new HTTPException(400, {
          message: `Cannot upgrade: ${error.message}`,
        });
      }
      throw error;
    }
  };
  app.get("/ws/chat/:room", upgrade);
  app.get("/ws/chat/:room/", upgrade);
  return app;
}
