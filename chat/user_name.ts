/**
 * Display names: what `?name=` may hold, and the guest names the server
 * hands out when a client gives none. A name must not impersonate another:
 * it is NFKC-normalised (full-width `ａｌｉｃｅ` is `alice`), may hold no
 * invisible, format or bidi-control character, must show something, may not
 * mix scripts whose letters look alike (Cyrillic `а` in a Latin name), may
 * hold no check mark or other imitation of the verified badge, and may not
 * look like a reserved word such as `system` (compared by
 * {@linkcode nameKey}, so `admın`, `moderator.` and Cyrillic `ѕуѕтем` are
 * reserved too).
 *
 * @module
 */

import { nameKey } from "./name_key.ts";

/** The longest display name, in Unicode code points after normalising. */
export const MAX_USER_NAME_CHARS = 32;

/**
 * Why a name was refused, for a client to say in its reader's language:
 * `empty`, `too_long`, `invisible` (control, format or bidi characters),
 * `nothing_visible` (only spaces or marks), `mixed_scripts` (lookalike
 * letters of several scripts), `badge` (imitates the verified mark),
 * `reserved` (looks like a reserved word).
 */
export type UserNameProblem =
  | "empty"
  | "too_long"
  | "invisible"
  | "nothing_visible"
  | "mixed_scripts"
  | "badge"
  | "reserved";

/** Result of {@linkcode parseUserName}. */
export type UserNameResult =
  | { readonly ok: true; readonly name: string }
  | {
    readonly ok: false;
    readonly problem: UserNameProblem;
    readonly error: string;
  };

// Control, format (zero-width, bidi overrides and isolates, BOM), line and
// paragraph separators: invisible or reordering, never part of a name.
const INVISIBLE = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/u;
// Nothing but spaces and combining marks shows nothing.
const NOTHING_VISIBLE = /^[\p{Z}\p{M}]*$/u;
// Scripts with letters that pass for each other's (а/a, ο/o, ս/u, Ꭺ/A).
const LOOKALIKE_SCRIPTS = [
  ["Latin", /\p{Script=Latin}/u],
  ["Cyrillic", /\p{Script=Cyrillic}/u],
  ["Greek", /\p{Script=Greek}/u],
  ["Armenian", /\p{Script=Armenian}/u],
  ["Cherokee", /\p{Script=Cherokee}/u],
] as const;

/**
 * Marks that pass for the verified badge the room page draws beside a
 * signed name: check marks (✓ ✔ ✅ 🗸 🮱 𐄂 ⍻), ballot boxes with a check
 * (☑ 🗹), and the square roots that look like one (√ ∛ ∜). With a
 * variation selector (`✔️`) they are still refused.
 */
export const BADGE_LOOKALIKES =
  /[\u2713\u2714\u2705\u2611\u221A-\u221C\u237B\u{10102}\u{1F5F8}\u{1F5F9}\u{1FBB1}]/u;

/** The lookalike scripts whose letters `name` uses. */
function lookalikeScripts(name: string): string[] {
  const found = new Set<string>();
  for (const char of name) {
    for (const [script, pattern] of LOOKALIKE_SCRIPTS) {
      if (pattern.test(char)) found.add(script);
    }
  }
  return [...found];
}

/**
 * Checks a display name and returns it in its one canonical form: NFKC,
 * trimmed, runs of spaces folded to one, 1 to 32 characters, nothing
 * invisible, letters from one family of lookalike scripts, no imitation of
 * the verified badge, not like a reserved word (compared by
 * {@linkcode nameKey}).
 */
export function parseUserName(
  raw: string,
  reserved: readonly string[],
): UserNameResult {
  const name = raw.normalize("NFKC").replace(/\p{Zs}+/gu, " ").trim();
  const length = [...name].length;
  if (length === 0) {
    return { ok: false, problem: "empty", error: "Name is empty" };
  }
  if (length > MAX_USER_NAME_CHARS) {
    return {
      ok: false,
      problem: "too_long",
      error:
        `Name is longer than ${MAX_USER_NAME_CHARS} characters (${length})`,
    };
  }
  if (INVISIBLE.test(name)) {
    return {
      ok: false,
      problem: "invisible",
      error:
        "Name contains invisible, formatting or control characters (such as zero-width or right-to-left marks)",
    };
  }
  if (NOTHING_VISIBLE.test(name)) {
    return {
      ok: false,
      problem: "nothing_visible",
      error: "Name has no visible characters",
    };
  }
  const scripts = lookalikeScripts(name);
  if (scripts.length > 1) {
    return {
      ok: false,
      problem: "mixed_scripts",
      error: `Name mixes ${
        scripts.join(" and ")
      } letters, which can imitate another name`,
    };
  }
  const badge = BADGE_LOOKALIKES.exec(name);
  if (badge) {
    return {
      ok: false,
      problem: "badge",
      error: `Name contains ${
        badge[0]
      }, which imitates the mark of a verified user`,
    };
  }
  const key = nameKey(name);
  const like = reserved.find((word) => nameKey(word) === key);
  if (like !== undefined) {
    return {
      ok: false,
      problem: "reserved",
      error: like === name
        ? `Name "${name}" is reserved`
        : `Name "${name}" looks like "${like}", which is reserved`,
    };
  }
  return { ok: true, name };
}

/** A fresh `guest-xxxx` name with four random hex digits. */
export function guestName(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(2));
  const hex = Array.from(bytes, (b) => b.toString(16).padStart(2, "0"));
  return `guest-${hex.join("")}`;
}

/**
 * Who holds a name: the same browser (the `key` a page keeps in
 * localStorage, hashed so the store never holds it) may open many sockets
 * under one name; anyone else is refused while the name is online. A
 * connection without a key is its own owner.
 */
export async function nameOwner(key: string | undefined): Promise<string> {
  if (key === undefined) return `anonymous:${crypto.randomUUID()}`;
  const digest = await crypto.subtle.digest(
    "SHA-256",
    new TextEncoder().encode(key),
  );
  const hex = Array.from(
    new Uint8Array(digest),
    (b) => b.toString(16).padStart(2, "0"),
  );
  return `key:${hex.join("").slice(0, 32)}`;
}

const SIGNED = "signed:";

/** The owner of a name held by a signed identity (see server/tokens.ts). */
export function signedOwner(sub: string): string {
  return `${SIGNED}${sub}`;
}

/** The token's `sub` of a signed identity's owner, else undefined. */
export function signedSub(owner: string): string | undefined {
  return owner.startsWith(SIGNED) ? owner.slice(SIGNED.length) : undefined;
}

/** Whether `owner` is a socket's that came with neither key nor token. */
export function isAnonymousOwner(owner: string): boolean {
  return owner.startsWith("anonymous:");
}

/** Whether `owner` is a signed identity's, so its name is vouched for. */
export function isSignedOwner(owner: string): boolean {
  return owner.startsWith(SIGNED);
}

/** What a browser key may look like: 16 to 128 URL-safe characters. */
export const BROWSER_KEY = /^[A-Za-z0-9_-]{16,128}$/;
