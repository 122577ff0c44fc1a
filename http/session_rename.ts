/**
 * A socket's rename frame: refused for a signed socket (its name is the
 * token's) and for a name that `parseUserName` rejects or that is taken in
 * the room; else the member takes the name in the hub.
 *
 * @module
 */

import type { ErrorFrame } from "../chat/frames.ts";
import type { Membership } from "../chat/hub.ts";
import { parseUserName } from "../chat/user_name.ts";

/** What a rename frame asks, and of whom. */
export interface RenameRequest {
  /** The name the client sent, unchecked. */
  readonly raw: string;
  /** Whether the socket is signed (its name cannot change). */
  readonly signed: boolean;
  /** The socket's membership, once admitted. */
  readonly membership: Membership | undefined;
  /** Names no guest may take. */
  readonly reservedNames: readonly string[];
}

/** What came of a rename: refused with an error frame, renamed, or neither. */
export type RenameOutcome =
  | { readonly kind: "refused"; readonly error: ErrorFrame }
  | {
    readonly kind: "renamed";
    readonly from: string | undefined;
    readonly user: string;
  }
  | { readonly kind: "unchanged" };

/** Checks the name and renames the member; see {@linkcode RenameOutcome}. */
export async function renameMember(
  request: RenameRequest,
): Promise<RenameOutcome> {
  if (request.signed) {
    return refused(
      "name_fixed",
      "Your name comes from your sign-in and cannot be changed here",
    );
  }
  const checked = parseUserName(request.raw, request.reservedNames);
  if (!checked.ok) {
    return {
      kind: "refused",
      error: {
        type: "error",
        code: "bad_name",
        reason: checked.problem,
        error: `Cannot rename: ${checked.error}`,
      },
    };
  }
  const from = request.membership?.user;
  const result = await request.membership?.rename(checked.name);
  if (result === "taken") {
    return refused(
      "name_taken",
      `The name ${checked.name}, or one that looks like it, is in use in this room; choose another`,
    );
  }
  return result === "renamed"
    ? { kind: "renamed", from, user: checked.name }
    : { kind: "unchanged" };
}

function refused(code: ErrorFrame["code"], error: string): RenameOutcome {
  return { kind: "refused", error: { type: "error", code, error } };
}
