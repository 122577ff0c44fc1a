/**
 * A deadline for reads on a raw connection: the timer closes the
 * connection, so that the read waiting on it ends, and the failure says
 * what did not come in time. `within` (platform/deadline.ts) cannot do it:
 * it stops waiting but leaves the read pending on an open connection.
 *
 * @module
 */

/** What {@linkcode closingAfter} needs. */
export interface ClosingDeadline {
  /** How long the work may take (ms). */
  readonly ms: number;
  /** Closes what the work reads from, so that a pending read ends. */
  readonly close: () => void;
  /** What did not come in time, e.g. `"No close frame"`. */
  readonly what: string;
}

/** The deadline of {@linkcode closingAfter} passed. */
export class ClosedAtDeadline extends Error {
  override name = "ClosedAtDeadline";
}

/**
 * Runs `work`; after `deadline.ms` closes what it reads from, and its
 * failure then becomes a {@linkcode ClosedAtDeadline} "`what` within `ms`
 * ms" (the read's error as its cause). A failure before then is the
 * work's own.
 */
export async function closingAfter<T>(
  deadline: ClosingDeadline,
  work: () => Promise<T>,
): Promise<T> {
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    deadline.close();
  }, deadline.ms);
  try {
    return await work();
  } catch (error) {
    if (timedOut) {
      throw new ClosedAtDeadline(
        `${deadline.what} within ${deadline.ms} ms`,
        { cause: error },
      );
    }
    throw error;
  } finally {
    clearTimeout(timer);
  }
}
