/**
 * Staying alive when a flood of connections takes every file descriptor
 * (EMFILE). Measured on Deno 2.9.6, the process then dies of a Deno panic,
 * not an error that could be caught, in two places:
 *
 * - Formatting a JavaScript stack on the process's main thread (the only
 *   isolate, the supervisor of `--workers`, the first isolate of `deno
 *   serve --parallel`). The first stack through a TypeScript module makes
 *   Deno read that module's source map from its cache on disk; when that
 *   read fails it transpiles the module again, which on the main thread
 *   must open `/proc/self/maps` once, and panics when it cannot
 *   (`stacker` … `left: 24`). Worker threads do not need that file.
 * - Starting a Worker (`runtime/tokio_util.rs`): a thread's event loop
 *   needs descriptors of its own.
 *
 * So the main thread keeps a {@linkcode DescriptorReserve} and formats
 * stacks with it released, an error that only says the process is out of
 * descriptors is logged without its stack, and every thread the server
 * needs is started at start and kept; one started later (a worker's
 * replacement) waits until descriptors are free.
 *
 * @module
 */

/** Whether `error` says the process has no file descriptor left. */
export function isOutOfDescriptors(error: unknown): boolean {
  return error instanceof Error &&
    /\(os error 24\)|Too many open files/.test(error.message);
}

/** Whether `error` means `/dev/null` cannot be opened here at all. */
function isNotAllowed(error: unknown): boolean {
  return error instanceof Deno.errors.NotCapable ||
    error instanceof Deno.errors.PermissionDenied ||
    error instanceof Deno.errors.NotFound;
}

/**
 * A few descriptors held open on `/dev/null`, given back for a moment to
 * work that needs one while the process may have none left.
 */
export class DescriptorReserve {
  #size = 0;
  #held: Deno.FsFile[] = [];

  /** Descriptors held now. */
  get held(): number {
    return this.#held.length;
  }

  /**
   * Holds `size` descriptors from now on; returns whether it could open
   * them. Where `/dev/null` cannot be opened (a sandboxed binary, another
   * system) it holds none and work runs without a reserve.
   */
  keep(size: number): boolean {
    this.#size = size;
    return this.#refill();
  }

  /**
   * Runs `work` with the reserve closed, then opens it again. `work` must
   * be synchronous: nothing else of this thread runs meanwhile, so the
   * descriptors it needs are the ones just closed. Another thread may take
   * them first; the reserve then shrinks until they are free again, and is
   * filled again before the next use.
   */
  spend<T>(work: () => T): T {
    this.#refill();
    for (const file of this.#held) file.close();
    this.#held = [];
    try {
      return work();
    } finally {
      this.#refill();
    }
  }

  /** Closes what it holds and holds nothing from now on. */
  release(): void {
    this.#size = 0;
    for (const file of this.#held) file.close();
    this.#held = [];
  }

  #refill(): boolean {
    try {
      while (this.#held.length < this.#size) {
        this.#held.push(Deno.openSync("/dev/null"));
      }
      return true;
    } catch (error) {
      if (isNotAllowed(error)) {
        this.#size = 0;
        return false;
      }
      if (isOutOfDescriptors(error)) return false;
      throw error;
    }
  }
}

/**
 * The reserve of this isolate. Empty until an entry point calls
 * {@linkcode DescriptorReserve.keep}: only the process's main thread
 * needs it, and code under test never opens it.
 */
export const descriptorReserve = new DescriptorReserve();

/** How many descriptors the main thread holds back. */
export const RESERVED_DESCRIPTORS = 4;

/**
 * Runs synchronous `work`, which opens a file; when it fails for want of a
 * descriptor, runs it once more with the reserve released.
 */
export function withDescriptor<T>(work: () => T): T {
  try {
    return work();
  } catch (error) {
    if (!isOutOfDescriptors(error)) throw error;
    return descriptorReserve.spend(work);
  }
}

/**
 * Formats `error.stack` with the reserve released, so that Deno can read
 * the source maps it needs (see the module doc).
 */
export function stackOf(error: Error): string | undefined {
  return descriptorReserve.spend(() => error.stack);
}

/**
 * Formats one stack on the calling thread, at the start of each isolate:
 * whatever Deno sets up the first time it formats one is then done while
 * descriptors are free, and so are the source maps of the modules that
 * start the server.
 */
export function warmUpStackTraces(): void {
  void new Error("Formatting a stack at start").stack;
}

/**
 * Descriptors that must be free before a thread is started after start:
 * its event loop takes a few, loading its modules one at a time, and the
 * rest is margin against the threads that accept connections meanwhile.
 */
export const THREAD_DESCRIPTORS = 32;

/**
 * Whether `count` more descriptors can be opened now: checked before
 * starting a thread after start, which would end the process if it found
 * none (see the module doc). Another thread can take them meanwhile; the
 * margin asked for makes that unlikely, not impossible.
 */
export function descriptorsFree(count: number): boolean {
  const opened: Deno.FsFile[] = [];
  try {
    while (opened.length < count) opened.push(Deno.openSync("/dev/null"));
    return true;
  } catch (error) {
    // Where /dev/null cannot be opened there is nothing to check with.
    if (isNotAllowed(error)) return true;
    if (isOutOfDescriptors(error)) return false;
    throw error;
  } finally {
    for (const file of opened) file.close();
  }
}
