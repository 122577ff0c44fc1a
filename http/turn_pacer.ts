/**
 * Paces the handling of incoming chat messages so that the event loop turns
 * at least every few messages. Deno delivers frames that are already
 * buffered one after another without turning the loop, and it flushes
 * socket writes (lowering `bufferedAmount`) only between turns: a burst
 * handled in one turn would leave every recipient with the whole burst
 * unsent and make healthy readers look like stuck ones.
 *
 * @module
 */

import { setImmediate } from "node:timers";

/** Waits for its turn before handling one message. */
export type TurnPacer = () => Promise<void>;

/**
 * Creates a pacer for one isolate: the first `perTurn` messages of a turn
 * go at once; later ones wait for a following turn (`setImmediate`, which
 * runs after pending I/O and is not clamped like nested timers).
 */
export function createTurnPacer(perTurn: number): TurnPacer {
  let handled = 0;
  let resetQueued = false;
  return async () => {
    for (;;) {
      if (!resetQueued) {
        resetQueued = true;
        setImmediate(() => {
          handled = 0;
          resetQueued = false;
        });
      }
      if (handled < perTurn) {
        handled += 1;
        return;
      }
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
  };
}

/**
 * Creates a pacer for work of uneven cost (admitting a connection): work
 * starts at once while less than `msPerTurn` has passed since the turn's
 * first work started; later work waits for a following turn, so that what
 * else the loop has to do (another room's messages) is done in between.
 * Meant for few waiters at a time (one per room, whose admissions run one
 * after another): each waiting one looks again every turn.
 */
export function createTimedTurnPacer(
  msPerTurn: number,
  now: () => number = () => performance.now(),
): TurnPacer {
  let turnStartedAt: number | undefined;
  return async () => {
    for (;;) {
      if (turnStartedAt === undefined) {
        turnStartedAt = now();
        setImmediate(() => {
          turnStartedAt = undefined;
        });
        return;
      }
      if (now() - turnStartedAt < msPerTurn) return;
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
  };
}
