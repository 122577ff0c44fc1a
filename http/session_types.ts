/**
 * What a socket session is made of: the server's settings shared by every
 * session, the admission parsed from the upgrade request, and the wiring to
 * the upgrade's limits and pacing.
 *
 * @module
 */

import type { FrameLimits } from "../chat/client_frames.ts";
import type { WireFormat } from "../chat/frames.ts";
import type { Since } from "../chat/history.ts";
import type { ChatHub } from "../chat/hub.ts";
import type { Identity } from "../chat/identity.ts";
import type { Logger } from "../chat/logger.ts";
import type { BudgetAnswer, Rate } from "../chat/message_budget.ts";
import type { ChatMetrics } from "../chat/metrics.ts";
import type { RoomName } from "../chat/room_name.ts";
import type { TurnPacer } from "./turn_pacer.ts";

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
  /** The client's address (the forwarded one behind a trusted proxy). */
  readonly address: string;
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

/** What `SocketSession.attach` wires together. */
export interface SessionParts {
  /** The socket, just upgraded. */
  readonly socket: WebSocket;
  readonly admission: Admission;
  readonly wiring: SessionWiring;
  /** The server's settings, the same for every session. */
  readonly options: SocketSessionOptions;
}
