/**
 * Connections to Redis with npm:@redis/client, as every Redis adapter opens
 * them: the URL shown without its credentials, a bounded wait at start with
 * one clear error, fail-fast commands while disconnected (so a sender hears
 * `unavailable` at once instead of waiting), reconnection with capped,
 * jittered backoff, and Redis errors turned into {@linkcode StoreError}s.
 *
 * (npm:ioredis was the first choice; its `debug` dependency reads the whole
 * environment when loaded, which the binary's `--allow-env` list forbids.)
 *
 * @module
 */

import { createHash } from "node:crypto";
import { createClient } from "@redis/client";
import { redactRedisUrl } from "./url.ts";
import { StoreError, type StoreErrorKind } from "../../chat/store.ts";
import type { Logger } from "../../chat/logger.ts";
import { within } from "../../platform/deadline.ts";

/** How long a command may take before it counts as failed. */
const COMMAND_TIMEOUT_MS = 2000;
/** How long the first connection may take at start. */
const CONNECT_TIMEOUT_MS = 5000;
/** Connection attempts at start before giving up. */
const START_ATTEMPTS = 3;
/** The longest wait between two reconnection attempts. */
const RECONNECT_MAX_MS = 2000;

/** A client as `createClient` makes it. */
export type RedisClient = ReturnType<typeof createClient>;

/** Why a Redis command failed, as a kind of store failure. */
function kindOf(message: string): StoreErrorKind {
  if (message.startsWith("OOM")) return "full";
  if (message.startsWith("READONLY")) return "read_only";
  if (message.startsWith("CHAT_LIMIT")) return "limit";
  if (/^(LOADING|BUSY|TRYAGAIN|MASTERDOWN)/.test(message)) return "busy";
  if (/^(NOAUTH|WRONGPASS|NOPERM|ERR|WRONGTYPE|NOSCRIPT)/.test(message)) {
    return "other";
  }
  return "unreachable";
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** One Redis connection of an adapter. */
export class RedisConnection {
  /** The client, for what {@linkcode RedisConnection.run} cannot do. */
  readonly client: RedisClient;
  /** The URL without credentials. */
  readonly shownUrl: string;
  readonly #log: Logger;
  readonly #role: string;
  #lastError: string | undefined;
  #down = false;
  #opened = false;

  private constructor(url: URL, role: string, log: Logger) {
    this.shownUrl = redactRedisUrl(url);
    this.#log = log;
    this.#role = role;
    this.client = createClient({
      url: url.href,
      name: `deno-chat-${role}`,
      // A command while disconnected fails now instead of waiting for
      // Redis: the sender hears `unavailable` and resends with its cid.
      disableOfflineQueue: true,
      commandOptions: { timeout: COMMAND_TIMEOUT_MS },
      socket: {
        connectTimeout: COMMAND_TIMEOUT_MS,
        // At start a few quick tries, then one clear error; once running,
        // forever, with full jitter capped, so that processes that lost
        // Redis together do not come back in lockstep.
        reconnectStrategy: (attempt: number, cause: Error) =>
          !this.#opened && attempt >= START_ATTEMPTS ? cause : Math.round(
            Math.random() * Math.min(RECONNECT_MAX_MS, 50 * 2 ** attempt),
          ) + 50,
      },
    });
    this.client.on("error", (error: unknown) => {
      this.#lastError = messageOf(error);
      // At start the failure is reported once, by open().
      if (this.#down || !this.#opened) return;
      this.#down = true;
      this.#log.warn("redis.down", {
        role: this.#role,
        redis: this.shownUrl,
        error: this.#lastError,
      });
    });
    this.client.on("ready", () => {
      if (!this.#down) return;
      this.#down = false;
      this.#log.info("redis.up", { role: this.#role, redis: this.shownUrl });
    });
  }

  /**
   * Connects to `url`; rejects with a {@linkcode StoreError} of kind
   * `unreachable` naming the redacted URL when Redis does not answer within
   * a few seconds.
   */
  static async open(
    url: URL,
    role: string,
    log: Logger,
  ): Promise<RedisConnection> {
    const connection = new RedisConnection(url, role, log);
    try {
      await within(connection.client.connect(), CONNECT_TIMEOUT_MS, "Redis");
    } catch (error) {
      if (connection.client.isOpen) connection.client.destroy();
      throw new StoreError(
        `Redis at ${connection.shownUrl} is unreachable (${
          connection.#lastError ?? messageOf(error)
        })`,
        { kind: "unreachable", cause: error },
      );
    }
    connection.#down = false;
    connection.#opened = true;
    return connection;
  }

  /** Whether commands can be sent now. */
  get ready(): boolean {
    return this.client.isReady;
  }

  /** Sends one command; a failure becomes a StoreError naming Redis. */
  async run(args: readonly (string | number)[]): Promise<unknown> {
    try {
      return await this.client.sendCommand(args.map(String));
    } catch (error) {
      throw this.explain(error);
    }
  }

  /** A Redis failure as a StoreError that names Redis and never a secret. */
  explain(error: unknown): StoreError {
    if (error instanceof StoreError) return error;
    const message = messageOf(error);
    const kind = kindOf(message);
    const text = kind === "unreachable"
      ? `Redis at ${this.shownUrl} is unreachable (${
        this.#down ? this.#lastError ?? message : message
      })`
      : kind === "limit"
      ? message.replace(/^CHAT_LIMIT\s*/, "")
      : `Redis at ${this.shownUrl} refused the command: ${message}`;
    return new StoreError(text, { kind, cause: error });
  }

  /** Closes the connection, politely when Redis is reachable. Idempotent. */
  async close(): Promise<void> {
    if (!this.client.isOpen) return;
    if (!this.client.isReady) {
      this.client.destroy();
      return;
    }
    try {
      await this.client.close();
    } catch (error) {
      // Redis went away during the goodbye: drop the socket instead.
      this.#log.debug("redis.close_failed", {
        role: this.#role,
        error: messageOf(error),
      });
      this.client.destroy();
    }
  }
}

/** A Lua script, run by its SHA and loaded on first use. */
export class RedisScript {
  readonly #source: string;
  readonly #sha: string;

  constructor(source: string) {
    this.#source = source;
    this.#sha = createHash("sha1").update(source).digest("hex");
  }

  /** Runs the script with `keys` and `args` on `connection`. */
  async run(
    connection: RedisConnection,
    keys: readonly string[],
    args: readonly (string | number)[],
  ): Promise<unknown> {
    const rest = [keys.length, ...keys, ...args];
    try {
      return await connection.run(["EVALSHA", this.#sha, ...rest]);
    } catch (error) {
      if (!(error instanceof StoreError) || !/NOSCRIPT/.test(error.message)) {
        throw error;
      }
      return await connection.run(["EVAL", this.#source, ...rest]);
    }
  }
}
