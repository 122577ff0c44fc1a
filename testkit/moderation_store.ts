/**
 * Helpers for the tests of the moderation store: sanctions and audit
 * entries at an injected clock, the subjects they apply to, and the same
 * cases run on a SQLite and a Redis store.
 *
 * @module
 */

import { openSqliteStore } from "../adapters/sqlite/store.ts";
import { openRedisStore } from "../adapters/redis/store.ts";
import { RedisConnection } from "../adapters/redis/connection.ts";
import type { Store } from "../chat/store.ts";
import type {
  NewAuditEntry,
  Sanction,
  SanctionKind,
  SanctionSubject,
} from "../chat/moderation_store.ts";
import type { RoomName } from "../chat/room_name.ts";
import { silentLogger } from "../chat/logger.ts";
import { sqliteOptions } from "./defaults.ts";
import { withDir } from "./sqlite_store.ts";
import { options } from "./redis_store.ts";
import { ignoreWithoutRedis, startRedis } from "./redis.ts";

/** How a case reaches a store kind. */
export interface Backend {
  /** A store on the data of the case (again: the same data). */
  open(webhooks?: boolean): Promise<Store>;
  /** Forgets every datum, for the next case. */
  reset(): Promise<void>;
  /** Runs a command on the Redis behind the store, for Redis only. */
  readonly redis?: (command: (string | number)[]) => Promise<unknown>;
}

/** The receiver the Redis store writes webhook events for. */
export const RECEIVER = "http://127.0.0.1:9/hooks";

const T0 = Date.parse("2030-01-01T00:00:00.000Z");
/** The injected clock: `minutes` after a fixed time. */
export const at = (minutes: number): Date => new Date(T0 + minutes * 60_000);
/** {@linkcode at} as ISO-8601. */
export const iso = (minutes: number): string => at(minutes).toISOString();

let made = 0;
/** A new sanction (a new id) from `atMinutes` until `until` (minutes). */
export function sanction(
  kind: SanctionKind,
  target: { user: string; owner?: string; addresses?: string[] },
  where: RoomName | null,
  until: number | null,
  atMinutes = 0,
): Sanction {
  made += 1;
  return {
    id: `${kind}_${made}`,
    kind,
    room: where,
    target: { addresses: [], ...target },
    reason: `reason ${made}`,
    by: "mod",
    at: iso(atMinutes),
    until: until === null ? null : iso(until),
  };
}

/** The audit entry of imposing `s`. */
export function auditOf(s: Sanction, actor = "mod"): NewAuditEntry {
  return {
    at: s.at,
    actor,
    action: s.kind,
    room: s.room,
    user: s.target.user,
    sanctionId: s.id,
    reason: s.reason,
    until: s.until,
  };
}

/** The audit of a lift at `minutes`. */
export const lift = (action: "unmute" | "unban", minutes: number) => ({
  at: iso(minutes),
  actor: "mod",
  action,
});

/** A guest with a browser key. */
export const bobKey: SanctionSubject = {
  owner: "key:bob",
  address: "10.0.0.2",
  guest: true,
};
/** A signed user. */
export const carol: SanctionSubject = {
  owner: "signed:carol",
  address: "10.0.0.3",
  guest: false,
};

/** A sanction on {@linkcode carol}, found by her owner. */
export const onCarol = (
  kind: SanctionKind,
  where: RoomName | null,
  until: number | null,
): Sanction =>
  sanction(kind, { user: "carol", owner: carol.owner }, where, until);

/** A sanction on {@linkcode bobKey}, found by his key and his address. */
export const onBob = (
  kind: SanctionKind,
  where: RoomName | null,
  until: number | null,
): Sanction =>
  sanction(
    kind,
    { user: "bob", owner: bobKey.owner, addresses: [bobKey.address] },
    where,
    until,
  );

/** Imposes each of `sanctions` in turn, each with its audit by `actor`. */
export async function imposeAll(
  store: Store,
  sanctions: readonly Sanction[],
  actor = "mod",
): Promise<void> {
  for (const each of sanctions) {
    await store.moderation.impose(each, auditOf(each, actor));
  }
}

/**
 * Runs `step` on a fresh store of the backend (data forgotten before),
 * closing it after.
 */
export function freshStep(
  t: Deno.TestContext,
  backend: Backend,
): (name: string, work: (store: Store) => Promise<void>) => Promise<boolean> {
  return (name, work) =>
    t.step(name, async () => {
      await backend.reset();
      const store = await backend.open();
      try {
        await work(store);
      } finally {
        await store.close();
      }
    });
}

/** Registers `cases` as a test on SQLite and one on Redis, named `what`. */
export function onEachStore(
  what: string,
  cases: (t: Deno.TestContext, backend: Backend) => Promise<void>,
): void {
  Deno.test(`the SQLite moderation store ${what}`, async (t) => {
    await withDir(async (dir) => {
      let generation = 0;
      let path = `${dir}/chat-0.db`;
      await cases(t, {
        open: (webhooks = false) =>
          Promise.resolve(openSqliteStore(sqliteOptions(path, { webhooks }))),
        reset() {
          generation += 1;
          path = `${dir}/chat-${generation}.db`;
          return Promise.resolve();
        },
      });
    });
  });

  Deno.test({
    name: `the Redis moderation store ${what}`,
    ignore: ignoreWithoutRedis,
    async fn(t) {
      await using redis = await startRedis();
      const run = async (command: (string | number)[]) => {
        const connection = await RedisConnection.open(
          new URL(redis.url),
          "test",
          silentLogger,
        );
        try {
          return await connection.run(command);
        } finally {
          await connection.close();
        }
      };
      await cases(t, {
        open: (webhooks = false) =>
          openRedisStore(
            options(
              redis.url,
              webhooks ? { webhookReceivers: [RECEIVER] } : {},
            ),
          ),
        reset: async () => {
          await run(["FLUSHDB"]);
        },
        redis: run,
      });
    },
  });
}
