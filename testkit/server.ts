/**
 * Test helpers: a real server on 127.0.0.1 with a random port, and a
 * WebSocket client that queues frames so tests can await them in order.
 *
 * @module
 */

import {
  type ChatServer,
  type ChatServerOptions,
  createChatServer,
} from "../server/app.ts";
import { CHAT_PROTOCOL } from "../chat/frames.ts";
import { DeadlineError, within } from "../platform/deadline.ts";
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
  } = {},
): Promise<TestServer> {
  const chat = await createChatServer({
    config: testConfig(env),
    log: options.log ?? silentLogger,
    ...(options.guestNames ? { guestNames: options.guestNames } : {}),
  });
  const controller = new AbortController();
  const listening = Promise.withResolvers<number>();
  const server = Deno.serve({
    port: options.port ?? 0,
    hostname: "127.0.0.1",
    signal: controller.signal,
    onListen: ({ port }) => listening.resolve(port),
  }, chat.fetch);
  const bound = await listening.promise;
  const origin = `http://127.0.0.1:${bound}`;
  return {
    chat,
    origin,
    wsUrl: (path) => `ws://127.0.0.1:${bound}${path}`,
    async [Symbol.asyncDispose]() {
      controller.abort();
      await server.finished;
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

/** A parsed server frame. */
export type Frame = Record<string, unknown> & { type: string };

function isFrame(value: unknown): value is Frame {
  return typeof value === "object" && value !== null && "type" in value &&
    typeof value.type === "string";
}

/** A `presence_change` frame as its `join` and `leave` frames. */
function expandPresenceChange(frame: unknown): unknown[] {
  if (
    !isFrame(frame) || frame.type !== "presence_change" ||
    !Array.isArray(frame.joined) || !Array.isArray(frame.left)
  ) return [frame];
  return [
    ...frame.joined.map((user: unknown) => ({ type: "join", user })),
    ...frame.left.map((user: unknown) => ({ type: "leave", user })),
  ];
}

/** A WebSocket client that records every frame it receives. */
export class TestClient implements AsyncDisposable {
  readonly socket: WebSocket;
  /**
   * Every frame received, except that a `presence_change` frame (several
   * joins and leaves of one window) stands here as the `join` and `leave`
   * frames it gathers, so that tests can follow people one by one.
   */
  readonly frames: unknown[] = [];
  /** Every frame exactly as received. */
  readonly rawFrames: unknown[] = [];
  readonly closed: Promise<CloseEvent>;
  /** How the socket closed, once it has: said when a wait gives up. */
  #closedAs: string | undefined;
  #waiters: (() => void)[] = [];

  private constructor(socket: WebSocket) {
    this.socket = socket;
    const closed = Promise.withResolvers<CloseEvent>();
    this.closed = closed.promise;
    socket.onmessage = (event: MessageEvent<unknown>) => {
      const frame: unknown = typeof event.data === "string"
        ? JSON.parse(event.data)
        : event.data;
      this.rawFrames.push(frame);
      this.frames.push(...expandPresenceChange(frame));
      for (const wake of this.#waiters.splice(0)) wake();
    };
    socket.onclose = (event) => {
      this.#closedAs = `closed with ${event.code}${
        event.reason ? ` (${event.reason})` : ""
      }`;
      closed.resolve(event);
      for (const wake of this.#waiters.splice(0)) wake();
    };
  }

  /**
   * Opens a socket and waits until it is open. It offers the typed
   * protocol unless `protocols` says otherwise (`[]`: a tutorial client).
   */
  static async connect(
    url: string,
    protocols: string[] = [CHAT_PROTOCOL],
  ): Promise<TestClient> {
    const socket = new WebSocket(url, protocols);
    const client = new TestClient(socket);
    const opened = Promise.withResolvers<void>();
    socket.onopen = () => opened.resolve();
    socket.onerror = (event) =>
      opened.reject(
        new Error(
          `Cannot connect to ${url}: ${
            event instanceof ErrorEvent ? event.message : "error"
          }`,
        ),
      );
    await opened.promise;
    return client;
  }

  /**
   * Opens a socket and waits for its presence frame, after which the
   * server delivers live messages to it.
   */
  static async join(url: string): Promise<TestClient> {
    const client = await TestClient.connect(url);
    await client.waitForType("presence", 1);
    return client;
  }

  /** Frames of one `type`, in arrival order. */
  ofType(type: string): Frame[] {
    return this.frames.filter(isFrame).filter((frame) => frame.type === type);
  }

  /** Waits until `count` frames of `type` have arrived; returns them. */
  waitForType(type: string, count: number, timeoutMs = 5000): Promise<Frame[]> {
    return this.waitForMatching(
      (frame) => frame.type === type,
      count,
      timeoutMs,
      `${type} frames`,
    );
  }

  /** Waits until `count` frames satisfy `accept`; returns those frames. */
  async waitForMatching(
    accept: (frame: Frame) => boolean,
    count: number,
    timeoutMs = 5000,
    what = "matching frames",
  ): Promise<Frame[]> {
    const deadline = Date.now() + timeoutMs;
    const matching = () => this.frames.filter(isFrame).filter(accept);
    while (matching().length < count) {
      const left = deadline - Date.now();
      if (left <= 0 || this.socket.readyState === WebSocket.CLOSED) {
        throw new Error(
          `Expected ${count} ${what}, got ${matching().length}${
            this.#closedAs ? `; the socket ${this.#closedAs}` : ""
          }: ${JSON.stringify(this.frames).slice(0, 500)}`,
        );
      }
      await this.#wake(left);
    }
    return matching();
  }

  /** Texts of the live message frames received so far. */
  messageTexts(): string[] {
    return this.ofType("message").map((frame) => String(frame.message));
  }

  async #wake(timeoutMs: number): Promise<void> {
    const woken = Promise.withResolvers<void>();
    this.#waiters.push(woken.resolve);
    const timer = setTimeout(woken.resolve, timeoutMs);
    await woken.promise;
    clearTimeout(timer);
  }

  /** Sends a value as JSON, or a string as it is. */
  send(value: unknown): void {
    this.socket.send(typeof value === "string" ? value : JSON.stringify(value));
  }

  /** Waits until at least `count` frames have arrived; returns them all. */
  async waitForFrames(count: number, timeoutMs = 5000): Promise<unknown[]> {
    const deadline = Date.now() + timeoutMs;
    while (this.frames.length < count) {
      const left = deadline - Date.now();
      if (left <= 0 || this.socket.readyState === WebSocket.CLOSED) {
        throw new Error(
          `Expected ${count} frames, got ${this.frames.length}: ${
            JSON.stringify(this.frames).slice(0, 500)
          }`,
        );
      }
      await this.#wake(left);
    }
    return this.frames;
  }

  /** Waits for the next frame after the `index`-th one. */
  async frame(index: number, timeoutMs = 5000): Promise<unknown> {
    const frames = await this.waitForFrames(index + 1, timeoutMs);
    return frames[index];
  }

  /** Closes the socket and waits for the close to complete. */
  async close(): Promise<void> {
    if (this.socket.readyState !== WebSocket.CLOSED) this.socket.close();
    await this.closed;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}

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
