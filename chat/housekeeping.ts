/**
 * The hub's periodic checks: repairing the rooms of this isolate from the
 * store (gaps at the end of a burst, where no later message would reveal
 * them, and logs the store forgot) and deleting history past its age. The
 * timers never keep a stopping process alive, and a failed round is
 * logged, never thrown.
 *
 * @module
 */

import type { Logger } from "./logger.ts";
import { mayHaveForgotten, type Room } from "./room.ts";
import type { MessageStore } from "./store.ts";

/**
 * Delivers whatever the store holds beyond what each room delivered, and
 * starts over the rooms whose log the store forgot: one store call for
 * every room, then reads only for rooms that differ.
 */
export async function repairRooms(
  rooms: readonly Room[],
  messages: MessageStore,
): Promise<void> {
  if (rooms.length === 0) return;
  const before = rooms.map((room) => room.position);
  const positions = await messages.positions(rooms.map((room) => room.name));
  await Promise.all(rooms.map((room, index) => {
    const position = positions[index];
    const was = before[index];
    if (!position || !was) return;
    if (
      position.last <= room.lastDelivered &&
      !mayHaveForgotten(position, was)
    ) return;
    return room.run(() => room.sync(position, was));
  }));
}

/** Deletes the messages older than `maxAgeMs` before `now`. */
export async function expireHistory(
  messages: MessageStore,
  log: Logger,
  now: Date,
  maxAgeMs: number,
): Promise<void> {
  const before = new Date(now.getTime() - maxAgeMs).toISOString();
  const deleted = await messages.expire(before);
  if (deleted > 0) log.info("history.expired", { deleted, before });
}

/** What {@linkcode Housekeeping} runs, and how often. */
export interface HousekeepingOptions {
  /** How often `repair` runs (ms). */
  readonly repairIntervalMs: number;
  /** Messages older than this are deleted (ms); 0 keeps them. */
  readonly historyMaxAgeMs: number;
  readonly repair: () => Promise<void>;
  readonly expire: (maxAgeMs: number) => Promise<void>;
  readonly log: Logger;
}

/** The hub's timers, from construction until `close()`. */
export class Housekeeping {
  readonly #timers: ReturnType<typeof setInterval>[] = [];
  readonly #log: Logger;

  constructor(options: HousekeepingOptions) {
    this.#log = options.log;
    this.#every(options.repairIntervalMs, options.repair);
    const maxAgeMs = options.historyMaxAgeMs;
    if (maxAgeMs > 0) {
      // Often enough that nothing outlives its age by more than a tenth.
      const period = Math.min(60_000, Math.max(100, maxAgeMs / 10));
      this.#every(period, () => options.expire(maxAgeMs));
    }
  }

  /** Stops every timer. */
  close(): void {
    for (const timer of this.#timers.splice(0)) clearInterval(timer);
  }

  #every(ms: number, task: () => Promise<void>): void {
    const timer = setInterval(() => {
      task().catch((error) =>
        this.#log.error("hub.periodic_failed", { error })
      );
    }, ms);
    // Housekeeping must not keep a stopping process alive.
    Deno.unrefTimer(timer);
    this.#timers.push(timer);
  }
}
