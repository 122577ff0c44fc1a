/**
 * Room names: the one validation shared by the page route, the WebSocket
 * route and the HTTP API, so a name that opens a page always opens its socket.
 *
 * @module
 */

/** The longest room name, counted in Unicode code points after NFC. */
export const MAX_ROOM_NAME_CHARS = 100;

/**
 * The characters a room name may hold, as a `u`-flag pattern source, so the
 * browser checks names with the very same rule. Letters, combining marks
 * (needed by scripts such as Devanagari), digits and `_`, `-`, `.`.
 */
export const ROOM_NAME_PATTERN_SOURCE = "^[\\p{L}\\p{M}\\p{N}_.\\-]+$";

/** A room name that passed {@linkcode parseRoomName}. */
export type RoomName = string & { readonly __brand: "RoomName" };

/** What is wrong with a room name, for pages that say it in their language. */
export type RoomNameProblem = "empty" | "too_long" | "invalid" | "dots";

/** Result of {@linkcode parseRoomName}. */
export type RoomNameResult =
  | { readonly ok: true; readonly name: RoomName }
  | {
    readonly ok: false;
    readonly error: string;
    readonly problem: RoomNameProblem;
  };

const ROOM_NAME_PATTERN = new RegExp(ROOM_NAME_PATTERN_SOURCE, "u");
const ONLY_DOTS = /^\.+$/;

/** Says what is wrong with an NFC-normalised name, or `undefined`. */
function roomNameProblem(
  name: string,
): { problem: RoomNameProblem; error: string } | undefined {
  const length = [...name].length;
  if (length === 0) return { problem: "empty", error: "Room name is empty" };
  if (length > MAX_ROOM_NAME_CHARS) {
    return {
      problem: "too_long",
      error:
        `Room name is longer than ${MAX_ROOM_NAME_CHARS} characters (${length})`,
    };
  }
  if (!ROOM_NAME_PATTERN.test(name)) {
    return {
      problem: "invalid",
      error: "Room name may only contain letters, digits, '_', '-' and '.'",
    };
  }
  // "." and ".." are path segments a browser would resolve away.
  if (ONLY_DOTS.test(name)) {
    return { problem: "dots", error: "Room name cannot be only dots" };
  }
  return undefined;
}

function isRoomName(name: string): name is RoomName {
  return roomNameProblem(name) === undefined;
}

/**
 * Checks a raw room name (already percent-decoded) and returns it NFC
 * normalised, or a message saying what is wrong with it.
 *
 * Valid: 1 to 100 code points of letters, marks and digits plus `_`, `-`
 * and `.`, not made of dots alone.
 */
export function parseRoomName(raw: string): RoomNameResult {
  const name = raw.normalize("NFC");
  if (isRoomName(name)) return { ok: true, name };
  const found = roomNameProblem(name) ??
    { problem: "invalid", error: "Room name is invalid" };
  return { ok: false, ...found };
}
