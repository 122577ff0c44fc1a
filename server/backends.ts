/**
 * The adapters the configuration names, opened: the store (SQLite, or Redis
 * when `REDIS_URL` is set), the fan-out bus (BroadcastChannel, none for a
 * server alone in its process, or Redis) and the token verifier. The one
 * place that chooses an adapter; `app.ts` builds the server around them.
 *
 * @module
 */

import { createBroadcastChannelBus } from "../adapters/broadcast_channel/bus.ts";
import { createLocalBus } from "../chat/local_bus.ts";
import type { Bus } from "../chat/bus.ts";
import { redactRedisUrl } from "../adapters/redis/url.ts";
import {
  openSqliteStore,
  type SqliteStoreOptions,
} from "../adapters/sqlite/store.ts";
import type { Store } from "../chat/store.ts";
import { receiverKey } from "../adapters/webhooks/config.ts";
import { TokenKeyError, type TokenVerifier } from "../chat/identity.ts";
import type { Config } from "./settings.ts";
import type { Logger } from "../observability/log.ts";

/** The SQLite store's options, as the configuration sets them. */
export function sqliteStoreOptions(config: Config): SqliteStoreOptions {
  return {
    path: config.db,
    historyMax: config.historyMax,
    dedupeWindow: config.recoveryLimit,
    maxRooms: config.maxRooms,
    maxBytes: config.maxDbBytes,
    presenceTtlMs: config.presenceTtlMs,
    webhooks: config.webhookUrls.length > 0,
  };
}

/** Where the configured store keeps the data, in words. */
export function describeData(config: Pick<Config, "db" | "redisUrl">): string {
  if (config.redisUrl) return `in Redis at ${redactRedisUrl(config.redisUrl)}`;
  return config.db === ":memory:"
    ? "in memory (lost when the server stops)"
    : `in ${config.db}`;
}

/**
 * Opens the store the configuration names: Redis when `redisUrl` is set,
 * else the SQLite file. Rejects with a StoreError saying why it cannot.
 */
export async function openStore(
  config: Config,
  log: Logger,
): Promise<Store> {
  if (config.redisUrl === undefined) {
    const store = openSqliteStore({ ...sqliteStoreOptions(config), log });
    // Every thread the server needs runs before it listens.
    await store.started;
    return store;
  }
  // Loaded only when used: a server without Redis never carries the client.
  const { openRedisStore } = await import("../adapters/redis/store.ts");
  return await openRedisStore({
    url: config.redisUrl,
    historyMax: config.historyMax,
    dedupeWindow: config.recoveryLimit,
    maxRooms: config.maxRooms,
    presenceTtlMs: config.presenceTtlMs,
    webhookReceivers: config.webhookUrls.map(receiverKey),
    log,
  });
}

/**
 * The token verifier for `config` (`CHAT_AUTH` on): the HS256 secret, or
 * the public key file read now. Throws {@linkcode TokenKeyError} saying why
 * a key cannot be used.
 */
export async function openTokenVerifier(
  config: Config,
): Promise<TokenVerifier> {
  let publicKey: string | undefined;
  if (config.authPublicKey !== undefined) {
    try {
      publicKey = await Deno.readTextFile(config.authPublicKey);
    } catch (error) {
      throw new TokenKeyError(
        `cannot read CHAT_AUTH_PUBLIC_KEY ${config.authPublicKey}: ${
          error instanceof Error ? error.message : String(error)
        }`,
      );
    }
  }
  // Loaded only with sign-in on: the JWT library is not free in memory.
  const { createTokenVerifier } = await import("./tokens.ts");
  return await createTokenVerifier({
    ...(config.authSecret === undefined ? {} : { secret: config.authSecret }),
    ...(publicKey === undefined ? {} : { publicKey }),
    ...(config.authIssuer === undefined ? {} : { issuer: config.authIssuer }),
    ...(config.authAudience === undefined
      ? {}
      : { audience: config.authAudience }),
  });
}

/**
 * Opens the bus the configuration names: Redis pub/sub, a BroadcastChannel
 * between the isolates of the process, or none for a server `alone` in it.
 */
export async function openBus(
  config: Config,
  log: Logger,
  alone = false,
): Promise<Bus> {
  if (config.redisUrl === undefined) {
    return alone ? createLocalBus() : createBroadcastChannelBus();
  }
  const { openRedisBus } = await import("../adapters/redis/bus.ts");
  return await openRedisBus({ url: config.redisUrl, log });
}
