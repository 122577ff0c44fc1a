/**
 * Delivers the outbox's webhook events to each receiver URL: signed
 * (`signing.ts`), in order per room, one attempt at a time per room with a
 * timeout, retried with exponential backoff and full jitter while the
 * outbox keeps the event (its age and size bounds). A room is leased in the
 * store before its events are sent, so one sender at a time delivers it
 * over every isolate and process; a sender that dies leaves it to another
 * once the lease expires. Nothing here runs on the message path: the store
 * wrote the event with the message, and this polls (or is woken after a
 * write) on its own timers.
 *
 * @module
 */

import type { Logger } from "../../chat/logger.ts";
import {
  noWebhookMetrics,
  type OutboxBacklog,
  type OutboxClaim,
  type OutboxEvent,
  type WebhookMetrics,
  type WebhookOutbox,
} from "../../chat/outbox.ts";
import type { RoomName } from "../../chat/room_name.ts";
import { DeadlineError, within } from "../../platform/deadline.ts";
import type { Signer } from "./signing.ts";
import { receiverKey } from "./config.ts";

/** Rooms one receiver is sent at once. */
const ROOMS_IN_FLIGHT = 16;

/** Events read from the outbox at a time for one room. */
const EVENTS_PER_READ = 20;

/** How often the outbox is looked at without a write to wake the sender. */
const POLL_MS = 250;

/** How often delivered events are deleted and the bounds applied. */
const HOUSEKEEPING_MS = 1000;

/** At most one log line about dropped events this often. */
const DROP_LOG_MS = 60_000;

/** Options for {@linkcode WebhookSender}. */
export interface WebhookSenderOptions {
  readonly outbox: WebhookOutbox;
  /** The receivers, each sent every event. */
  readonly urls: readonly string[];
  readonly signer: Signer;
  /** How long one attempt may take, in ms. */
  readonly timeoutMs: number;
  /** The first retry waits up to this (ms); each next one up to twice as long. */
  readonly retryBaseMs: number;
  /** The longest wait between two attempts (ms). */
  readonly retryMaxMs: number;
  /** Events the outbox keeps at most; the oldest go first. */
  readonly maxEvents: number;
  /** How long (ms) the outbox keeps an event that no receiver took. */
  readonly maxAgeMs: number;
  readonly log: Logger;
  /** @default noWebhookMetrics */
  readonly metrics?: WebhookMetrics;
  /** For the jitter. @default Math.random */
  readonly random?: () => number;
}

/**
 * How long to wait before attempt `attempts + 1`, after `attempts` failed:
 * full jitter, a random time up to `baseMs × 2^(attempts - 1)`, and never
 * more than `maxMs`.
 */
export function retryDelay(
  attempts: number,
  { baseMs, maxMs }: { baseMs: number; maxMs: number },
  random: () => number = Math.random,
): number {
  const ceiling = Math.min(
    maxMs,
    baseMs * 2 ** Math.min(Math.max(attempts - 1, 0), 32),
  );
  return Math.floor(random() * ceiling);
}

/** A receiver URL as logs show it: no credentials, no query. */
export function receiverLabel(url: string): string {
  const parsed = new URL(url);
  return `${parsed.origin}${parsed.pathname}`;
}

type Attempt = { ok: true } | { ok: false; reason: string };

/** Sends the events of one receiver. */
class Receiver {
  readonly url: string;
  /** Its name in the outbox. */
  readonly key: string;
  readonly label: string;
  readonly #sender: WebhookSender;
  readonly #inFlight = new Set<RoomName>();
  #pumping = false;
  #again = false;
  /** When the current run of failures began, and how many attempts failed. */
  #failing: { since: number; attempts: number } | undefined;

  constructor(url: string, sender: WebhookSender) {
    this.url = url;
    this.key = receiverKey(url);
    this.label = receiverLabel(url);
    this.#sender = sender;
  }

  /** Claims the rooms due now and starts delivering each. */
  async pump(): Promise<void> {
    if (this.#pumping) {
      this.#again = true;
      return;
    }
    this.#pumping = true;
    try {
      do {
        this.#again = false;
        const room = ROOMS_IN_FLIGHT - this.#inFlight.size;
        if (room <= 0 || this.#sender.closed) break;
        const claims = await this.#sender.outbox.claim(
          this.key,
          this.#sender.owner,
          Date.now(),
          this.#sender.leaseMs,
          room,
        );
        for (const claim of claims) this.#start(claim);
        if (claims.length === room) this.#again = true;
      } while (this.#again);
    } finally {
      this.#pumping = false;
    }
  }

  #start(claim: OutboxClaim): void {
    this.#inFlight.add(claim.room);
    const done = this.#deliver(claim)
      .catch((error) =>
        this.#sender.log.error("webhook.delivery_failed", {
          receiver: this.label,
          room: claim.room,
          error,
        })
      )
      .finally(() => {
        this.#inFlight.delete(claim.room);
        this.#sender.running.delete(done);
        // A room finished leaves space for another.
        if (!this.#sender.closed) this.#sender.wake();
      });
    this.#sender.running.add(done);
  }

  /** Sends `claim.room`'s events in order until one fails or none is left. */
  async #deliver(claim: OutboxClaim): Promise<void> {
    const { outbox, owner, metrics } = this.#sender;
    const { room } = claim;
    let attempts = claim.attempts;
    while (true) {
      if (this.#sender.closed) {
        await outbox.release(this.key, room, owner);
        return;
      }
      const events = await outbox.next(this.key, room, EVENTS_PER_READ);
      if (events.length === 0) {
        await outbox.release(this.key, room, owner);
        return;
      }
      for (const event of events) {
        if (attempts > 0) metrics.retried();
        const result = await this.#attempt(event);
        if (this.#sender.closed) {
          await outbox.release(this.key, room, owner);
          return;
        }
        if (!result.ok) {
          metrics.failed();
          this.#failed(result.reason);
          const wait = retryDelay(
            attempts + 1,
            this.#sender.retry,
            this.#sender.random,
          );
          await outbox.failed(this.key, room, owner, Date.now() + wait);
          return;
        }
        attempts = 0;
        metrics.delivered(Math.max(0, Date.now() - event.at) / 1000);
        this.#recovered();
        const held = await outbox.delivered(
          this.key,
          room,
          owner,
          event.seq,
          Date.now() + this.#sender.leaseMs,
        );
        if (!held) return;
      }
    }
  }

  /** One POST of `event`, within the timeout. */
  async #attempt(event: OutboxEvent): Promise<Attempt> {
    const { signer, timeoutMs } = this.#sender;
    const controller = new AbortController();
    this.#sender.aborts.add(controller);
    try {
      const response = await within(
        fetch(this.url, {
          method: "POST",
          body: event.body,
          headers: {
            ...signer.headers(event.id, new Date(), event.body),
            "content-type": "application/json",
          },
          redirect: "manual",
          signal: controller.signal,
          client: this.#sender.client,
        }),
        timeoutMs,
        "webhook receiver",
      );
      await response.body?.cancel();
      if (response.status >= 200 && response.status < 300) return { ok: true };
      return { ok: false, reason: `answered ${response.status}` };
    } catch (error) {
      controller.abort();
      if (error instanceof DeadlineError) {
        return { ok: false, reason: `no answer within ${timeoutMs} ms` };
      }
      // fetch fails with a TypeError for a refused connection, a reset, a
      // name that does not resolve, or the abort of a sender stopping.
      if (error instanceof TypeError || controller.signal.aborted) {
        return {
          ok: false,
          reason: error instanceof Error ? error.message : String(error),
        };
      }
      throw error;
    } finally {
      this.#sender.aborts.delete(controller);
    }
  }

  #failed(reason: string): void {
    if (this.#failing) {
      this.#failing.attempts++;
      return;
    }
    this.#failing = { since: Date.now(), attempts: 1 };
    this.#sender.log.warn("webhook.receiver_failing", {
      receiver: this.label,
      reason,
      action:
        "events wait in the outbox and are retried with backoff; the chat goes on",
    });
  }

  #recovered(): void {
    if (!this.#failing) return;
    this.#sender.log.info("webhook.receiver_recovered", {
      receiver: this.label,
      failedAttempts: this.#failing.attempts,
      failingMs: Date.now() - this.#failing.since,
    });
    this.#failing = undefined;
  }

  /** Whether the last attempt failed. */
  get failing(): boolean {
    return this.#failing !== undefined;
  }
}

/** The webhook sender of one isolate. */
export class WebhookSender {
  readonly outbox: WebhookOutbox;
  readonly signer: Signer;
  readonly log: Logger;
  readonly metrics: WebhookMetrics;
  readonly timeoutMs: number;
  readonly retry: { baseMs: number; maxMs: number };
  readonly random: () => number;
  /** Who this sender is in the outbox's leases. */
  readonly owner = crypto.randomUUID();
  /**
   * How long a lease lasts: an attempt and the writes around it. Renewed
   * with every event delivered.
   */
  readonly leaseMs: number;
  /** Its own connections, closed with it. */
  readonly client = Deno.createHttpClient({});
  readonly running = new Set<Promise<void>>();
  readonly aborts = new Set<AbortController>();
  closed = false;
  readonly #receivers: Receiver[];
  readonly #options: WebhookSenderOptions;
  readonly #timers: ReturnType<typeof setInterval>[] = [];
  readonly #unsubscribe: () => void;
  #backlog: OutboxBacklog = { pending: 0, oldestAt: undefined };
  #dropped = { count: 0, loggedAt: -Infinity };

  constructor(options: WebhookSenderOptions) {
    this.#options = options;
    this.outbox = options.outbox;
    this.signer = options.signer;
    this.log = options.log;
    this.metrics = options.metrics ?? noWebhookMetrics;
    this.timeoutMs = options.timeoutMs;
    this.retry = { baseMs: options.retryBaseMs, maxMs: options.retryMaxMs };
    this.random = options.random ?? Math.random;
    this.leaseMs = 2 * options.timeoutMs + 1000;
    this.#receivers = options.urls.map((url) => new Receiver(url, this));
    this.#unsubscribe = this.outbox.onWrite(() => this.wake());
    this.#every(POLL_MS, () => this.wake());
    this.#every(HOUSEKEEPING_MS, () => this.#housekeep());
    this.wake();
  }

  #every(ms: number, run: () => void): void {
    const timer = setInterval(run, ms);
    // Housekeeping must not keep a stopping process alive.
    Deno.unrefTimer(timer);
    this.#timers.push(timer);
  }

  /** Looks for due rooms now. */
  wake(): void {
    if (this.closed) return;
    for (const receiver of this.#receivers) {
      receiver.pump().catch((error) =>
        this.log.error("webhook.outbox_unreadable", {
          receiver: receiver.label,
          error,
        })
      );
    }
  }

  /** What the outbox held at the last look, and which receivers fail. */
  status(): OutboxBacklog & { failing: string[] } {
    return {
      ...this.#backlog,
      failing: this.#receivers.filter((r) => r.failing).map((r) => r.label),
    };
  }

  async #housekeep(): Promise<void> {
    const now = Date.now();
    try {
      const { dropped, backlog } = await this.outbox.trim(
        this.#receivers.map((receiver) => receiver.key),
        {
          maxEvents: this.#options.maxEvents,
          maxAgeMs: this.#options.maxAgeMs,
          now,
        },
      );
      this.#backlog = backlog;
      this.metrics.backlog(backlog);
      if (dropped > 0) {
        this.metrics.dropped(dropped);
        this.#dropped.count += dropped;
      }
      if (
        this.#dropped.count > 0 && now - this.#dropped.loggedAt >= DROP_LOG_MS
      ) {
        this.log.warn("webhook.events_dropped", {
          dropped: this.#dropped.count,
          pending: backlog.pending,
          maxEvents: this.#options.maxEvents,
          maxAgeMs: this.#options.maxAgeMs,
          action:
            "the oldest undelivered events past CHAT_WEBHOOK_MAX_EVENTS or CHAT_WEBHOOK_MAX_AGE were deleted; the chat's messages are kept",
        });
        this.#dropped = { count: 0, loggedAt: now };
      }
    } catch (error) {
      this.log.error("webhook.outbox_trim_failed", { error });
    }
  }

  /**
   * Stops: no new attempt, the ones under way aborted and their rooms'
   * leases ended so that another sender takes them at once.
   */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const timer of this.#timers) clearInterval(timer);
    this.#unsubscribe();
    for (const controller of this.aborts) controller.abort();
    await Promise.allSettled([...this.running]);
    this.client.close();
  }
}
