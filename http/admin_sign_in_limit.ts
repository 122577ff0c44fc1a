/**
 * The limit on failed sign-ins to the admin console, per client address: a
 * token bucket that only failures draw on. An address whose bucket is empty
 * is locked out: every sign-in from it is refused, the right key too (else
 * guessing would go on, only slower), until the bucket has a token again.
 * Successful sign-ins take nothing. Under `--workers N` the buckets sit in
 * the process's shared table (`chat/shared_buckets.ts`), so an address
 * gets one budget whichever worker the kernel gives its connections;
 * otherwise buckets that have refilled are forgotten, so memory holds only
 * the addresses that failed lately.
 *
 * @module
 */

import { KeyedBuckets } from "../chat/rate_limit.ts";
import {
  SHARED_BUCKET_LANE,
  type SharedBucketTable,
  SharedKeyedBuckets,
} from "../chat/shared_buckets.ts";

/** Failed sign-ins an address may make in a burst before it is locked out. */
export const SIGN_IN_FAILURES = 5;

/** The window over which {@linkcode SIGN_IN_FAILURES} are allowed, in ms. */
export const SIGN_IN_WINDOW_MS = 60_000;

/** Options for {@linkcode SignInLimit}. */
export interface SignInLimitOptions {
  /** The clock in ms. @default Date.now */
  readonly now?: () => number;
  /** The process's shared bucket table, under `--workers`. */
  readonly table?: SharedBucketTable;
}

/** The failed sign-ins of each client address. */
export class SignInLimit {
  readonly #failures: KeyedBuckets | SharedKeyedBuckets;
  readonly #local: KeyedBuckets | undefined;

  constructor({ now, table }: SignInLimitOptions = {}) {
    const budget = {
      rate: SIGN_IN_FAILURES / (SIGN_IN_WINDOW_MS / 1000),
      burst: SIGN_IN_FAILURES,
      now: now ?? Date.now,
    };
    if (table) {
      this.#local = undefined;
      this.#failures = new SharedKeyedBuckets({
        ...budget,
        table,
        lane: SHARED_BUCKET_LANE.signInFailure,
      });
    } else {
      this.#local = new KeyedBuckets(budget);
      this.#failures = this.#local;
    }
  }

  /**
   * Addresses with failures not yet forgotten in this isolate's memory
   * (none with a shared table, whose size is fixed).
   */
  get size(): number {
    return this.#local?.size ?? 0;
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
