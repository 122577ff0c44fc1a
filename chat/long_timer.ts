/**
 * A timer for any delay. `setTimeout` keeps a delay in 32 bits: past
 * 2^31 − 1 ms (24.8 days) it fires at once instead. A token's `exp` a month
 * ahead is such a delay, so every timer whose delay comes from outside goes
 * through {@linkcode setLongTimeout}: it arms at most the longest delay
 * `setTimeout` keeps, and arms again on the way until the deadline.
 *
 * (npm `long-timeout` and `safe-timers` do the same, unmaintained since
 * 2016 and 2017 and built on Node's timer objects.)
 *
 * @module
 */

/** The longest delay `setTimeout` keeps: 2^31 − 1 ms, 24.8 days. */
export const MAX_TIMEOUT_MS = 2 ** 31 - 1;

/** The clock and timers a long timer runs on; tests bring their own. */
export interface TimerHost<Id> {
  now(): number;
  setTimeout(task: () => void, ms: number): Id;
  clearTimeout(id: Id): void;
}

const realHost: TimerHost<ReturnType<typeof setTimeout>> = {
  now: () => Date.now(),
  setTimeout: (task, ms) => setTimeout(task, ms),
  clearTimeout: (id) => clearTimeout(id),
};

/**
 * Runs `task` once, `ms` from now, however long that is (a delay of 0 or
 * less, or not a number, runs it on the next turn). Returns how to cancel
 * it.
 */
export function setLongTimeout(task: () => void, ms: number): () => void;
/** {@linkcode setLongTimeout} on the clock and timers of `host`. */
export function setLongTimeout<Id>(
  task: () => void,
  ms: number,
  host: TimerHost<Id>,
): () => void;
export function setLongTimeout<Id>(
  task: () => void,
  ms: number,
  host?: TimerHost<Id>,
): () => void {
  return host ? longTimeout(task, ms, host) : longTimeout(task, ms, realHost);
}

function longTimeout<Id>(
  task: () => void,
  ms: number,
  host: TimerHost<Id>,
): () => void {
  const deadline = host.now() + (Number.isNaN(ms) ? 0 : Math.max(0, ms));
  let id: Id | undefined;
  const arm = () => {
    const left = deadline - host.now();
    if (left > MAX_TIMEOUT_MS) {
      id = host.setTimeout(arm, MAX_TIMEOUT_MS);
    } else {
      id = host.setTimeout(task, Math.max(0, left));
    }
  };
  arm();
  return () => {
    if (id !== undefined) host.clearTimeout(id);
    id = undefined;
  };
}
