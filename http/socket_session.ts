/**
 * One upgraded chat socket, wired to the hub: every text frame is
 * size-checked, rate-limited and parsed at this edge into a typed frame or
 * answered with an error frame; messages are handed to the hub in the order
 * they came; slow readers are cut off; a signed socket ends when its token
 * expires. The upgrade itself (validation, Origin, limits) is
 * `chat_ws.ts`.
 *
 * A session is one object that is its socket's event listener and the
 * hub's member, rather than a closure per event: thousands of idle
 * connections each cost a few hundred bytes less.
 *
 * @module
 */

import {
  type ErrorFrame,
  type FrameLimits,
  messageFrame,
  parseClientFrame,
  serialiseFor,
  type WireFormat,
} from "../chat/frames.ts";
import type { Since } from "../chat/history.ts";
import type { ChatHub, Membership } from "../chat/hub.ts";
import type { ChatMetrics } from "../chat/metrics.ts";
import type { BudgetAnswer, Rate } from "../chat/message_budget.ts";
import { FloodGuard } from "../chat/rate_limit.ts";
import type { Member } from "../chat/room.ts";
import type { RoomName } from "../chat/room_name.ts";
import { setLongTimeout } from "../chat/long_timer.ts";
import { StoreError, type StoreErrorKind } from "../chat/store.ts";
import { parseUserName } from "../chat/user_name.ts";
import type { Identity } from "../chat/identity.ts";
import { CloseCode } from "../chat/close_codes.js";
import type { Logger } from "../chat/logger.ts";
import type { TurnPacer } from "./turn_pacer.ts";

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

/** What a session needs from the server. */
export interface SocketSessionOptions {
  readonly hub: ChatHub;
  readonly log: Logger;
  readonly metrics: ChatMetrics;
  readonly limits: FrameLimits;
  /** Names nobody may take (compared case-insensitively). */
  readonly reservedNames: readonly string[];
  /** Largest frame in UTF-8 bytes. */
  readonly maxFrameBytes: number;
  /** Messages per second (0: off) and burst of each sender. */
  readonly rate: Rate;
  /** Messages per second (0: off) and burst of each address. */
  readonly addressRate: Rate;
  /** Unsent bytes after which a client is cut off. */
  readonly maxBufferedBytes: number;
}

/** Who connects where, and how it speaks, parsed from the upgrade request. */
export interface Admission {
  readonly room: RoomName;
  readonly user: string;
  /** Who holds the name; see `nameOwner`. */
  readonly owner: string;
  /**
   * Set when the server picked `user` (no `?name=`, no token): on a clash
   * with a name online, the hub asks it for another instead of refusing.
   */
  readonly pickGuestName?: () => string;
  /** `?since=` and `?epoch=`: where the client's history ends. */
  readonly since: Since | undefined;
  readonly format: WireFormat;
  /** The signed identity, when the socket has one. */
  readonly identity?: Identity;
}

/** What wires a session to the rest of its upgrade. */
export interface SessionWiring {
  /** Frees the connection's slot in the limits; idempotent. */
  readonly release: () => void;
  /** Waits for the message's turn of the event loop. */
  readonly pace: TurnPacer;
  /** Takes one message from the sender's and the address's budgets. */
  readonly takeMessageToken: () => BudgetAnswer;
  /**
   * Whether the sender's budget is its address's (a socket with neither
   * key nor token), which the refusal says.
   */
  readonly senderIsAddress: boolean;
}

/** What {@linkcode SocketSession.attach} wires together. */
export interface SessionParts {
  /** The socket, just upgraded. */
  readonly socket: WebSocket;
  readonly admission: Admission;
  readonly wiring: SessionWiring;
  /** The server's settings, the same for every session. */
  readonly options: SocketSessionOptions;
}

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

/**
 * The longest a flooding socket's close waits for the messages it had
 * accepted to be stored and echoed: a store that hangs must not keep a
 * flooder connected.
 */
const FLUSH_BEFORE_CLOSE_MS = 5000;

/** A short random id that ties a connection's log lines together. */
function connectionId(): string {
  return crypto.randomUUID().slice(0, 8);
}

/** One upgraded socket: its listener, and its member in the hub. */
export class SocketSession implements Member, EventListenerObject {
  readonly id: string = connectionId();
  readonly format: WireFormat;
  readonly #socket: WebSocket;
  readonly #admission: Admission;
  readonly #wiring: SessionWiring;
  readonly #options: SocketSessionOptions;
  // The budgets are the sender's (a signed user's or a browser key's, over
  // all their sockets) and the address's.
  readonly #guard: FloodGuard;
  /** The answer of the budgets to the last frame. */
  #budget: BudgetAnswer = "accepted";
  #membership: Membership | undefined;
  #cutOff = false;
  // Set once the server decided to close this socket: frames still coming
  // in are dropped unanswered, so that what the client heard before the
  // close frame is exactly what was answered before the decision.
  #closing = false;
  // This socket's accepted messages, handled one after another in the
  // order they arrived.
  #handling: Promise<void> = Promise.resolve();
  // Settles once every message handed to the hub so far was stored and
  // echoed (or refused as unavailable).
  #sent: Promise<void> = Promise.resolve();
  /** Cancels the close at the token's exp. */
  #cancelExpiry: (() => void) | undefined;

  /** Wires `parts.socket` (just upgraded) to the hub. */
  static attach(parts: SessionParts): SocketSession {
    const session = new SocketSession(parts);
    for (const type of ["open", "message", "error", "close"]) {
      parts.socket.addEventListener(type, session);
    }
    return session;
  }

  private constructor(parts: SessionParts) {
    const { socket, admission, wiring, options } = parts;
    this.#socket = socket;
    this.#admission = admission;
    this.#wiring = wiring;
    this.#options = options;
    this.format = admission.format;
    this.#guard = new FloodGuard({
      take: () => (this.#budget = wiring.takeMessageToken()) === "accepted",
      tolerance: options.rate.burst,
    });
    // A token is good until its exp: the socket ends then, and the page
    // comes back with a fresh one.
    if (admission.identity) {
      this.#cancelExpiry = setLongTimeout(
        () => this.#expire(),
        admission.identity.expiresAt - Date.now(),
      );
    }
  }

  /** The socket's events; see {@linkcode SocketSession.attach}. */
  handleEvent(event: Event): void {
    if (event.type === "open") this.#open();
    else if (event.type === "message" && event instanceof MessageEvent) {
      this.#receive(event.data);
    } else if (event.type === "error") this.#error(event);
    else if (event.type === "close" && event instanceof CloseEvent) {
      this.#closed(event.code);
    }
  }

  /** Sends one frame, unless the client has stopped reading. */
  deliver(text: string): void {
    const socket = this.#socket;
    if (this.#cutOff || socket.readyState !== WebSocket.OPEN) return;
    if (socket.bufferedAmount > this.#options.maxBufferedBytes) {
      // Deno cannot drop a socket whose peer stopped reading (close waits
      // for the queue), so stop adding to it: memory stays bounded by the
      // threshold plus one frame.
      this.#cutOff = true;
      this.#closing = true;
      this.#options.metrics.slowClientClosed();
      this.#options.log.warn("socket.slow_client", {
        connection: this.id,
        room: this.#admission.room,
        user: this.#admission.user,
        bufferedAmount: socket.bufferedAmount,
      });
      this.#membership?.leave();
      closeSoon(
        socket,
        CloseCode.TryAgainLater,
        "Too slow: too much data waiting to be read",
      );
      return;
    }
    socket.send(text);
  }

  /** Ends the connection with a close code from docs/protocol.md. */
  close(code: number, reason: string): void {
    this.#options.log.info("socket.closed_by_server", {
      connection: this.id,
      room: this.#admission.room,
      code,
      reason,
    });
    closeSoon(this.#socket, code, reason);
  }

  #open(): void {
    const { hub, log } = this.#options;
    const { room, user, since, format, owner, pickGuestName } = this.#admission;
    const membership = hub.connect({
      room,
      user,
      member: this,
      since,
      owner,
      pickName: pickGuestName,
    });
    this.#membership = membership;
    log.info("socket.open", {
      connection: this.id,
      room,
      user,
      since: since?.id,
      format,
    });
    membership.ready.catch((error) => {
      log.error("socket.admit_failed", { connection: this.id, room, error });
      this.#socket.close(
        CloseCode.InternalError,
        "Cannot load the room; try again",
      );
    });
  }

  #receive(data: unknown): void {
    const { limits, maxFrameBytes } = this.#options;
    // Frames already in flight when the server closed the socket, or
    // decided to, are not processed (and must not close it a second time).
    if (this.#closing || this.#socket.readyState !== WebSocket.OPEN) return;
    if (typeof data !== "string") {
      this.#closeFor(
        CloseCode.UnsupportedData,
        "Binary frames are not supported; send JSON text",
        "binary",
      );
      return;
    }
    if (isOverBytes(data, maxFrameBytes)) {
      this.#closeFor(
        CloseCode.MessageTooBig,
        `Frame is larger than ${maxFrameBytes} bytes`,
        "too_big",
      );
      return;
    }
    // Read before the rate check, so that a refusal can name the message
    // (its cid); every frame counts against the limit, garbage included.
    const parsed = parseClientFrame(data, limits);
    const cid = !parsed.ok
      ? parsed.error.cid
      : parsed.frame.type === "message"
      ? parsed.frame.cid
      : undefined;
    const decision = this.#guard.check();
    if (decision === "disconnect") {
      this.#closeAfterAccepted();
      return;
    }
    if (decision === "refuse") {
      this.#refuse({
        type: "error",
        code: "rate_limited",
        error: this.#rateLimited(),
        ...(cid === undefined ? {} : { cid }),
      });
      return;
    }
    if (!parsed.ok) {
      this.#refuse(parsed.error);
      return;
    }
    const frame = parsed.frame;
    // In the chain: the messages sent after a rename carry the new name.
    this.#handling = this.#handling.then(() =>
      frame.type === "rename"
        ? this.#rename(frame.name)
        : this.#send(frame.message, cid)
    ).catch((error) =>
      // Keeps the chain alive for the frames after this one.
      this.#options.log.error(
        frame.type === "rename"
          ? "socket.rename_failed"
          : "message.handling_failed",
        { connection: this.id, room: this.#admission.room, error },
      )
    );
  }

  async #send(message: string, cid: string | undefined): Promise<void> {
    const { hub, log, metrics } = this.#options;
    const { room, user, identity } = this.#admission;
    await this.#wiring.pace();
    // Handed to the store at once, not after the previous message was
    // stored: the store keeps the order, and the messages of one turn (from
    // this socket and others) share one write.
    const sent = hub.send({
      room,
      user: this.#membership?.user ?? user,
      message,
      cid,
      author: identity ? "signed" : undefined,
    }).then(({ message: stored, duplicate }) => {
      if (duplicate) {
        // Stored before (the client resent it after a reconnect): its copy,
        // to this sender only, is the acknowledgement.
        metrics.messageRejected("duplicate");
        log.info("message.duplicate", { connection: this.id, room, cid });
        this.deliver(JSON.stringify(messageFrame(stored)));
      } else {
        metrics.messageAccepted();
      }
    }, (error: unknown) => {
      log.error("message.store_failed", { connection: this.id, room, error });
      this.#refuse({
        type: "error",
        code: "unavailable",
        ...(cid === undefined ? {} : { cid }),
        error: `The message could not be stored${
          error instanceof StoreError ? ` (${STORE_TROUBLE[error.kind]})` : ""
        }; it was not sent, send it again later`,
      });
    }).catch((error) =>
      log.error("message.handling_failed", { connection: this.id, room, error })
    );
    this.#sent = Promise.all([this.#sent, sent]).then(() => {});
  }

  async #rename(raw: string): Promise<void> {
    if (this.#admission.identity) {
      this.#refuse({
        type: "error",
        code: "name_fixed",
        error: "Your name comes from your sign-in and cannot be changed here",
      });
      return;
    }
    const checked = parseUserName(raw, this.#options.reservedNames);
    if (!checked.ok) {
      this.#refuse({
        type: "error",
        code: "bad_name",
        error: `Cannot rename: ${checked.error}`,
      });
      return;
    }
    const from = this.#membership?.user;
    const result = await this.#membership?.rename(checked.name);
    if (result === "taken") {
      this.#refuse({
        type: "error",
        code: "name_taken",
        error:
          `The name ${checked.name}, or one that looks like it, is in use in this room; choose another`,
      });
    } else if (result === "renamed") {
      this.#options.log.info("socket.renamed", {
        connection: this.id,
        room: this.#admission.room,
        from,
        user: checked.name,
      });
    }
  }

  /** Why the budgets refused the last frame, for people. */
  #rateLimited(): string {
    const { rate, addressRate } = this.#options;
    if (this.#budget === "address") {
      return `Too many messages from your address: at most ${addressRate.rate} per second from everyone using it (bursts of ${addressRate.burst}); this one was not sent`;
    }
    const from = this.#wiring.senderIsAddress ? " from your address" : "";
    return `Too many messages: at most ${rate.rate} per second${from} (bursts of ${rate.burst}); this one was not sent`;
  }

  #refuse(error: ErrorFrame): void {
    this.#options.metrics.messageRejected(error.code);
    this.#options.log.info("frame.rejected", {
      connection: this.id,
      room: this.#admission.room,
      code: error.code,
    });
    for (const text of serialiseFor(this.format, error)) this.deliver(text);
  }

  #closeFor(
    code: number,
    reason: string,
    rejected: "binary" | "too_big",
  ): void {
    this.#closing = true;
    this.#options.metrics.messageRejected(rejected);
    this.close(code, reason);
  }

  /**
   * Closes a flooding socket with 1008 once the messages it had accepted
   * were stored and echoed to it (the client learns which ones went
   * through), or after {@linkcode FLUSH_BEFORE_CLOSE_MS} at the latest.
   */
  #closeAfterAccepted(): void {
    this.#closing = true;
    this.#options.metrics.messageRejected("rate_limited");
    const accepted = Promise.all([
      this.#membership?.ready,
      this.#handling.then(() => this.#sent),
    ]);
    let timer: ReturnType<typeof setTimeout> | undefined;
    const bound = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, FLUSH_BEFORE_CLOSE_MS);
    });
    // A failed admission closes the socket itself (1011); the close below
    // then does nothing.
    Promise.race([accepted.catch(() => {}), bound]).then(() => {
      clearTimeout(timer);
      this.close(
        CloseCode.PolicyViolation,
        "Flooding: too many messages over the rate limit",
      );
    });
  }

  #expire(): void {
    this.#closing = true;
    this.#options.log.info("socket.token_expired", {
      connection: this.id,
      room: this.#admission.room,
      user: this.#admission.user,
    });
    this.#membership?.leave();
    closeSoon(
      this.#socket,
      CloseCode.TokenExpired,
      "Token expired; reconnect with a new one",
    );
  }

  // Deno may report both error and close; leave() and release() are
  // idempotent.
  #error(event: Event): void {
    this.#options.log.info("socket.error", {
      connection: this.id,
      room: this.#admission.room,
      error: event instanceof ErrorEvent ? event.message : "unknown",
    });
    this.#membership?.leave();
    this.#wiring.release();
  }

  #closed(code: number): void {
    this.#cancelExpiry?.();
    this.#membership?.leave();
    this.#wiring.release();
    this.#options.log.info("socket.close", {
      connection: this.id,
      room: this.#admission.room,
      code,
    });
  }
}
