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
  type WebhookMetrics,
  type WebhookOutbox,
} from "../../chat/outbox.ts";
import type { Signer } from "./signing.ts";
import { Receiver, type SenderContext } from "./receiver.ts";

export { receiverLabel, retryDelay } from "./receiver.ts";

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

/** The webhook sender of one isolate. */
export class WebhookSender implements SenderContext {
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
    this.#every(HOUSEKEEPING_MS, () => {
      const trimming: Promise<void> = this.#housekeep()
        .finally(() => this.running.delete(trimming));
      this.running.add(trimming);
    });
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
      // Tracked, so that closing waits for a claim under way (its rooms'
      // leases are ended before the store closes).
      const pumping: Promise<void> = receiver.pump()
        .catch((error) =>
          this.log.error("webhook.outbox_unreadable", {
            receiver: receiver.label,
            error,
          })
        )
        .finally(() => this.running.delete(pumping));
      this.running.add(pumping);
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
    // A claim that ends meanwhile starts deliveries, which see the sender
    // closed and end their leases at once.
    while (this.running.size > 0) await Promise.allSettled([...this.running]);
    this.client.close();
  }
}
