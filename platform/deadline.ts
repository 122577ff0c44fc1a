/**
 * The one deadline helper for every "this or a timeout" race: the timer is
 * always cleared when the work wins, so no timer outlives the wait (Deno's
 * sanitizers stay quiet and a finished wait keeps no process alive).
 *
 * @module
 */

/** What {@linkcode within} rejects with when the time is up. */
export class DeadlineError extends Error {
  override name = "DeadlineError";
  /** What did not finish in time, e.g. `"store"`, `"closing sockets"`. */
  readonly what: string;
  /** The deadline that passed, in milliseconds. */
  readonly ms: number;

  constructor(what: string, ms: number) {
    super(`${what} did not answer within ${ms} ms`);
    this.what = what;
    this.ms = ms;
  }
}

/** Options of {@linkcode within} and {@linkcode finishedWithin}. */
export interface DeadlineOptions {
  /**
   * Whether the deadline alone may not keep the process alive (an
   * `unref`'d timer), for a wait the process may end during.
   * @default false
   */
  readonly unref?: boolean;
}

/**
 * Resolves as `work` does, or rejects with a {@linkcode DeadlineError}
 * naming `what` after `ms`.
 */
export async function within<T>(
  work: Promise<T>,
  ms: number,
  what: string,
  { unref = false }: DeadlineOptions = {},
): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new DeadlineError(what, ms)), ms);
    if (unref) Deno.unrefTimer(timer);
  });
  try {
    return await Promise.race([work, deadline]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Whether `work` finished within `ms`: `true` when it resolved in time,
 * `false` when the deadline came first; rejects as `work` does.
 */
export async function finishedWithin(
  work: Promise<unknown>,
  ms: number,
  options: DeadlineOptions = {},
): Promise<boolean> {
  try {
    await within(work, ms, "work", options);
    return true;
  } catch (error) {
    if (error instanceof DeadlineError) return false;
    throw error;
  }
}
