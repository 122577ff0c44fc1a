/**
 * Presence claims for tests of the presence stores (SQLite and Redis),
 * written on one line: `claim("ann", "n1", "o1")` is ann joining from node
 * n1 as owner o1, in the room the claims were made for.
 *
 * @module
 */

import type { RoomName } from "../chat/room_name.ts";
import type { PresenceClaim } from "../chat/store.ts";

/** Makes the claims of `room`: `user` from `node`, held by `owner`. */
export function claimsIn(
  room: RoomName,
): (user: string, node: string, owner: string) => PresenceClaim {
  return (user, node, owner) => ({ room, user, node, owner });
}
