/**
 * What a reaction may be: one emoji grapheme (👍, ❤️, 👩‍💻, 🇰🇷, 1️⃣), and
 * how many different ones a message may carry.
 *
 * @module
 */

/** Distinct emoji one message may carry. */
export const MAX_DISTINCT_REACTIONS = 20;

const segmenter = new Intl.Segmenter("en", { granularity: "grapheme" });
// A pictograph (👍, ❤️, 👩‍💻, 🏳️‍🌈), a keycap (1️⃣), or a flag (🇰🇷).
const EMOJI =
  /^(?:\p{RGI_Emoji}|\p{Extended_Pictographic}[\p{Emoji_Modifier}\uFE0F\u200D\p{Extended_Pictographic}]*)$/v;

/** Whether `text` is exactly one emoji grapheme. */
export function isOneEmoji(text: string): boolean {
  if (text.length === 0 || text.length > 64) return false;
  const graphemes = [...segmenter.segment(text)];
  return graphemes.length === 1 && EMOJI.test(text);
}
