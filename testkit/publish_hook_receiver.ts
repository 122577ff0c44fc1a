/**
 * A publish hook for tests: the site's backend on a loopback port that
 * records each question and answers as the test says, a chat server that
 * asks it, two members of a room, and the hook's metrics.
 *
 * @module
 */

import assert from "node:assert/strict";
import { parseStrict, valueOf } from "./exposition.ts";
import {
  recordingLogger,
  startServer,
  storedMessages,
  type TestServer,
} from "./server.ts";
import { type Frame, TestClient } from "./test_client.ts";

/** The signing secret of the servers {@linkcode serverWithHook} starts. */
export const SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

/** A question's body, as far as the tests read it. */
export interface Question {
  readonly type: unknown;
  readonly id: unknown;
  readonly room: unknown;
  readonly data: Record<string, unknown>;
}

/** One request the hook received. */
export interface HookCall {
  readonly body: string;
  readonly headers: Record<string, string>;
  readonly payload: Question;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** The body of a question, checked as far as the tests read it. */
function parseQuestion(body: string): Question {
  const value: unknown = JSON.parse(body);
  if (!isRecord(value) || !isRecord(value.data)) {
    throw new Error(`Not a publish hook question: ${body.slice(0, 200)}`);
  }
  const { type, id, room, data } = value;
  return { type, id, room, data };
}

/** What the hook answers a call with. */
export type Answer = (call: HookCall) => Response | Promise<Response>;

/**
 * The site's publish hook, on a loopback port: records each request and
 * answers as the test says. Answers held back by a test are released when
 * it is disposed, so that no request outlives it.
 */
export class HookReceiver implements AsyncDisposable {
  readonly calls: HookCall[] = [];
  answer: Answer = () => Response.json({ action: "allow" });
  readonly #released = Promise.withResolvers<void>();
  readonly #controller = new AbortController();
  readonly #server: Deno.HttpServer<Deno.NetAddr>;
  #waiters: (() => void)[] = [];

  constructor() {
    this.#server = Deno.serve({
      hostname: "127.0.0.1",
      port: 0,
      signal: this.#controller.signal,
      onListen: () => {},
    }, async (request) => {
      const body = await request.text();
      const call: HookCall = {
        body,
        headers: Object.fromEntries(request.headers),
        payload: parseQuestion(body),
      };
      this.calls.push(call);
      for (const wake of this.#waiters.splice(0)) wake();
      return await this.answer(call);
    });
  }

  get url(): string {
    return `http://127.0.0.1:${this.#server.addr.port}/hook`;
  }

  /** An answer that waits until the test ends: a hook that never answers. */
  readonly never: Answer = async () => {
    await this.#released.promise;
    return Response.json({ action: "allow" });
  };

  /** Waits until `count` requests have arrived. */
  async waitForCalls(count: number): Promise<void> {
    while (this.calls.length < count) {
      const woken = Promise.withResolvers<void>();
      this.#waiters.push(woken.resolve);
      await woken.promise;
    }
  }

  async [Symbol.asyncDispose](): Promise<void> {
    this.#released.resolve();
    this.#controller.abort();
    await this.#server.finished;
  }
}

/** A chat server whose publish hook is `hook`, with extra `env`. */
export function serverWithHook(
  hook: HookReceiver,
  env: Record<string, string> = {},
  log = recordingLogger(),
): Promise<TestServer> {
  return startServer({
    CHAT_PUBLISH_HOOK_URL: hook.url,
    CHAT_WEBHOOK_SECRET: SECRET,
    CHAT_RATE_LIMIT: "0",
    ...env,
  }, { log });
}

/** Two members of a room: the one who writes and one who reads. */
export interface Pair extends AsyncDisposable {
  readonly sender: TestClient;
  readonly reader: TestClient;
}

/** Joins `ana` (the sender) and then `bo` (the reader) to `room`. */
export async function pair(server: TestServer, room: string): Promise<Pair> {
  const url = server.wsUrl(`/ws/chat/${room}/`);
  const sender = await TestClient.join(`${url}?name=ana`);
  const reader = await TestClient.join(`${url}?name=bo`);
  return {
    sender,
    reader,
    async [Symbol.asyncDispose]() {
      await Promise.all([sender.close(), reader.close()]);
    },
  };
}

/** The value of a publish hook histogram `_count` for `outcome`. */
export async function hookCalls(server: TestServer, outcome: string) {
  const text = await (await fetch(`${server.origin}/metrics`)).text();
  return valueOf(parseStrict(text), "chat_publish_hook_seconds_count", {
    outcome,
  }) ?? 0;
}

/** Failed hook calls, from a server's metrics (closed or not). */
export async function failedCalls(server: TestServer): Promise<number> {
  const series = (await server.chat.metricsSnapshot()).find((s) =>
    s.name === "chat_publish_hook_seconds"
  );
  return series?.samples.find((s) =>
    s.suffix === "_count" && s.labels.outcome === "failed"
  )?.value ?? 0;
}

export const byText = (text: string) => (frame: Frame) =>
  frame.message === text;

/**
 * Sends "marker" from the pair's sender, with the hook allowing it, and
 * asserts that the reader received it alone and the room stored it alone:
 * what the hook refused before it reached nobody and was not stored.
 */
export async function onlyMarkerPasses(
  server: TestServer,
  room: string,
  members: Pair,
): Promise<void> {
  members.sender.send({ type: "message", message: "marker", cid: "c-3" });
  await members.reader.waitForMatching(byText("marker"), 1);
  assert.deepEqual(members.reader.messageTexts(), ["marker"]);
  assert.deepEqual(
    (await storedMessages(server, room)).map((m) => m.message),
    ["marker"],
  );
}
