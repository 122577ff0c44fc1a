/**
 * The publish hook as the core sees it: a question about a client's
 * message before it is stored, and the verdict (allow it, reject it with a
 * reason for the sender, or replace its text). How the question travels
 * (HTTP, signed) is `adapters/webhooks/publish_hook.ts`'s; keeping the
 * messages of a room in order while questions are out is
 * `publish_gate.ts`'s.
 *
 * @module
 */

import type { RoomName } from "./room_name.ts";

/** What the hook is asked about one message. */
export interface PublishQuestion {
  readonly room: RoomName;
  /** The sender's name. */
  readonly user: string;
  /** Whether the site vouches for the sender (a signed token). */
  readonly verified: boolean;
  /** The sender's id at the site, when signed. */
  readonly sub?: string;
  /** The text, as the client sent it. */
  readonly message: string;
  /** The client's id for the message, when it gave one. */
  readonly cid?: string;
}

/**
 * What becomes of the message: stored as it is, refused with `reason`
 * (told to the sender only), stored with `message` instead of its text,
 * or refused because the hook could not answer and the failure policy
 * says so (`unchecked`: the sender may send it again later).
 */
export type PublishVerdict =
  | { readonly action: "allow" }
  | { readonly action: "reject"; readonly reason: string }
  | { readonly action: "replace"; readonly message: string }
  | { readonly action: "unchecked" };

/** How a call of the hook ended, for the metrics. */
export type PublishHookOutcome = "allowed" | "rejected" | "replaced" | "failed";

/**
 * Asks the site about a message before it is stored. `screen` settles
 * with a verdict for every question, a failure of the hook included (its
 * failure policy turns that into `allow` or `unchecked`).
 */
export interface PublishHook {
  screen(question: PublishQuestion): Promise<PublishVerdict>;
}
