/**
 * Work for the end of the current turn of the event loop, after every frame
 * and timer of the turn had its say: the store writing the turn's messages
 * in one transaction, the message pacer starting its count again. All of a
 * turn's work shares one `setImmediate` (not clamped like a timer, so well
 * under a millisecond), which with one message per turn was a timer each.
 *
 * @module
 */

import { setImmediate } from "node:timers";

/** What this isolate's turn will run at its end, in the order asked. */
let pending: (() => void)[] = [];

function runPending(): void {
  const tasks = pending;
  pending = [];
  for (const task of tasks) task();
}

/**
 * Runs `task` once the current turn of the event loop ends. Tasks handle
 * their own errors: one that throws is an uncaught error, as it would be
 * in a `setImmediate` of its own.
 */
export function atTurnEnd(task: () => void): void {
  if (pending.push(task) === 1) setImmediate(runPending);
}

/** Resolves in a later turn of the event loop. */
export function nextTurn(): Promise<void> {
  return new Promise((resolve) => atTurnEnd(resolve));
}
