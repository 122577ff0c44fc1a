/**
 * What a signed identity is, and how it is checked, without the code that
 * checks it (server/tokens.ts, with npm:jose). A server with sign-in off never
 * loads that code; everything else needs only these types and errors.
 *
 * @module
 */

import type { RoomName } from "./room_name.ts";

/**
 * Whether signed identities are used: `off` ignores tokens, `optional`
 * admits guests beside signed users, `required` only signed users.
 */
export type SignInMode = "off" | "optional" | "required";

/** A signed user's role over every room: moderators act, admins too. */
export type ModeratorRole = "moderator" | "admin";

/** Who a valid token says the user is. */
export interface Identity {
  /** The user's stable id at the host site. */
  readonly sub: string;
  /** The display name: the `name` claim, or `sub` without one. */
  readonly name: string;
  /** The rooms the token may join; undefined: every room. */
  readonly rooms?: ReadonlySet<RoomName>;
  /** A role over every room (claim `role`); other values are ignored. */
  readonly role?: ModeratorRole;
  /** The rooms this user moderates (claim `moderates`), beside `role`'s. */
  readonly moderates?: ReadonlySet<RoomName>;
  /** When the token expires, in ms since the epoch. */
  readonly expiresAt: number;
}

/** The outcome of checking a token: an identity, or why not (for people). */
export type TokenCheck =
  | { readonly ok: true; readonly identity: Identity }
  | { readonly ok: false; readonly reason: string };

/** How tokens are checked. */
export interface TokenVerifier {
  verify(token: string): Promise<TokenCheck>;
}

/** The keys and claims a verifier checks against. */
export interface TokenKeyOptions {
  /** HS256 shared secret, at least 32 bytes. */
  readonly secret?: string;
  /** The text of a PEM public key (SPKI) or of a JWKS document. */
  readonly publicKey?: string;
  /** Required `iss`, when set. */
  readonly issuer?: string;
  /** Required `aud`, when set. */
  readonly audience?: string;
}

/** A key that cannot be used; the message says why, without the key. */
export class TokenKeyError extends Error {
  override name = "TokenKeyError";
}

/** The shortest HS256 secret accepted, in bytes. */
export const MIN_SECRET_BYTES = 32;
