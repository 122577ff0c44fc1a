/**
 * The key two display names are compared by, for clashes in a room and for
 * reserved words: names that look alike have the same key. It is the
 * Unicode TR39 confusable skeleton (the `confusables.txt` mapping, through
 * npm:unhomoglyph) of the case-folded, NFKC-normalised name, so that
 * `ALICE`, `Alice`, `Αlice` (Greek Alpha) and `alice` are one name, and so
 * are `admın` (dotless ı) and `admin`, or `ѕуѕтем` (Cyrillic) and `system`.
 *
 * Two rules on top of the skeleton make it case-blind as well:
 *
 * - A letter whose lower case has no Latin look-alike in TR39 (Cyrillic
 *   `т` maps to small-capital `ᴛ`) is compared through its capital (`Т`
 *   is `T`), so that `ѕуѕтем` and `ЅУЅТЕМ` both come out as `system`.
 * - `i` and `l` are one letter: TR39 maps capital `I` to `l`, and case
 *   folding maps it to `i`, so a key both case- and look-alike-blind
 *   cannot keep them apart (`Ian` and `lan` clash).
 *
 * Punctuation, symbols and spaces do not count (`moderator.` and
 * `mod erator` are `moderator`), unless a name has nothing else.
 *
 * @module
 */

import unhomoglyph from "unhomoglyph";

/** What TR39 calls the skeleton: NFD, the confusables mapping, NFD. */
export function skeleton(text: string): string {
  return unhomoglyph(text.normalize("NFD")).normalize("NFD");
}

const ASCII = /^\p{ASCII}*$/u;
// Marks stay: `José` and `Jose` can be told apart.
const NOT_COUNTED = /[\p{P}\p{S}\p{Z}\p{Cc}\p{Cf}]/gu;

/** One character, case-folded and mapped to what it looks like. */
function foldCharacter(char: string): string {
  const lower = skeleton(char.toLowerCase()).toLowerCase();
  if (ASCII.test(lower)) return lower;
  const upper = skeleton(char.toUpperCase()).toLowerCase();
  return ASCII.test(upper) ? upper : lower;
}

/** The comparison key of a display name; see the module doc. */
export function nameKey(name: string): string {
  let folded = "";
  for (const char of name.normalize("NFKC")) folded += foldCharacter(char);
  // Again over the whole: TR39 maps some sequences, and what a character
  // became may map on (`m` is `rn`, `0` is `O`).
  const key = skeleton(folded).toLowerCase().replaceAll("i", "l");
  const counted = key.replace(NOT_COUNTED, "");
  return counted === "" ? key : counted;
}
