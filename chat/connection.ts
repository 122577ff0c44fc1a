/**
 * A local connection as the core sees it (a member that can take text and
 * be closed) and its state in one room, and sending frames to it in its
 * wire format.
 *
 * @module
 */

import {
  type DeleteFrame,
  type HistoryFrame,
  type PresenceBatchFrame,
  type PresenceChangeFrame,
  serialiseFor,
  type ServerFrame,
  type WireFormat,
} from "./frames.ts";
import type { PresenceMark, PresenceUpdate } from "./presence_batch.ts";

/** A local connection as the core sees it. */
export interface Member {
  /** A short id for logs. */
  readonly id: string;
  /** Which frames it receives, and in what shape. */
  readonly format: WireFormat;
  /** Sends one serialised frame; must not throw for a closing connection. */
  deliver(text: string): void;
  /** Ends the connection with a close code from docs/protocol.md. */
  close(code: number, reason: string): void;
}

/** A member's state in one room. */
export interface Connection {
  readonly member: Member;
  /** The name it goes by; a rename changes it. */
  user: string;
  /** Who holds the name; see `nameOwner`. */
  readonly owner: string;
  /** The last message id this connection has (history or live). */
  lastId: number;
  /** Receiving live messages (history sent). */
  live: boolean;
  /** Counted in the presence store. */
  present: boolean;
  left: boolean;
  /**
   * Where the room's presence window stood when this connection's list of
   * who is online was last read, if one was open: what changed after it is
   * what the connection needs when that window ends.
   */
  listedAt: PresenceMark | undefined;
  /**
   * Presence frames held back while this connection's list is being read
   * (a store may answer asynchronously): sent right after the list, so that
   * no change reaches the connection before the list it changes.
   */
  held: PresenceUpdate[] | undefined;
  /** Presence frames waiting for its slice (see presence_slices.ts). */
  unsent?: string[] | undefined;
}

/** Sends `frame` to one connection in the shape its format wants. */
export function sendTo(connection: Connection, frame: ServerFrame): void {
  for (const text of serialiseFor(connection.member.format, frame)) {
    connection.member.deliver(text);
  }
}

/**
 * Sends `frame` to `connection` in its wire format, serialised once per
 * format across the calls that share `texts`.
 */
export function sendShaped(
  connection: Connection,
  frame: PresenceChangeFrame | PresenceBatchFrame | DeleteFrame | HistoryFrame,
  texts: Map<WireFormat, string[]>,
): void {
  for (const text of shapedFor(connection, frame, texts)) {
    connection.member.deliver(text);
  }
}

/** `frame` in `connection`'s wire format, serialised once per format. */
export function shapedFor(
  connection: Connection,
  frame: PresenceChangeFrame | PresenceBatchFrame | DeleteFrame | HistoryFrame,
  texts: Map<WireFormat, string[]>,
): string[] {
  const { format } = connection.member;
  let shaped = texts.get(format);
  if (!shaped) {
    shaped = serialiseFor(format, frame);
    texts.set(format, shaped);
  }
  return shaped;
}
