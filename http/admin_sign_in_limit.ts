/**
 * The limit on failed sign-ins to the admin console, per client address: a
 * token bucket from `chat/rate_limit.ts` that only failures draw on. An
 * address whose bucket is empty is locked out: every sign-in from it is
 * refused, the right key too (else guessing would go on, only slower), until
 * the bucket has a token again. Successful sign-ins take nothing. Buckets
 * that have refilled are forgotten, so memory holds only the addresses that
 * failed lately.
 *
 * @module
 */

import { KeyedBuckets } from "../chat/rate_limit.ts";

/** Failed sign-ins an address may make in a burst before it is locked out. */
export const SIGN_IN_FAILURES = 5;

/** The window over which {@linkcode SIGN_IN_FAILURES} are allowed, in ms. */
export const SIGN_IN_WINDOW_MS = 60_000;

/** The failed sign-ins of each client address. */
export class SignInLimit {
  readonly #failures: KeyedBuckets;

  /** `now` is the clock in ms. @default performance.now */
  constructor(now?: () => number) {
    this.#failures = new KeyedBuckets({
      rate: SIGN_IN_FAILURES / (SIGN_IN_WINDOW_MS / 1000),
      burst: SIGN_IN_FAILURES,
      ...(now ? { now } : {}),
    });
  }

  /** Addresses with failures not yet forgotten. */
  get size(): number {
    return this.#failures.size;
  }

  /**
   * Whole seconds until `address` may sign in again: 0 when it may now,
   * else at least 1 (for `Retry-After`).
   */
  retryAfterSeconds(address: string): number {
    return Math.ceil(this.#failures.msUntilToken(address) / 1000);
  }

  /**
   * Counts a failed sign-in from `address`; true when this one locked it
   * out (once per burst: the moment to log it).
   */
  fail(address: string): boolean {
    return this.#failures.take(address) &&
      this.#failures.msUntilToken(address) > 0;
  }
}
