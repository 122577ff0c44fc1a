/**
 * The fan-out bus: how a message accepted by one isolate or machine reaches
 * the members of its room held by the others. Adapters implement it with a
 * BroadcastChannel (isolates of one process) or Redis pub/sub (processes
 * and machines).
 *
 * Delivery is at most once: a bus may drop (a BroadcastChannel for an
 * isolate that fell behind, Redis for a subscriber that was disconnected).
 * Rooms repair every gap from the store, so a bus only has to be fast.
 *
 * @module
 */

import type { RoomName } from "./room_name.ts";

/** A room's subscription to the bus. */
export interface BusSubscription {
  /**
   * Resolves once the subscription receives what is published from now on;
   * rejects when the bus could not subscribe (the adapter retries by
   * itself when it comes back).
   */
  readonly live: Promise<void>;
  /** Stops receiving. Idempotent. */
  close(): void;
}

/** Publishes to rooms and opens per-room subscriptions. */
export interface Bus {
  /**
   * Sends serialised data to every subscriber of `room` elsewhere; a
   * subscriber never receives what its own bus published. Rejects when the
   * bus could not take it.
   */
  publish(room: RoomName, data: string): Promise<void>;
  /**
   * Subscribes to `room`; `receive` gets whatever another bus published,
   * untrusted and unparsed.
   */
  subscribe(room: RoomName, receive: (data: unknown) => void): BusSubscription;
  /**
   * Resolves when the bus can carry messages now; rejects with an error
   * saying why not (for `/healthz`).
   */
  ping(): Promise<void>;
  /** Closes every subscription and connection. Idempotent. */
  close(): Promise<void>;
}
