/**
 * What a connection is sent first: the room's latest messages, or exactly
 * what followed the client's `since` when the store still holds all of it.
 *
 * @module
 */

import { type HistoryFrame, messageFrame } from "./frames.ts";
import type { RoomName } from "./room_name.ts";
import type {
  ChatMessage,
  MessageStore,
  RoomBounds,
  RoomPosition,
} from "./store.ts";

/** How much history a connection may get. */
export interface HistoryLimits {
  /** Messages in a fresh connection's history. */
  readonly historyLimit: number;
  /** Largest gap after `since` that is recovered exactly. */
  readonly recoveryLimit: number;
}

/**
 * The last message a client saw (`?since=`), and the epoch of the log it
 * came from (`?epoch=`) when the client knows it.
 */
export interface Since {
  readonly id: number;
  readonly epoch?: string;
}

/**
 * Whether everything after `since` is still kept and within the cap: not
 * ahead of the room, not too many, and none of it pruned.
 */
export function isRecoverable(
  since: number,
  bounds: Pick<RoomBounds, "first" | "last">,
  recoveryLimit: number,
): boolean {
  const missed = bounds.last - since;
  if (missed < 0 || missed > recoveryLimit) return false;
  return missed === 0 || (bounds.first > 0 && bounds.first <= since + 1);
}

/** Which history {@linkcode loadHistory} reads. */
export interface HistoryRequest {
  readonly room: RoomName;
  /** Where the connection resumes; absent for the latest history. */
  readonly since: Since | undefined;
  readonly limits: HistoryLimits;
  /** The room's bounds as just read. @default read from the store */
  readonly bounds?: RoomBounds | undefined;
}

/**
 * Builds the history frame for a connection, and the position it covers
 * (the connection's starting point for live messages). A `since` from
 * another epoch than the log's names other messages: the latest history
 * comes instead, not recovered.
 */
export async function loadHistory(
  messages: MessageStore,
  request: HistoryRequest,
): Promise<{ frame: HistoryFrame; position: RoomPosition }> {
  const { room, since, limits, bounds } = request;
  const known = bounds ?? await messages.bounds(room);
  let recovered = false;
  let found: ChatMessage[];
  if (
    since !== undefined &&
    (since.epoch === undefined || since.epoch === known.epoch) &&
    isRecoverable(since.id, known, limits.recoveryLimit)
  ) {
    recovered = true;
    found = await messages.after(room, since.id, known.last - since.id);
  } else {
    found = await messages.latest(room, limits.historyLimit);
  }
  return {
    frame: {
      type: "history",
      messages: found.map(messageFrame),
      recovered,
      ...(known.epoch === "" ? {} : { epoch: known.epoch }),
    },
    position: {
      last: Math.max(known.last, found.at(-1)?.id ?? 0),
      epoch: known.epoch,
    },
  };
}
