/**
 * One receiver URL's deliveries: the rooms it is sent at once, each room's
 * events in order with one attempt at a time, the retry waits (full
 * jitter), and the log lines of a run of failures. The sender
 * (`sender.ts`) runs one per URL and shares its outbox, leases and timers.
 *
 * @module
 */

import type { Logger } from "../../chat/logger.ts";
import type {
  OutboxClaim,
  OutboxEvent,
  OutboxRoom,
  WebhookMetrics,
  WebhookOutbox,
} from "../../chat/outbox.ts";
import { DeadlineError, within } from "../../platform/deadline.ts";
import type { Signer } from "./signing.ts";
import { receiverKey } from "./config.ts";

/** What a receiver uses of its sender. */
export interface SenderContext {
  readonly outbox: WebhookOutbox;
  readonly signer: Signer;
  readonly log: Logger;
  readonly metrics: WebhookMetrics;
  readonly timeoutMs: number;
  readonly retry: { readonly baseMs: number; readonly maxMs: number };
  readonly random: () => number;
  /** Who the sender is in the outbox's leases. */
  readonly owner: string;
  readonly leaseMs: number;
  readonly client: Deno.HttpClient;
  /** Deliveries under way, awaited when the sender closes. */
  readonly running: Set<Promise<void>>;
  /** Attempts under way, aborted when the sender closes. */
  readonly aborts: Set<AbortController>;
  readonly closed: boolean;
  /** Looks for due rooms now. */
  wake(): void;
}

/** Events read from the outbox at a time for one room. */
const EVENTS_PER_READ = 20;

/** Rooms one receiver is sent at once. */
const ROOMS_IN_FLIGHT = 16;

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
export class Receiver {
  readonly url: string;
  /** Its name in the outbox. */
  readonly key: string;
  readonly label: string;
  readonly #sender: SenderContext;
  readonly #inFlight = new Set<OutboxRoom>();
  #pumping = false;
  #again = false;
  /**
   * The rooms whose oldest event failed its last attempt: the receiver is
   * failing while there is one. When the run began, and how many attempts
   * failed in it.
   */
  readonly #failingRooms = new Set<OutboxRoom>();
  #failing: { since: number; attempts: number } | undefined;

  constructor(url: string, sender: SenderContext) {
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
    // Deliveries are noted in the store a read's worth at a time (one
    // write, not one per event), and before the lease is a third gone.
    let unnoted: number | undefined;
    let notedAt = Date.now();
    const note = async (): Promise<boolean> => {
      if (unnoted === undefined) return true;
      const seq = unnoted;
      unnoted = undefined;
      notedAt = Date.now();
      return await outbox.delivered(
        this.key,
        room,
        owner,
        seq,
        notedAt + this.#sender.leaseMs,
      );
    };
    while (true) {
      if (this.#sender.closed) {
        if (await note()) await outbox.release(this.key, room, owner);
        return;
      }
      const events = await outbox.next(this.key, room, EVENTS_PER_READ);
      if (events.length === 0) {
        // Its failing event was dropped past the bounds, if it had one.
        this.#settled(room);
        await outbox.release(this.key, room, owner);
        return;
      }
      for (const event of events) {
        if (this.#sender.closed) break;
        if (
          Date.now() - notedAt > this.#sender.leaseMs / 3 && !await note()
        ) return;
        if (attempts > 0) metrics.retried();
        const result = await this.#attempt(event);
        if (!result.ok) {
          if (this.#sender.closed) break;
          metrics.failed();
          this.#failed(room, result.reason);
          const wait = retryDelay(
            attempts + 1,
            this.#sender.retry,
            this.#sender.random,
          );
          if (await note()) {
            await outbox.failed(this.key, room, owner, Date.now() + wait);
          }
          return;
        }
        attempts = 0;
        unnoted = event.seq;
        metrics.delivered(Math.max(0, Date.now() - event.at) / 1000);
        this.#recovered(room);
      }
      if (!await note()) return;
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

  #failed(room: OutboxRoom, reason: string): void {
    this.#failingRooms.add(room);
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

  /** `room`'s event got through: the run ends when no room is failing. */
  #recovered(room: OutboxRoom): void {
    if (!this.#failingRooms.delete(room) || this.#failingRooms.size > 0) return;
    if (this.#failing) {
      this.#sender.log.info("webhook.receiver_recovered", {
        receiver: this.label,
        failedAttempts: this.#failing.attempts,
        failingMs: Date.now() - this.#failing.since,
      });
    }
    this.#failing = undefined;
  }

  /** `room` has nothing left to send: it no longer counts as failing. */
  #settled(room: OutboxRoom): void {
    this.#failingRooms.delete(room);
    if (this.#failingRooms.size === 0) this.#failing = undefined;
  }

  /** Whether some room's oldest event is failing. */
  get failing(): boolean {
    return this.#failingRooms.size > 0;
  }
}
