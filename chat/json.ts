/**
 * Untrusted JSON text to `unknown`, and the check that a value is a plain
 * object, shared by the parsers of client frames and bus events.
 *
 * @module
 */

/** Whether `value` is a JSON object (not null, not an array). */
export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Parses `text` as JSON, or says why it is not; other errors are thrown. */
export function parseJson(text: string): { ok: true; value: unknown } | {
  ok: false;
  reason: string;
} {
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch (error) {
    if (error instanceof SyntaxError) {
      return { ok: false, reason: error.message };
    }
    throw error;
  }
}
