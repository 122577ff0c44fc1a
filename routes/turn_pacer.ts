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

import { atTurnEnd, nextTurn } from "../chat/turn_end.ts";

/** Waits for its turn before handling one message. */
export type TurnPacer = () => Promise<void>;

/**
 * Creates a pacer for one isolate: the first `perTurn` messages of a turn
 * go at once; later ones wait for a following turn (see `turn_end.ts`).
 */
export function createTurnPacer(perTurn: number): TurnPacer {
  let handled = 0;
  let resetQueued = false;
  return async () => {
    for (;;) {
      if (!resetQueued) {
        resetQueued = true;
        atTurnEnd(() => {
          handled = 0;
          resetQueued = false;
        });
      }
      if (handled < perTurn) {
        handled += 1;
        return;
      }
      await nextTurn();
    }
  };
}
