/**
 * What the webhook tests share: a signing secret, the environment of a
 * server that sends webhooks fast enough for a test (small timeouts and
 * retry waits), posting messages through the server API, the signature
 * check of the attempts at some events, and a case run on SQLite and on
 * Redis.
 *
 * @module
 */

import assert from "node:assert/strict";
import { Webhook } from "standardwebhooks";
import type { Attempt, ReceivedEvent } from "./webhook_receiver.ts";
import { ignoreWithoutRedis, startRedis } from "./redis.ts";

/** The secret tests sign and verify with. */
export const SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

/** The server API key of the test servers. */
export const API_KEY = "webhook-test-api-key-0123456789";

/** The settings of a server that signs its webhooks with {@linkcode SECRET} and sends them to `url`. */
export function webhookSettings(url: string): Record<string, string> {
  return { CHAT_WEBHOOK_URL: url, CHAT_WEBHOOK_SECRET: SECRET };
}

/**
 * The environment of a server storing in `db` (a SQLite file, or ignored
 * with `REDIS_URL` in `extra`) and sending webhooks to `url`: an attempt
 * gives up after 300 ms, retries wait 10 to 200 ms.
 */
export function webhookEnv(
  db: string,
  url: string,
  extra: Record<string, string> = {},
): Record<string, string> {
  return {
    CHAT_DB: db,
    CHAT_API_KEY: API_KEY,
    ...webhookSettings(url),
    CHAT_WEBHOOK_TIMEOUT_MS: "300",
    CHAT_WEBHOOK_RETRY_BASE_MS: "10",
    CHAT_WEBHOOK_RETRY_MAX_MS: "200",
    ...extra,
  };
}

/** Posts `texts` to `room` through the server API, one after another. */
export async function postMessages(
  origin: string,
  room: string,
  texts: readonly string[],
  user = "site",
): Promise<void> {
  for (const message of texts) {
    const response = await fetch(
      `${origin}/api/rooms/${encodeURIComponent(room)}/messages`,
      {
        method: "POST",
        headers: {
          authorization: `Bearer ${API_KEY}`,
          "content-type": "application/json",
        },
        body: JSON.stringify({ user, message }),
      },
    );
    await response.body?.cancel();
    if (response.status !== 201) {
      throw new Error(`Posting to ${room} answered ${response.status}`);
    }
  }
}

/** The message ids of `message.created` events, in their order. */
export function messageIds(events: readonly ReceivedEvent[]): number[] {
  return events.map((event) => Number(event.data.id));
}

/**
 * Fails unless every event of `events` was attempted and each attempt at
 * one of them verifies, by the receiver and by standardwebhooks itself.
 */
export function assertAttemptsVerify(
  attempts: readonly Attempt[],
  events: readonly ReceivedEvent[],
): void {
  const webhook = new Webhook(SECRET);
  const ours = attempts.filter((a) => events.some((e) => e.id === a.id));
  assert.ok(ours.length >= events.length);
  for (const attempt of ours) {
    assert.ok(attempt.verified);
    assert.doesNotThrow(() => webhook.verify(attempt.body, attempt.headers));
  }
}

/**
 * Registers `run` as a test named `name (SQLite)` and one named
 * `name (Redis)`, the latter given the `REDIS_URL` of its own Redis.
 */
export function onSqliteAndRedis(
  name: string,
  run: (t: Deno.TestContext, env: Record<string, string>) => Promise<void>,
): void {
  Deno.test(`${name} (SQLite)`, (t) => run(t, {}));
  Deno.test({
    name: `${name} (Redis)`,
    ignore: ignoreWithoutRedis,
    async fn(t) {
      await using redis = await startRedis();
      await run(t, { REDIS_URL: redis.url });
    },
  });
}
