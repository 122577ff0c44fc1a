/**
 * What the moderation tests on real sockets share: their server and a
 * clock the tests move, a guest's socket path, what a plain GET of a
 * socket URL answers, the wait for a `moderated` frame, and a test body run
 * on SQLite and on Redis.
 *
 * @module
 */

import assert from "node:assert/strict";
import { ignoreWithoutRedis, startRedis } from "./redis.ts";
import { startServer, type TestServer } from "./server.ts";
import type { Frame, TestClient } from "./test_client.ts";
import { OPTIONAL_SIGN_IN } from "./tokens.ts";

/** The server's clock, moved on by the tests that need minutes to pass. */
export class Clock {
  offsetMs = 0;
  readonly now = (): Date => new Date(Date.now() + this.offsetMs);
}

/** Settings of a moderation test's server. */
const MODERATION_SETTINGS: Readonly<Record<string, string>> = {
  ...OPTIONAL_SIGN_IN,
  CHAT_RATE_LIMIT: "0",
  CHAT_EDIT_WINDOW_S: "3600",
  // Plain GETs with X-Forwarded-For stand for another address.
  CHAT_TRUSTED_PROXIES: "127.0.0.1",
};

/**
 * A moderation test's server: signed sign-in optional, no message rate,
 * an hour to edit, 127.0.0.1 a trusted proxy; `env` on top (its store),
 * on `clock` when given.
 */
export function startModerationServer(
  env: Record<string, string>,
  clock?: Clock,
): Promise<TestServer> {
  return startServer(
    { ...MODERATION_SETTINGS, ...env },
    clock ? { now: clock.now } : {},
  );
}

/** The socket path of guest `name` in `room`, with a browser `key` if any. */
export function guestPath(room: string, name: string, key?: string): string {
  const query = new URLSearchParams({ name, ...(key ? { key } : {}) });
  return `/ws/chat/${room}/?${query}`;
}

/** What a plain GET of the socket URL answers (the client's way to ask). */
export async function askWhy(
  server: TestServer,
  path: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(`${server.origin}${path}`, { headers });
  const body: unknown = await response.json();
  assert.ok(typeof body === "object" && body !== null);
  return { status: response.status, body: { ...body } };
}

/** Waits for the `moderated` frame of `action` on the moderator's socket. */
export function moderated(
  client: TestClient,
  action: string,
): Promise<Frame[]> {
  return client.waitForMatching(
    (f) => f.type === "moderated" && f.action === action,
    1,
  );
}

/**
 * Declares `name`'s test twice: on SQLite (`name, SQLite`) and on a Redis
 * of its own (`name, Redis`); `body` gets the settings of each.
 */
export function onSqliteAndRedis(
  name: string,
  body: (t: Deno.TestContext, env: Record<string, string>) => Promise<void>,
): void {
  Deno.test(`${name}, SQLite`, (t) => body(t, {}));
  Deno.test({
    name: `${name}, Redis`,
    ignore: ignoreWithoutRedis,
    async fn(t) {
      await using redis = await startRedis();
      await body(t, { REDIS_URL: redis.url });
    },
  });
}
