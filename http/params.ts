/**
 * Query and path parameters shared by the routes: parsed at the edge into
 * typed values, or an HTTP 400 that says which parameter was wrong and why.
 *
 * @module
 */

import { HTTPException } from "hono/http-exception";
import { parseRoomName, type RoomName } from "../chat/room_name.ts";

/** The whole numbers an {@linkcode integerParam} accepts. */
export interface IntegerRange {
  readonly min: number;
  /** @default Number.MAX_SAFE_INTEGER */
  readonly max?: number;
}

/**
 * Parses an optional whole-number parameter within `[min, max]`;
 * `undefined` when absent.
 */
export function integerParam(
  name: string,
  text: string | undefined,
  range: IntegerRange,
): number | undefined {
  const { min, max = Number.MAX_SAFE_INTEGER } = range;
  if (text === undefined) return undefined;
  if (!/^\d{1,16}$/.test(text) || Number(text) < min || Number(text) > max) {
    throw new HTTPException(400, {
      message: `${name} must be a whole number from ${min} to ${max}, got ${
        JSON.stringify(text.slice(0, 40))
      }`,
    });
  }
  return Number(text);
}

/** Parses a room name parameter, or answers 400 prefixed by `action`. */
export function roomParam(raw: string | undefined, action: string): RoomName {
  const parsed = parseRoomName(raw ?? "");
  if (!parsed.ok) {
    throw new HTTPException(400, { message: `${action}: ${parsed.error}` });
  }
  return parsed.name;
}
