/**
 * Display names: what `?name=` may hold, and the guest names the server
 * hands out when a client gives none.
 *
 * @module
 */

/** The longest display name, in Unicode code points after trimming. */
export const MAX_USER_NAME_CHARS = 32;

/** Result of {@linkcode parseUserName}. */
export type UserNameResult =
  | { readonly ok: true; readonly name: string }
  | { readonly ok: false; readonly error: string };

// Control characters and line/paragraph separators would break a one-line
// display and logs.
const FORBIDDEN = /[\p{Cc}\p{Zl}\p{Zp}]/u;

/**
 * Checks a display name: trimmed and NFC normalised, 1 to 32 characters,
 * no control characters.
 */
export function parseUserName(raw: string): UserNameResult {
  const name = raw.normalize("NFC").trim();
  const length = [...name].length;
  if (length === 0) return { ok: false, error: "Name is empty" };
  if (length > MAX_USER_NAME_CHARS) {
    return {
      ok: false,
      error:
        `Name is longer than ${MAX_USER_NAME_CHARS} characters (${length})`,
    };
  }
  if (FORBIDDEN.test(name)) {
    return { ok: false, error: "Name contains control characters" };
  }
  return { ok: true, name };
}

/** A fresh `guest-xxxx` name with four random hex digits. */
export function guestName(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(2));
  const hex = Array.from(bytes, (b) => b.toString(16).padStart(2, "0"));
  return `guest-${hex.join("")}`;
}
