/**
 * The fan-out bus: how a message accepted by one isolate or machine reaches
 * the members of its room held by the others. Adapters implement it with a
 * BroadcastChannel (isolates of one process) or Redis pub/sub (machines).
 *
 * @module
 */

import type { RoomName } from "./room_name.ts";

/** A room's open connection to the bus. */
export interface BusSubscription {
  /** Sends serialised data to every other subscriber of the room. */
  publish(data: string): void;
  /** Stops receiving and releases the underlying channel. Idempotent. */
  close(): void;
}

/** Opens per-room subscriptions. A subscriber never receives its own posts. */
export interface Bus {
  /**
   * Subscribes to `room`; `receive` gets whatever another subscriber
   * published, untrusted and unparsed.
   */
  subscribe(room: RoomName, receive: (data: unknown) => void): BusSubscription;
}
