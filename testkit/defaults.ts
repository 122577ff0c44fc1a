/**
 * The declared defaults, shaped for the core's constructors, so that tests
 * build stores, hubs and parsers with the values the server uses and no
 * test repeats a default.
 *
 * @module
 */

import type { FrameLimits } from "../chat/client_frames.ts";
import type { SqliteStoreOptions } from "../adapters/sqlite/store.ts";
import type { RoomBounds } from "../chat/store.ts";
import { defaultConfig } from "../server/settings.ts";

/** Every setting at its default. */
export const DEFAULTS = defaultConfig();

/** The default frame limits. */
export const FRAME_LIMITS: FrameLimits = {
  maxMessageChars: DEFAULTS.maxMessageChars,
};

/** SQLite store options: the defaults, `path`, and any overrides. */
export function sqliteOptions(
  path: string,
  overrides: Partial<SqliteStoreOptions> = {},
): SqliteStoreOptions {
  return {
    path,
    historyMax: DEFAULTS.historyMax,
    dedupeWindow: DEFAULTS.recoveryLimit,
    maxRooms: DEFAULTS.maxRooms,
    maxBytes: DEFAULTS.maxDbBytes,
    presenceTtlMs: DEFAULTS.presenceTtlMs,
    ...overrides,
  };
}

/** The hub's limits and periods at their defaults. */
export const HUB_DEFAULTS = {
  historyLimit: DEFAULTS.historyLimit,
  recoveryLimit: DEFAULTS.recoveryLimit,
  repairIntervalMs: DEFAULTS.repairIntervalMs,
  presenceHeartbeatMs: DEFAULTS.presenceHeartbeatMs,
  presenceListMax: DEFAULTS.presenceListMax,
} as const;

/** The ids of `bounds`, without the epoch, which is random. */
export function idBounds({ first, last }: RoomBounds): {
  first: number;
  last: number;
} {
  return { first, last };
}
