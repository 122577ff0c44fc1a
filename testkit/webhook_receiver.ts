/**
 * A webhook receiver for tests: a real HTTP server on loopback
 * (`Deno.serve`) that verifies each request with the `standardwebhooks`
 * package, answers as the test tells it (200, an error status, or never),
 * keeps every attempt and the first copy of each event (de-duplicating by
 * `webhook-id`), and notes when two attempts at one event overlapped.
 *
 * @module
 */

import { Webhook } from "standardwebhooks";
import { serveLoopback } from "./loopback.ts";

/** What the receiver does with one attempt. */
export type Answer = number | "hang";

/** One attempt as the answer function sees it. */
export interface Asked {
  /** The attempt's place among all attempts, from 1. */
  readonly n: number;
  /** The attempt's place among the attempts at its event, from 1. */
  readonly attempt: number;
  readonly id: string;
  readonly body: string;
}

/** One request as it arrived. */
export interface Attempt {
  readonly id: string;
  readonly body: string;
  readonly headers: Record<string, string>;
  /** Whether the signature verified with the receiver's secret. */
  readonly verified: boolean;
  readonly answer: Answer;
}

/** An event's payload as the receiver parsed it. */
export interface ReceivedEvent {
  readonly type: string;
  readonly id: string;
  readonly room: string;
  readonly ts: string;
  readonly data: Record<string, unknown>;
}

/** Options for {@linkcode startWebhookReceiver}. */
export interface ReceiverOptions {
  /** The `whsec_…` secret it verifies with. */
  readonly secret: string;
  /** How to answer an attempt. @default 200 */
  readonly answer?: (asked: Asked) => Answer;
  /** The port. @default a free one */
  readonly port?: number;
  /**
   * How long it takes over each answer (ms), as a receiver that does some
   * work would: long enough for two senders of one event to overlap.
   * @default 0
   */
  readonly workMs?: number;
}

/** A running receiver; dispose it to stop it. */
export interface WebhookReceiver extends AsyncDisposable {
  readonly url: string;
  readonly port: number;
  /** Every attempt, in arrival order. */
  readonly attempts: Attempt[];
  /** The first accepted copy of each event, in arrival order. */
  readonly events: ReceivedEvent[];
  /** Ids that had two attempts in flight at once. */
  readonly overlapping: Set<string>;
  /** Changes how later attempts are answered. */
  answerWith(answer: (asked: Asked) => Answer): void;
  /** Waits until `check` holds for the events (woken by each attempt). */
  waitFor(
    check: (events: ReceivedEvent[]) => boolean,
    what: string,
    timeoutMs?: number,
  ): Promise<void>;
  /** Stops it: hanging attempts are released, the port is closed. */
  stop(): Promise<void>;
}

function isEvent(value: unknown): value is ReceivedEvent {
  return typeof value === "object" && value !== null &&
    "type" in value && typeof value.type === "string" &&
    "id" in value && typeof value.id === "string" &&
    "room" in value && typeof value.room === "string" &&
    "ts" in value && typeof value.ts === "string" &&
    "data" in value && typeof value.data === "object" && value.data !== null;
}

/** Starts a receiver on 127.0.0.1. */
export async function startWebhookReceiver(
  options: ReceiverOptions,
): Promise<WebhookReceiver> {
  const webhook = new Webhook(options.secret);
  let answer = options.answer ?? (() => 200);
  const attempts: Attempt[] = [];
  const events: ReceivedEvent[] = [];
  const seen = new Set<string>();
  const tries = new Map<string, number>();
  const inFlight = new Set<string>();
  const overlapping = new Set<string>();
  const stopping = new AbortController();
  let wake = Promise.withResolvers<void>();
  const server = await serveLoopback(async (request) => {
    const body = await request.text();
    const headers = Object.fromEntries(request.headers);
    const id = headers["webhook-id"] ?? "";
    if (inFlight.has(id)) overlapping.add(id);
    inFlight.add(id);
    try {
      let verified = true;
      try {
        webhook.verify(body, headers);
      } catch {
        verified = false;
      }
      const attempt = (tries.get(id) ?? 0) + 1;
      tries.set(id, attempt);
      const given = answer({ n: attempts.length + 1, attempt, id, body });
      attempts.push({ id, body, headers, verified, answer: given });
      if (given === "hang") {
        // Never answers (until the receiver stops). The sender gives up at
        // its timeout, so this is no delivery in flight.
        inFlight.delete(id);
        await new Promise<void>((resolve) => {
          stopping.signal.addEventListener("abort", () => resolve());
        });
        return new Response(null, { status: 503 });
      }
      if (options.workMs) {
        await new Promise((resolve) => setTimeout(resolve, options.workMs));
      }
      if (given >= 200 && given < 300 && verified && !seen.has(id)) {
        const parsed: unknown = JSON.parse(body);
        if (isEvent(parsed)) {
          seen.add(id);
          events.push(parsed);
        }
      }
      return new Response(null, { status: given });
    } finally {
      inFlight.delete(id);
      wake.resolve();
      wake = Promise.withResolvers<void>();
    }
  }, options.port);
  const port = server.port;
  const stop = async () => {
    stopping.abort();
    await server.stop();
  };
  return {
    url: `http://127.0.0.1:${port}/hooks`,
    port,
    attempts,
    events,
    overlapping,
    answerWith(next) {
      answer = next;
    },
    async waitFor(check, what, timeoutMs = 20_000) {
      const deadline = Date.now() + timeoutMs;
      while (!check(events)) {
        const left = deadline - Date.now();
        if (left <= 0) {
          throw new Error(
            `${what} did not happen within ${timeoutMs} ms; got ${events.length} events, ${attempts.length} attempts`,
          );
        }
        let timer: ReturnType<typeof setTimeout> | undefined;
        await new Promise<void>((resolve) => {
          timer = setTimeout(resolve, Math.min(left, 200));
          wake.promise.then(resolve);
        });
        clearTimeout(timer);
      }
    },
    stop,
    [Symbol.asyncDispose]: stop,
  };
}
