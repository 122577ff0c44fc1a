/**
 * The webhook outbox as the core sees it: events a store wrote in the same
 * transaction as what caused them, waiting until every receiver has them,
 * and the leases that let one sender at a time deliver a room's events to
 * a receiver, over every isolate and process. The SQLite and Redis stores
 * implement it; `adapters/webhooks/` reads it.
 *
 * @module
 */

import { parseRoomName, type RoomName } from "./room_name.ts";

/**
 * Where the outbox keeps events that belong to no one room (a ban of every
 * room): not a valid room name, so it never mixes with a room's events.
 */
export const EVERY_ROOM = "*";

/** A room's events in the outbox, or those of {@linkcode EVERY_ROOM}. */
export type OutboxRoom = RoomName | typeof EVERY_ROOM;

/** Stored text as an outbox room, or undefined when it is none. */
export function parseOutboxRoom(text: string): OutboxRoom | undefined {
  if (text === EVERY_ROOM) return EVERY_ROOM;
  const parsed = parseRoomName(text);
  return parsed.ok && parsed.name === text ? parsed.name : undefined;
}

/** An event as the outbox keeps it. */
export interface OutboxEvent {
  /** Its place in the outbox: increasing, so a room's events go in order. */
  readonly seq: number;
  /** The payload's `id`. */
  readonly id: string;
  readonly room: OutboxRoom;
  /** When it was written, ms since the epoch. */
  readonly at: number;
  /** The payload as JSON, exactly as it is sent. */
  readonly body: string;
}

/** A room whose next events a sender may deliver to one receiver now. */
export interface OutboxClaim {
  readonly room: OutboxRoom;
  /** Failed attempts at the room's oldest undelivered event so far. */
  readonly attempts: number;
}

/** How many events wait, and since when. */
export interface OutboxBacklog {
  /** Events some receiver has not had yet. */
  readonly pending: number;
  /** When the oldest of them was written (ms), or undefined with none. */
  readonly oldestAt: number | undefined;
}

/**
 * The outbox as a sender uses it. Each receiver (a URL) has its own place
 * in each room's events; a sender leases a room of a receiver before it
 * delivers, so one sender at a time delivers a room's events to a
 * receiver, in order, over every isolate and process. A lease expires:
 * a sender that died leaves its rooms to another.
 */
export interface WebhookOutbox {
  /**
   * Leases to `owner` until `now + leaseMs` up to `limit` rooms that have
   * events `receiver` has not had, are due for an attempt and are not
   * leased by another sender.
   */
  claim(
    receiver: string,
    owner: string,
    now: number,
    leaseMs: number,
    limit: number,
  ): Promise<OutboxClaim[]>;
  /** Up to `limit` of `room`'s events that `receiver` has not had, in order. */
  next(
    receiver: string,
    room: OutboxRoom,
    limit: number,
  ): Promise<OutboxEvent[]>;
  /**
   * `receiver` has every event of `room` up to `seq`: its place moves on,
   * its failed attempts go back to 0, and the lease of `owner` is renewed
   * until `leaseUntil`. False when `owner` no longer holds the lease (it
   * expired and another took it): the caller stops.
   */
  delivered(
    receiver: string,
    room: OutboxRoom,
    owner: string,
    seq: number,
    leaseUntil: number,
  ): Promise<boolean>;
  /**
   * An attempt at `room`'s oldest undelivered event failed: counts it,
   * makes the room due again at `retryAt`, and ends the lease.
   */
  failed(
    receiver: string,
    room: OutboxRoom,
    owner: string,
    retryAt: number,
  ): Promise<void>;
  /** Ends the lease of `owner` (a sender stopping). */
  release(receiver: string, room: OutboxRoom, owner: string): Promise<void>;
  /**
   * Deletes the events every one of `receivers` has, then the oldest ones
   * past `maxEvents` or written before `now - maxAgeMs`; returns how many
   * undelivered events went (dropped) and what is left.
   */
  trim(
    receivers: readonly string[],
    bounds: { maxEvents: number; maxAgeMs: number; now: number },
  ): Promise<{ dropped: number; backlog: OutboxBacklog }>;
  /**
   * Calls `listener` after this connection wrote events, so a sender can
   * look at once instead of at its next poll. Returns the unsubscribe.
   */
  onWrite(listener: () => void): () => void;
}

/** What the webhook sender counts; `observability/` implements it. */
export interface WebhookMetrics {
  /** An event reached a receiver `seconds` after it was written. */
  delivered(seconds: number): void;
  /** An attempt was a retry of an event that failed before. */
  retried(): void;
  /** An attempt failed (an error status, no answer in time, no connection). */
  failed(): void;
  /** Undelivered events were dropped past the outbox's bounds. */
  dropped(count: number): void;
  /** What the outbox holds now. */
  backlog(backlog: OutboxBacklog): void;
}

/** Webhook metrics that go nowhere, for tests and tools. */
export const noWebhookMetrics: WebhookMetrics = {
  delivered() {},
  retried() {},
  failed() {},
  dropped() {},
  backlog() {},
};

/**
 * The listeners of {@linkcode WebhookOutbox.onWrite}: however many writes
 * a turn makes, each listener is called once, after the turn, so after the
 * transaction or script that wrote has finished.
 */
export class WriteSignal {
  readonly #listeners = new Set<() => void>();
  #told = false;

  /** Events were written: calls each listener once after this turn. */
  wrote(): void {
    if (this.#told || this.#listeners.size === 0) return;
    this.#told = true;
    setTimeout(() => {
      this.#told = false;
      for (const listener of this.#listeners) listener();
    }, 0);
  }

  /** Calls `listener` after each turn with writes; returns its removal. */
  onWrite(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }
}
