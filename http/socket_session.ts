/**
 * One upgraded chat socket, wired to the hub: every text frame is
 * size-checked, rate-limited and parsed at this edge into a typed frame or
 * answered with an error frame; messages are handed to the hub in the order
 * they came; slow readers are cut off; a signed socket ends when its token
 * expires. The upgrade itself (validation, Origin, limits) is
 * `chat_ws.ts`; what the session is made of is `session_types.ts`, what a
 * refused sender is told `session_answers.ts` and `session_send.ts`, a
 * rename `session_rename.ts`, mutes, bans and the other frames
 * `session_moderation.ts`, and how the server ends a socket
 * `session_close.ts`.
 *
 * A session is one object that is its socket's event listener and the
 * hub's member, rather than a closure per event: thousands of idle
 * connections each cost a few hundred bytes less.
 *
 * @module
 */

import { CloseCode } from "../client/protocol.js";
import {
  type ErrorFrame,
  serialiseFor,
  type WireFormat,
} from "../chat/frames.ts";
import { parseClientFrame } from "../chat/client_frames.ts";
import type { Membership } from "../chat/hub.ts";
import type { BudgetAnswer } from "../chat/message_budget.ts";
import { FloodGuard } from "../chat/rate_limit.ts";
import type { Member } from "../chat/connection.ts";
import { rateLimitedFrame } from "./session_answers.ts";
import { answerSubmitted } from "./session_send.ts";
import { renameMember } from "./session_rename.ts";
import { messageOwner } from "./session_conversation.ts";
import { SessionModeration } from "./session_moderation.ts";
import {
  closeSoon,
  expireWithToken,
  flushedOrLate,
  isOverBytes,
} from "./session_close.ts";
import type {
  Admission,
  SessionParts,
  SessionWiring,
  SocketSessionOptions,
} from "./session_types.ts";

export type {
  Admission,
  SessionParts,
  SessionWiring,
  SocketSessionOptions,
} from "./session_types.ts";

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
  /** Its moderation, typing, edits, deletes and reactions. */
  readonly #moderation: SessionModeration;

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
    this.#moderation = new SessionModeration(options.hub, {
      id: this.id,
      room: admission.room,
      format: admission.format,
      owner: admission.owner,
      identity: admission.identity,
      address: admission.address,
      user: () => this.#membership?.user ?? admission.user,
      refuse: (error) => this.#refuse(error),
      deliver: (text) => this.deliver(text),
      end: (code, reason) => this.#end(code, reason),
      log: options.log,
    });
    this.#cancelExpiry = expireWithToken(
      admission.identity,
      () => this.#expire(),
    );
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
    this.#moderation.open(membership.ready);
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
      const { rate, addressRate } = this.#options;
      const { senderIsAddress } = this.#wiring;
      const budget = this.#budget;
      const refusal = { budget, rate, addressRate, senderIsAddress };
      return this.#refuse(rateLimitedFrame(refusal, cid));
    }
    if (!parsed.ok) {
      this.#refuse(parsed.error);
      return;
    }
    const frame = parsed.frame;
    const muted = this.#moderation.muted(frame, cid);
    if (muted) {
      this.#refuse(muted);
      return;
    }
    if (frame.type !== "message" && frame.type !== "rename") {
      // In the chain too: a delete after an edit stays after it.
      this.#handling = this.#handling.then(() =>
        this.#moderation.handle(frame)
      );
      return;
    }
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
    const submitted = hub.submit({
      room,
      user: this.#membership?.user ?? user,
      message,
      cid,
      author: identity ? "signed" : undefined,
      sub: identity?.sub,
      owner: messageOwner(this.#admission.owner),
    });
    const sent = answerSubmitted(submitted, {
      id: this.id,
      room,
      cid,
      log,
      metrics,
      refuse: (error) => this.#refuse(error),
      deliver: (text) => this.deliver(text),
    });
    this.#sent = Promise.all([this.#sent, sent]).then(() => {});
  }

  async #rename(raw: string): Promise<void> {
    const outcome = await renameMember({
      raw,
      signed: this.#admission.identity !== undefined,
      membership: this.#membership,
      reservedNames: this.#options.reservedNames,
    });
    if (outcome.kind === "refused") this.#refuse(outcome.error);
    else if (outcome.kind === "renamed") {
      this.#options.log.info("socket.renamed", {
        connection: this.id,
        room: this.#admission.room,
        from: outcome.from,
        user: outcome.user,
      });
    }
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
   * through), or after `FLUSH_BEFORE_CLOSE_MS` at the latest.
   */
  #closeAfterAccepted(): void {
    this.#closing = true;
    this.#options.metrics.messageRejected("rate_limited");
    const accepted = Promise.all([
      this.#membership?.ready,
      this.#handling.then(() => this.#sent),
    ]);
    // A failed admission closes the socket itself (1011); the close below
    // then does nothing.
    flushedOrLate(accepted).then(() => {
      this.close(
        CloseCode.PolicyViolation,
        "Flooding: too many messages over the rate limit",
      );
    });
  }

  #expire(): void {
    this.#options.log.info("socket.token_expired", {
      connection: this.id,
      room: this.#admission.room,
      user: this.#admission.user,
    });
    this.#end(
      CloseCode.TokenExpired,
      "Token expired; reconnect with a new one",
    );
  }

  /** Leaves the room now and closes the socket with `code`. */
  #end(code: number, reason: string): void {
    this.#closing = true;
    this.#membership?.leave();
    this.close(code, reason);
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
    this.#moderation.close();
    this.#wiring.release();
  }

  #closed(code: number): void {
    this.#cancelExpiry?.();
    this.#moderation.close();
    this.#membership?.leave();
    this.#wiring.release();
    this.#options.log.info("socket.close", {
      connection: this.id,
      room: this.#admission.room,
      code,
    });
  }
}
