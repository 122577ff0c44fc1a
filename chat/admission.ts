/**
 * Admission of one connection to a room, in the room's queue: claim the
 * name in presence (a server-picked guest name retries with another when
 * it clashes), then send the history, then the list of who is online,
 * after which the connection is live. Also the two steps a rename shares
 * with it: sending the list and giving up a connection's presence.
 *
 * @module
 */

import { CloseCode } from "../client/protocol.js";
import type { PresenceFrame } from "./frames.ts";
import { type HistoryLimits, loadHistory, type Since } from "./history.ts";
import type { NodePresence } from "./presence.ts";
import { type Connection, sendTo } from "./connection.ts";
import type { Room } from "./room.ts";
import type { MessageStore } from "./store.ts";

/**
 * How many names a connection whose name the server picked may try before
 * it is refused like anyone else: with 65 536 guest names, even a room of
 * 10 000 guests clashes eight times in a row about once in three million.
 */
const GUEST_NAME_PICKS = 8;

/** What admission and rename need of the hub, the same for every room. */
export interface AdmissionContext {
  readonly presence: NodePresence;
  readonly messages: MessageStore;
  readonly limits: HistoryLimits;
  /** Names in a presence frame; the API pages through the rest. */
  readonly presenceListMax: number;
}

/** One connection asking to be admitted to a room. */
export interface AdmissionRequest {
  readonly room: Room;
  readonly connection: Connection;
  /** Where the connection's history resumes, if it says so. */
  readonly since: Since | undefined;
  /** Gives another guest name; present when the server chose `user`. */
  readonly pickName: (() => string) | undefined;
  /** Takes the connection out of the room (it was refused). */
  readonly leave: () => void;
}

/**
 * Admits `request.connection`: claims its name first, so that someone
 * else's name gets nothing of the room; a name held by another owner closes
 * it with `CloseCode.NameTaken` unless the server picked the name, in which
 * case it takes the next one.
 */
export async function admit(
  context: AdmissionContext,
  request: AdmissionRequest,
): Promise<void> {
  const { room, connection, pickName } = request;
  if (connection.left) return;
  let claim = await context.presence.join(
    room.name,
    connection.user,
    connection.owner,
  );
  for (
    let picks = 1;
    claim.taken && pickName && picks < GUEST_NAME_PICKS && !connection.left;
    picks++
  ) {
    connection.user = pickName();
    claim = await context.presence.join(
      room.name,
      connection.user,
      connection.owner,
    );
  }
  if (claim.taken) {
    connection.member.close(
      CloseCode.NameTaken,
      `The name ${connection.user}, or one that looks like it, is in use in this room; choose another`,
    );
    request.leave();
    return;
  }
  connection.present = true;
  if (connection.left) {
    await unpresence(context, room, connection);
    return;
  }
  // The others start over first when the store forgot the room's log,
  // so that this connection is not told of that twice.
  const bounds = await context.messages.bounds(room.name);
  await room.check(bounds);
  const { frame, position } = await loadHistory(context.messages, {
    room: room.name,
    since: request.since,
    limits: context.limits,
    bounds,
  });
  sendTo(connection, frame);
  connection.lastId = position.last;
  connection.live = true;
  await sendList(context, room, connection);
}

/**
 * Sends `connection` the room's list of who is online (after a join or a
 * rename); the room holds its presence changes until the list is out.
 */
export async function sendList(
  context: AdmissionContext,
  room: Room,
  connection: Connection,
): Promise<void> {
  room.markListed(connection);
  try {
    const snapshot = await context.presence.snapshot(
      room.name,
      context.presenceListMax,
    );
    const presence: PresenceFrame = {
      type: "presence",
      ...snapshot,
      you: connection.user,
    };
    sendTo(connection, presence);
  } finally {
    room.listed(connection);
  }
}

/** Gives up the name `connection` holds in `room`'s presence. */
export function unpresence(
  context: AdmissionContext,
  room: Room,
  connection: Connection,
): Promise<void> {
  connection.present = false;
  return context.presence.leave(room.name, connection.user, connection.owner);
}
