/**
 * Rows as `node:sqlite` returns them, read field by field: a column that
 * does not hold what it should is a {@linkcode StoreError}.
 *
 * @module
 */

import { parseRoomName, type RoomName } from "../../chat/room_name.ts";
import { StoreError } from "../../chat/store.ts";

/** A row as `node:sqlite` returns it: checked field by field. */
export type Row = Record<string, unknown>;

/** The integer in column `key`, or a {@linkcode StoreError}. */
export function intField(row: Row, key: string): number {
  const value = row[key];
  if (typeof value === "number" && Number.isSafeInteger(value)) return value;
  throw new StoreError(`Column ${key} holds ${typeof value}, not an integer`);
}

/** The text in column `key`, or a {@linkcode StoreError}. */
export function textField(row: Row, key: string): string {
  const value = row[key];
  if (typeof value === "string") return value;
  throw new StoreError(`Column ${key} holds ${typeof value}, not text`);
}

/** The valid room name in column `key`, or a {@linkcode StoreError}. */
export function roomField(row: Row, key: string): RoomName {
  const parsed = parseRoomName(textField(row, key));
  if (parsed.ok) return parsed.name;
  throw new StoreError(`Column ${key} holds an invalid room: ${parsed.error}`);
}
