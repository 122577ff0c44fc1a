/**
 * What a moderation request says, parsed at the edge: whom a mute or a ban
 * is for (exactly one of `user`, `sub` and `address`), for how long, and
 * why. Anything else is answered 400 with what was wrong.
 *
 * @module
 */

import { HTTPException } from "hono/http-exception";
import { canonical, parseIp } from "../chat/address_range.ts";
import type { ImposeTarget } from "../chat/moderation.ts";
import {
  MAX_REASON_CHARS,
  MAX_SANCTION_SECONDS,
} from "../chat/moderation_frames.ts";
import type { RoomName } from "../chat/room_name.ts";
import { parseUserName } from "../chat/user_name.ts";

/** A mute or ban request's body, parsed. */
export interface SanctionInput {
  readonly target: ImposeTarget;
  /** `null`: for good. */
  readonly durationMs: number | null;
  readonly reason: string;
}

const FIELDS = new Set(["user", "sub", "address", "duration", "reason"]);

function badRequest(message: string): HTTPException {
  return new HTTPException(400, { message });
}

function targetOf(
  body: Record<string, unknown>,
  room: RoomName | null,
): ImposeTarget {
  const named = (["user", "sub", "address"] as const).filter((field) =>
    body[field] !== undefined
  );
  if (named.length !== 1) {
    throw badRequest(
      'Body needs exactly one of "user" (a name online in the room), "sub" (a signed user) and "address" (a guest\'s address)' +
        (named.length > 1 ? `, not ${named.join(" and ")}` : ""),
    );
  }
  const { user, sub, address } = body;
  if (user !== undefined) {
    if (typeof user !== "string") throw badRequest('"user" must be a string');
    if (room === null) {
      throw badRequest(
        'A ban of every room needs "sub" or "address": "user" names someone online in one room',
      );
    }
    const parsed = parseUserName(user, []);
    if (!parsed.ok) throw badRequest(`user: ${parsed.error}`);
    return { user: parsed.name };
  }
  if (sub !== undefined) {
    if (typeof sub !== "string" || sub === "") {
      throw badRequest('"sub" must be a non-empty string');
    }
    return { sub };
  }
  const ip = typeof address === "string" ? parseIp(address) : undefined;
  if (ip === undefined) {
    throw badRequest(
      `"address" must be an IPv4 or IPv6 address, got ${
        JSON.stringify(address).slice(0, 60)
      }`,
    );
  }
  return { address: canonical(ip) };
}

function durationOf(value: unknown): number | null {
  if (value === null) return null;
  if (
    typeof value !== "number" || !Number.isInteger(value) || value < 1 ||
    value > MAX_SANCTION_SECONDS
  ) {
    throw badRequest(
      `"duration" must be a whole number of seconds from 1 to ${MAX_SANCTION_SECONDS}, or null for good` +
        (value === undefined ? "" : `, got ${JSON.stringify(value)}`),
    );
  }
  return value * 1000;
}

function reasonOf(value: unknown): string {
  if (value === undefined) return "";
  if (typeof value !== "string" || !value.isWellFormed()) {
    throw badRequest('"reason" must be a string of valid Unicode');
  }
  const length = [...value].length;
  if (length > MAX_REASON_CHARS) {
    throw badRequest(
      `"reason" is ${length} characters long; the most is ${MAX_REASON_CHARS}`,
    );
  }
  return value;
}

/**
 * Parses the body of a mute or a ban in `room` (`null`: every room):
 * exactly one target, a `duration` (required, so that a ban for good is
 * never an omission) and an optional `reason`; other fields are refused.
 */
export function parseSanctionInput(
  body: Record<string, unknown>,
  room: RoomName | null,
): SanctionInput {
  const unknown = Object.keys(body).filter((key) => !FIELDS.has(key));
  if (unknown.length > 0) {
    throw badRequest(
      `Unknown field ${
        JSON.stringify(unknown[0]).slice(0, 60)
      }: a mute or a ban takes user, sub or address, duration and reason`,
    );
  }
  return {
    target: targetOf(body, room),
    durationMs: durationOf(body.duration),
    reason: reasonOf(body.reason),
  };
}
