/**
 * Tokens as a site would mint them for its users, signed with the secret
 * the test servers are given (`CHAT_AUTH_SECRET`), and the socket path of
 * a room that carries one.
 *
 * @module
 */

import { type JWTPayload, SignJWT } from "jose";

/** The HS256 secret the site and the test server share. */
export const TEST_AUTH_SECRET = "site-and-chat-share-this-32-byte-secret";

/** Settings for a server where signing in is optional, with the test secret. */
export const OPTIONAL_SIGN_IN = {
  CHAT_AUTH: "optional",
  CHAT_AUTH_SECRET: TEST_AUTH_SECRET,
} as const;

/** A signed token, valid for an hour unless `claims` set `exp`. */
export function signedToken(claims: JWTPayload): Promise<string> {
  return new SignJWT({ exp: Math.floor(Date.now() / 1000) + 3600, ...claims })
    .setProtectedHeader({ alg: "HS256" })
    .sign(new TextEncoder().encode(TEST_AUTH_SECRET));
}

/** Seconds since the epoch, `offset` seconds from now, for `exp`. */
export function secondsFromNow(offset: number): number {
  return Math.floor(Date.now() / 1000) + offset;
}

/** The socket path of `room` with a token signed for `claims`. */
export async function signedPath(
  room: string,
  claims: JWTPayload,
): Promise<string> {
  return `/ws/chat/${room}/?token=${await signedToken(claims)}`;
}
