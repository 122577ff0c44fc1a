/**
 * Renaming a connection that is in a room: the new name is claimed in
 * presence (one rename the whole room hears), and the connection gets a
 * fresh list of who is online.
 *
 * @module
 */

import { type AdmissionContext, sendList, unpresence } from "./admission.ts";
import type { Connection } from "./connection.ts";
import type { Room } from "./room.ts";

/** The answer to a rename: done, or the name is another owner's. */
export type RenameResult = "renamed" | "taken" | "gone";

/** One rename asked for by a connection. */
export interface RenameRequest {
  readonly room: Room;
  readonly connection: Connection;
  /** The connection's admission; a rename waits for it. */
  readonly ready: Promise<void>;
  /** The new name, already checked by `parseUserName`. */
  readonly to: string;
}

/**
 * Takes the name `request.to` for the connection: `taken` when another
 * owner holds it online in the room, `gone` after the connection left.
 */
export async function rename(
  context: AdmissionContext,
  request: RenameRequest,
): Promise<RenameResult> {
  const { room, connection, to } = request;
  await request.ready;
  // In the room's queue, so that no admission or other rename of this
  // room runs between the claim and the presence frame.
  return await room.run(async () => {
    if (connection.left || !connection.present) return "gone";
    const from = connection.user;
    if (from === to) return "renamed";
    // The rename holds the connection's presence until it is done, so
    // that a close meanwhile does not release a name twice.
    connection.present = false;
    let taken: boolean;
    try {
      ({ taken } = await context.presence.rename({
        room: room.name,
        from,
        to,
        owner: connection.owner,
      }));
    } finally {
      connection.present = true;
    }
    if (!taken) connection.user = to;
    if (connection.left) {
      await unpresence(context, room, connection);
      return "gone";
    }
    if (taken) return "taken";
    await sendList(context, room, connection);
    return "renamed";
  });
}
