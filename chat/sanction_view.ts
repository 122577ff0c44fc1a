/**
 * A sanction as people are shown it, by the moderation API, the admin
 * console and a moderator's `sanctions` frame: the target's name and sub,
 * never the browser key's hash, and its guest addresses only where the
 * caller asked for them.
 *
 * @module
 */

import type { Sanction, SanctionKind } from "./moderation_store.ts";
import type { RoomName } from "./room_name.ts";
import { signedSub } from "./user_name.ts";

/** A sanction as it is shown: the sub, never the key's hash. */
export interface SanctionView {
  readonly id: string;
  readonly kind: SanctionKind;
  /** The room it applies to; `null`: every room. */
  readonly room: RoomName | null;
  readonly target: {
    readonly user: string;
    readonly sub?: string;
    readonly addresses?: readonly string[];
  };
  readonly reason: string;
  readonly by: string;
  readonly at: string;
  readonly until: string | null;
}

/** `sanction` as it is shown; with its guest `addresses` only when asked. */
export function sanctionView(
  sanction: Sanction,
  addresses: boolean,
): SanctionView {
  const { target } = sanction;
  const sub = target.owner === undefined ? undefined : signedSub(target.owner);
  return {
    id: sanction.id,
    kind: sanction.kind,
    room: sanction.room,
    target: {
      user: target.user,
      ...(sub === undefined ? {} : { sub }),
      ...(addresses ? { addresses: target.addresses } : {}),
    },
    reason: sanction.reason,
    by: sanction.by,
    at: sanction.at,
    until: sanction.until,
  };
}
