/**
 * Test helpers: a real server on 127.0.0.1 with a random port, its
 * stored messages and logs, and waits for state that announces no change.
 * The WebSocket client is test_client.ts.
 *
 * @module
 */

import {
  type ChatServer,
  type ChatServerOptions,
  createChatServer,
} from "../server/app.ts";
import { DeadlineError, within } from "../platform/deadline.ts";
import { serveLoopback } from "./loopback.ts";
import { type Config, loadConfig } from "../server/settings.ts";
import {
  createLogger,
  type Logger,
  silentLogger,
} from "../observability/log.ts";

/** The config of a test server: defaults (in-memory store) plus `env`. */
export function testConfig(env: Record<string, string> = {}): Config {
  const merged: Record<string, string> = { CHAT_DB: ":memory:", ...env };
  return loadConfig([], (name) => merged[name]);
}

/** A built server; dispose it to close it. */
export type DisposableChatServer = ChatServer & AsyncDisposable;

/**
 * Builds the real app without listening, for route tests that call
 * `app.request`. Build it inside the test and dispose it there: it owns a
 * store and timers, which Deno's sanitizers rightly count.
 */
export async function buildServer(
  env: Record<string, string> = {},
): Promise<DisposableChatServer> {
  const chat = await createChatServer({
    config: testConfig(env),
    log: silentLogger,
  });
  return { ...chat, [Symbol.asyncDispose]: () => chat.close() };
}

/** A running server; dispose it to close it. */
export interface TestServer extends AsyncDisposable {
  readonly chat: ChatServer;
  readonly origin: string;
  wsUrl(path: string): string;
}

/** Starts the real app on `Deno.serve`, by default on a free port. */
export async function startServer(
  env: Record<string, string> = {},
  options: {
    port?: number;
    log?: Logger;
    guestNames?: ChatServerOptions["guestNames"];
    /** The server's clock (message times, the edit window). */
    now?: () => Date;
  } = {},
): Promise<TestServer> {
  const chat = await createChatServer({
    config: testConfig(env),
    log: options.log ?? silentLogger,
    ...(options.guestNames ? { guestNames: options.guestNames } : {}),
    ...(options.now ? { now: options.now } : {}),
  });
  const server = await serveLoopback(chat.fetch, options.port);
  const bound = server.port;
  const origin = `http://127.0.0.1:${bound}`;
  return {
    chat,
    origin,
    wsUrl: (path) => `ws://127.0.0.1:${bound}${path}`,
    async [Symbol.asyncDispose]() {
      await server.stop();
      await chat.close();
    },
  };
}

/** A message as the store keeps it: its id and its exact text. */
export interface StoredMessage {
  readonly id: number;
  readonly message: string;
}

/** The newest 200 stored messages of `room`, through the HTTP API. */
export async function storedMessages(
  server: Pick<TestServer, "origin">,
  room: string,
): Promise<StoredMessage[]> {
  const response = await fetch(
    `${server.origin}/api/rooms/${encodeURIComponent(room)}/messages?limit=200`,
  );
  if (!response.ok) {
    throw new Error(`Reading ${room} answered ${response.status}`);
  }
  const body: { messages: StoredMessage[] } = await response.json();
  return body.messages.map(({ id, message }) => ({ id, message }));
}

/** The headers of a WebSocket upgrade, for raw `fetch` requests. */
export const UPGRADE_HEADERS = {
  Upgrade: "websocket",
  Connection: "Upgrade",
  "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==",
  "Sec-WebSocket-Version": "13",
} as const;

/** A logged event, parsed from its JSON line. */
export type LogEvent = Record<string, unknown>;

/** A logger that keeps its events, for assertions and for waiting on. */
export interface RecordingLogger extends Logger {
  /** Every event logged so far, in order. */
  readonly events: LogEvent[];
  /**
   * Waits until `count` logged events satisfy `accept`, those logged
   * before the call included; returns them.
   */
  waitFor(
    accept: (event: LogEvent) => boolean,
    count?: number,
    timeoutMs?: number,
    what?: string,
  ): Promise<LogEvent[]>;
}

/** A logger at level debug that keeps its JSON lines, parsed. */
export function recordingLogger(): RecordingLogger {
  const events: LogEvent[] = [];
  let logged = Promise.withResolvers<void>();
  const logger = createLogger({
    level: "debug",
    write: (line) => {
      events.push(JSON.parse(line));
      logged.resolve();
      logged = Promise.withResolvers<void>();
    },
  });
  const waitFor = async (
    accept: (event: LogEvent) => boolean,
    count = 1,
    timeoutMs = 10_000,
    what = "matching log events",
  ): Promise<LogEvent[]> => {
    const deadline = Date.now() + timeoutMs;
    while (events.filter(accept).length < count) {
      const left = deadline - Date.now();
      if (left <= 0) {
        throw new Error(
          `Expected ${count} ${what} within ${timeoutMs} ms, got ${
            events.filter(accept).length
          }`,
        );
      }
      try {
        await within(logged.promise, left, what);
      } catch (error) {
        if (!(error instanceof DeadlineError)) throw error;
      }
    }
    return events.filter(accept);
  };
  return Object.assign(logger, { events, waitFor });
}

export { DeadlineError, within } from "../platform/deadline.ts";

/**
 * Waits until `check` holds, asking again every few milliseconds, for
 * state that announces no change (an HTTP answer, a count); fails after
 * `timeoutMs` saying what never happened. Prefer waiting on a frame or a
 * log event where there is one.
 */
export async function waitUntil(
  check: () => boolean | Promise<boolean>,
  what: string,
  timeoutMs = 10_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) {
      throw new Error(`${what} did not happen within ${timeoutMs} ms`);
    }
    await delay(10);
  }
}

/** Resolves after `ms` milliseconds. */
export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** A room name no other test uses. */
export function uniqueRoom(prefix = "room"): string {
  return `${prefix}_${crypto.randomUUID().slice(0, 8)}`;
}
