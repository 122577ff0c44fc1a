/**
 * What a connection is sent first: the room's latest messages, or exactly
 * what followed the client's `since` when the store still holds all of it.
 *
 * @module
 */

import { type HistoryFrame, messageFrame } from "./frames.ts";
import type { RoomName } from "./room_name.ts";
import type { ChatMessage, MessageStore, RoomBounds } from "./store.ts";

/** How much history a connection may get. */
export interface HistoryLimits {
  /** Messages in a fresh connection's history. */
  readonly historyLimit: number;
  /** Largest gap after `since` that is recovered exactly. */
  readonly recoveryLimit: number;
}

/**
 * Whether everything after `since` is still kept and within the cap: not
 * ahead of the room, not too many, and none of it pruned.
 */
export function isRecoverable(
  since: number,
  bounds: RoomBounds,
  recoveryLimit: number,
): boolean {
  const missed = bounds.last - since;
  if (missed < 0 || missed > recoveryLimit) return false;
  return missed === 0 || (bounds.first > 0 && bounds.first <= since + 1);
}

/**
 * Builds the history frame for a connection, and the last id it covers
 * (the connection's starting point for live messages).
 */
export async function loadHistory(
  messages: MessageStore,
  room: RoomName,
  since: number | undefined,
  limits: HistoryLimits,
): Promise<{ frame: HistoryFrame; lastId: number }> {
  const bounds = await messages.bounds(room);
  let recovered = false;
  let found: ChatMessage[];
  if (
    since !== undefined && isRecoverable(since, bounds, limits.recoveryLimit)
  ) {
    recovered = true;
    found = await messages.after(room, since, bounds.last - since);
  } else {
    found = await messages.latest(room, limits.historyLimit);
  }
  return {
    frame: { type: "history", messages: found.map(messageFrame), recovered },
    lastId: Math.max(bounds.last, found.at(-1)?.id ?? 0),
  };
}
