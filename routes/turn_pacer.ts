/**
 * Paces the handling of incoming chat messages so that the event loop turns
 * at least every few messages. Deno delivers frames that are already
 * buffered one after another without turning the loop, and it flushes
 * socket writes (lowering `bufferedAmount`) only between turns: a burst
 * handled in one turn would leave every recipient with the whole burst
 * unsent and make healthy readers look like stuck ones.
 *
 * The pacer runs tasks, rather than handing out promises to wait on, and it
 * schedules a turn only when its quota is used up: a message that has its
 * turn costs no promise, no microtask and no timer.
 *
 * @module
 */

import { setImmediate } from "node:timers";

/**
 * Runs `task` in its turn: at once while the turn has room, or in a later
 * turn, after every task that waited before it. A task must not throw.
 */
export type TurnPacer = (task: () => void) => void;

/**
 * Creates a pacer for one isolate: at most `perTurn` tasks run between two
 * of its turns; a task past that waits, in order, for its next turn
 * (`setImmediate`, which runs after pending I/O and is not clamped like
 * nested timers), where the quota starts over.
 */
export function createTurnPacer(perTurn: number): TurnPacer {
  // Tasks run since the pacer's last turn.
  let handled = 0;
  // Tasks waiting for its next turn, oldest first. Bounded by the frames
  // that arrived: each task is one accepted frame.
  const waiting: (() => void)[] = [];

  const turn = () => {
    const due = waiting.splice(0, perTurn);
    handled = due.length;
    if (waiting.length > 0) setImmediate(turn);
    for (const task of due) task();
  };

  return (task) => {
    // Nothing waits while the quota has room: the order is kept.
    if (handled < perTurn) {
      handled += 1;
      task();
      return;
    }
    if (waiting.push(task) === 1) setImmediate(turn);
  };
}
