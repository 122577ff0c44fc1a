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
