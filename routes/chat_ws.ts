/**
 * `/ws/chat/:room` (with or without the trailing slash). Before the upgrade:
 * room, `name` and `since` are validated (400), the Origin is checked (403)
 * and the connection limits applied (429, 503) to the client's address (the
 * forwarded one behind a trusted proxy); the subprotocol decides the
 * wire format (typed with `chat.v1`, the tutorial's otherwise). After it,
 * every text frame is size-checked, rate-limited and parsed at this edge
 * into a typed frame or answered with an error frame; slow readers are cut
 * off.
 *
 * @module
 */

import { Hono } from "hono";
import type { Context } from "hono";
import { HTTPException } from "hono/http-exception";
import {
  CHAT_PROTOCOL,
  type ErrorFrame,
  type FrameLimits,
  messageFrame,
  parseClientFrame,
  serialiseFor,
  type WireFormat,
  wireFormatFor,
} from "../chat/frames.ts";
import type { ChatHub, Member, Membership } from "../chat/hub.ts";
import type { ChatMetrics } from "../chat/metrics.ts";
import { FloodGuard, KeyedBuckets } from "../chat/rate_limit.ts";
import {
  type SharedBucketTable,
  SharedKeyedBuckets,
} from "../chat/shared_buckets.ts";
import type { RoomName } from "../chat/room_name.ts";
import { StoreError, type StoreErrorKind } from "../chat/store.ts";
import {
  BROWSER_KEY,
  guestName,
  nameOwner,
  parseUserName,
  signedOwner,
} from "../chat/user_name.ts";
import type { Identity, TokenVerifier } from "../chat/identity.ts";
import type { Logger } from "../log.ts";
import { clientAddress, trustedProxies } from "./client_address.ts";
import type { ConnectionTracker } from "./connections.ts";
import { checkOrigin, type OriginPolicy } from "./origin.ts";
import { integerParam, roomParam } from "./params.ts";
import { createTurnPacer, type TurnPacer } from "./turn_pacer.ts";

/** What a sender is told about each kind of store failure. */
const STORE_TROUBLE: Record<StoreErrorKind, string> = {
  full: "the server's storage is full",
  limit: "the server keeps no more rooms",
  read_only: "the server's storage is read-only",
  busy: "the server's storage is busy",
  io: "the server's storage failed",
  unreachable: "the server cannot reach its storage",
  corrupt: "the server's storage holds bad data",
  other: "the server's storage failed",
};

/** Close codes the server uses; see docs/protocol.md. */
export const CloseCode = {
  /** The server is going away (shutdown). */
  GoingAway: 1001,
  /** A binary frame arrived; the protocol is JSON text. */
  UnsupportedData: 1003,
  /** The client kept sending past its rate limit. */
  PolicyViolation: 1008,
  /** A frame was larger than the limit. */
  MessageTooBig: 1009,
  /** The room could not be loaded. */
  InternalError: 1011,
  /** The client stopped reading; too much data was waiting for it. */
  TryAgainLater: 1013,
} as const;

/** What the socket route needs. */
export interface ChatSocketOptions {
  readonly hub: ChatHub;
  readonly log: Logger;
  readonly metrics: ChatMetrics;
  readonly connections: ConnectionTracker;
  readonly limits: FrameLimits;
  readonly origin: OriginPolicy;
  /** Names nobody may take (compared case-insensitively). */
  readonly reservedNames: readonly string[];
  /** Largest frame in UTF-8 bytes. */
  readonly maxFrameBytes: number;
  /** Messages per second (0: off) and burst. */
  readonly rate: { readonly rate: number; readonly burst: number };
  /**
   * Shared memory for the budgets, under `--workers`; without it each
   * isolate keeps its own. @default undefined
   */
  readonly rateTable?: SharedBucketTable;
  /** Unsent bytes after which a client is cut off. */
  readonly maxBufferedBytes: number;
  /** Seconds without a pong before Deno closes the socket. */
  readonly idleTimeoutS: number;
  /**
   * Reverse proxies (canonical ranges, as `CHAT_TRUSTED_PROXIES` parses
   * them) whose forwarding headers name the client. @default none
   */
  readonly trustedProxies?: readonly string[];
  /**
   * Signed identities: `off` ignores `?token=`; `optional` admits guests
   * and checks tokens that are given; `required` refuses sockets without a
   * valid token (401). @default off
   */
  readonly identity?: {
    readonly mode: "off" | "optional" | "required";
    readonly verifier?: TokenVerifier;
  };
}

/**
 * The close code for a socket whose token expired: the page gets a fresh
 * token and reconnects with `since=` (see docs/protocol.md).
 */
export const TOKEN_EXPIRED = 4001;

/** Who connects where, and how it speaks, parsed from the upgrade request. */
interface Admission {
  readonly room: RoomName;
  readonly user: string;
  /** Who holds the name; see `nameOwner`. */
  readonly owner: string;
  readonly since: number | undefined;
  readonly format: WireFormat;
  /** The signed identity, when the socket has one. */
  readonly identity?: Identity;
}

/**
 * Messages handled per event-loop turn, over all sockets of the isolate; a
 * burst is spread over turns so that writes are flushed between them.
 */
const MESSAGES_PER_TURN = 64;

const encoder = new TextEncoder();

/** Whether `text` is over `max` UTF-8 bytes, encoding only when it must. */
function isOverBytes(text: string, max: number): boolean {
  if (text.length > max) return true; // every UTF-16 unit is ≥ 1 byte
  if (text.length * 3 <= max) return false; // every unit is ≤ 3 bytes
  return encoder.encode(text).length > max;
}

/**
 * Closes `socket` on the next macrotask. Deno loses its own close frame when
 * `close()` runs inside a `message` callback while the peer keeps sending
 * (both ends then see an abnormal close, see denoland/deno#21642); closing
 * one task later delivers the code and reason intact.
 */
function closeSoon(socket: WebSocket, code: number, reason: string): void {
  setTimeout(() => socket.close(code, reason), 0);
}

/** A short random id that ties a connection's log lines together. */
function connectionId(): string {
  return crypto.randomUUID().slice(0, 8);
}

/**
 * The address of the peer as `Deno.serve` reported it, if it did: the
 * client, or the proxy in front of it. Read while the request is open
 * (Deno cannot tell it afterwards).
 */
function peerAddress(c: Context): string {
  const info: unknown = c.env;
  if (
    typeof info === "object" && info !== null && "remoteAddr" in info &&
    typeof info.remoteAddr === "object" && info.remoteAddr !== null &&
    "hostname" in info.remoteAddr &&
    typeof info.remoteAddr.hostname === "string"
  ) {
    return info.remoteAddr.hostname;
  }
  return "unknown";
}

/** Wires one upgraded socket to the hub. */
function attach(
  socket: WebSocket,
  { room, user, owner, since, format, identity }: Admission,
  release: () => void,
  pace: TurnPacer,
  takeMessageToken: () => boolean,
  options: ChatSocketOptions,
): void {
  const { hub, log, limits, metrics } = options;
  const admittedAs = user;
  const id = connectionId();
  // The budget is the address's, shared by all its sockets: reconnecting
  // starts no fresh one.
  const guard = new FloodGuard({
    take: takeMessageToken,
    tolerance: options.rate.burst,
  });
  let membership: Membership | undefined;
  let cutOff = false;
  // This socket's accepted messages, stored one after another in the order
  // they arrived.
  let storing: Promise<void> = Promise.resolve();

  const member: Member = {
    id,
    format,
    deliver(text) {
      if (cutOff || socket.readyState !== WebSocket.OPEN) return;
      if (socket.bufferedAmount > options.maxBufferedBytes) {
        // Deno cannot drop a socket whose peer stopped reading (close waits
        // for the queue), so stop adding to it: memory stays bounded by the
        // threshold plus one frame.
        cutOff = true;
        metrics.slowClientClosed();
        log.warn("socket.slow_client", {
          connection: id,
          room,
          user,
          bufferedAmount: socket.bufferedAmount,
        });
        membership?.leave();
        closeSoon(
          socket,
          CloseCode.TryAgainLater,
          "Too slow: too much data waiting to be read",
        );
        return;
      }
      socket.send(text);
    },
    close(code, reason) {
      log.info("socket.closed_by_server", {
        connection: id,
        room,
        code,
        reason,
      });
      closeSoon(socket, code, reason);
    },
  };
  const refuse = (error: ErrorFrame) => {
    metrics.messageRejected(error.code);
    log.info("frame.rejected", { connection: id, room, code: error.code });
    for (const text of serialiseFor(format, error)) member.deliver(text);
  };
  const closeFor = (
    code: number,
    reason: string,
    rejected: "binary" | "too_big" | "rate_limited",
  ) => {
    metrics.messageRejected(rejected);
    log.info("socket.closed_by_server", { connection: id, room, code, reason });
    closeSoon(socket, code, reason);
  };

  const rename = async (raw: string) => {
    if (identity) {
      refuse({
        type: "error",
        code: "name_fixed",
        error: "Your name comes from your sign-in and cannot be changed here",
      });
      return;
    }
    const checked = parseUserName(raw, options.reservedNames);
    if (!checked.ok) {
      refuse({
        type: "error",
        code: "bad_name",
        error: `Cannot rename: ${checked.error}`,
      });
      return;
    }
    const from = membership?.user;
    const result = await membership?.rename(checked.name);
    if (result === "taken") {
      refuse({
        type: "error",
        code: "name_taken",
        error:
          `The name ${checked.name} is in use in this room; choose another`,
      });
    } else if (result === "renamed") {
      log.info("socket.renamed", {
        connection: id,
        room,
        from,
        user: checked.name,
      });
    }
  };

  socket.onopen = () => {
    membership = hub.connect(room, user, member, since, owner);
    log.info("socket.open", { connection: id, room, user, since, format });
    membership.ready.catch((error) => {
      log.error("socket.admit_failed", { connection: id, room, error });
      socket.close(CloseCode.InternalError, "Cannot load the room; try again");
    });
  };
  socket.onmessage = (event: MessageEvent<unknown>) => {
    // Frames already in flight when the server closed the socket are not
    // processed (and must not close it a second time).
    if (socket.readyState !== WebSocket.OPEN) return;
    if (typeof event.data !== "string") {
      closeFor(
        CloseCode.UnsupportedData,
        "Binary frames are not supported; send JSON text",
        "binary",
      );
      return;
    }
    if (isOverBytes(event.data, options.maxFrameBytes)) {
      closeFor(
        CloseCode.MessageTooBig,
        `Frame is larger than ${options.maxFrameBytes} bytes`,
        "too_big",
      );
      return;
    }
    // Read before the rate check, so that a refusal can name the message
    // (its cid); every frame counts against the limit, garbage included.
    const parsed = parseClientFrame(event.data, limits);
    const cid = !parsed.ok
      ? parsed.error.cid
      : parsed.frame.type === "message"
      ? parsed.frame.cid
      : undefined;
    const decision = guard.check();
    if (decision === "disconnect") {
      closeFor(
        CloseCode.PolicyViolation,
        "Flooding: too many messages over the rate limit",
        "rate_limited",
      );
      return;
    }
    if (decision === "refuse") {
      refuse({
        type: "error",
        code: "rate_limited",
        error:
          `Too many messages: at most ${options.rate.rate} per second from your address (bursts of ${options.rate.burst}); this one was not sent`,
        ...(cid === undefined ? {} : { cid }),
      });
      return;
    }
    if (!parsed.ok) {
      refuse(parsed.error);
      return;
    }
    if (parsed.frame.type === "rename") {
      // In the chain: the messages sent after a rename carry the new name.
      const { name } = parsed.frame;
      storing = storing.then(() => rename(name)).catch((error) =>
        log.error("socket.rename_failed", { connection: id, room, error })
      );
      return;
    }
    const { message } = parsed.frame;
    storing = storing.then(async () => {
      await pace();
      // Handed to the store at once, not after the previous message was
      // stored: the store keeps the order, and the messages of one turn
      // (from this socket and others) share one write.
      const sending = hub.send(
        room,
        membership?.user ?? admittedAs,
        message,
        cid,
        identity ? "signed" : undefined,
      );
      sending.then(({ message: stored, duplicate }) => {
        if (duplicate) {
          // Stored before (the client resent it after a reconnect): its
          // copy, to this sender only, is the acknowledgement.
          metrics.messageRejected("duplicate");
          log.info("message.duplicate", { connection: id, room, cid });
          member.deliver(JSON.stringify(messageFrame(stored)));
        } else {
          metrics.messageAccepted();
        }
      }, (error: unknown) => {
        log.error("message.store_failed", { connection: id, room, error });
        refuse({
          type: "error",
          code: "unavailable",
          ...(cid === undefined ? {} : { cid }),
          error: `The message could not be stored${
            error instanceof StoreError ? ` (${STORE_TROUBLE[error.kind]})` : ""
          }; it was not sent, send it again later`,
        });
      }).catch((error) =>
        log.error("message.handling_failed", { connection: id, room, error })
      );
    }).catch((error) =>
      // Keeps the chain alive for the messages after this one.
      log.error("message.handling_failed", { connection: id, room, error })
    );
  };
  // Deno may report both error and close; leave() and release() are
  // idempotent.
  socket.onerror = (event) => {
    log.info("socket.error", {
      connection: id,
      room,
      error: event instanceof ErrorEvent ? event.message : "unknown",
    });
    membership?.leave();
    release();
  };
  // A token is good until its exp: the socket ends then, and the page
  // comes back with a fresh one.
  const expiry = identity
    ? setTimeout(() => {
      log.info("socket.token_expired", { connection: id, room, user });
      membership?.leave();
      closeSoon(
        socket,
        TOKEN_EXPIRED,
        "Token expired; reconnect with a new one",
      );
    }, Math.max(0, identity.expiresAt - Date.now()))
    : undefined;
  socket.onclose = (event) => {
    clearTimeout(expiry);
    membership?.leave();
    release();
    log.info("socket.close", { connection: id, room, code: event.code });
  };
}

/**
 * Parses room, `name`, `key` and `since`, or answers 400 saying which is
 * wrong.
 */
async function admissionOf(
  c: Context,
  reservedNames: readonly string[],
  nameFromToken: boolean,
): Promise<Admission> {
  const room = roomParam(c.req.param("room"), "Cannot join room");
  // A signed user's name comes from the token: ?name= is not even read.
  const rawName = nameFromToken ? undefined : c.req.query("name");
  let user = guestName();
  if (rawName !== undefined && rawName.trim() !== "") {
    const parsed = parseUserName(rawName, reservedNames);
    if (!parsed.ok) {
      throw new HTTPException(400, {
        message: `Cannot join room: ${parsed.error}`,
      });
    }
    user = parsed.name;
  }
  const key = c.req.query("key");
  if (key !== undefined && !BROWSER_KEY.test(key)) {
    throw new HTTPException(400, {
      message:
        "Cannot join room: key must be 16 to 128 letters, digits, - or _",
    });
  }
  const since = integerParam("since", c.req.query("since"), 0);
  const format = wireFormatFor(c.req.header("sec-websocket-protocol"));
  return { room, user, owner: await nameOwner(key), since, format };
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
  mode: "off" | "optional" | "required",
  options: ChatSocketOptions,
): Promise<Identified> {
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

/** Builds the WebSocket routes. */
export function chatSocketRoutes(options: ChatSocketOptions): Hono {
  const { log, metrics } = options;
  const pace = createTurnPacer(MESSAGES_PER_TURN);
  // Per client address, over every socket of this isolate.
  // Under --workers the budget of an address is shared by every worker,
  // wherever the kernel put its sockets.
  const messageTokens = options.rateTable
    ? new SharedKeyedBuckets({ ...options.rate, table: options.rateTable })
    : new KeyedBuckets(options.rate);
  const proxies = trustedProxies(options.trustedProxies ?? []);
  const app = new Hono();
  const identityMode = options.identity?.mode ?? "off";
  const upgrade = async (c: Context) => {
    let admission = await admissionOf(
      c,
      options.reservedNames,
      identityMode !== "off" && (c.req.query("token") ?? "") !== "",
    );
    if (c.req.header("upgrade")?.toLowerCase() !== "websocket") {
      return c.json(
        {
          error: "This endpoint speaks WebSocket only; send an Upgrade request",
        },
        426,
        { Upgrade: "websocket" },
      );
    }
    const peer = peerAddress(c);
    // Every limit, bucket and log line keys on the client, not on the
    // proxy in front of it.
    const ip = clientAddress(peer, c.req.raw.headers, proxies);
    const via = ip === peer ? {} : { peer };
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
    const checked = await identify(c, admission.room, identityMode, options);
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
    if (checked.identity) {
      // A signed user's name is the token's; ?name= is ignored for them.
      admission = {
        ...admission,
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
      // A signed user's budget follows the user, whatever address each of
      // their sockets comes from; a guest's follows the address.
      const budget = admission.identity
        ? `signed:${admission.identity.sub}`
        : ip;
      attach(
        socket,
        admission,
        slot.release,
        pace,
        () => messageTokens.take(budget),
        options,
      );
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
