/**
 * Flood control: token buckets that refill at a steady rate, kept per key
 * (a client address) so that reconnecting gains nothing, plus the rule for
 * when a refused sender is cut off.
 *
 * @module
 */

/** Options for {@linkcode TokenBucket}. */
export interface TokenBucketOptions {
  /** Tokens added per second; 0 means unlimited. */
  readonly rate: number;
  /** Most tokens held at once: how many messages may come in a burst. */
  readonly burst: number;
  /** Clock in milliseconds. @default performance.now */
  readonly now?: () => number;
}

/** A token bucket; starts full. */
export class TokenBucket {
  readonly #rate: number;
  readonly #burst: number;
  readonly #now: () => number;
  #tokens: number;
  #updated: number;

  constructor(options: TokenBucketOptions) {
    this.#rate = options.rate;
    this.#burst = options.burst;
    this.#now = options.now ?? (() => performance.now());
    this.#tokens = options.burst;
    this.#updated = this.#now();
  }

  /** Takes one token if there is one; always true when unlimited. */
  take(): boolean {
    if (this.#rate === 0) return true;
    this.#refill();
    if (this.#tokens < 1) return false;
    this.#tokens -= 1;
    return true;
  }

  /**
   * Milliseconds until a token can be taken, taking none: 0 when one can be
   * now, and always 0 when unlimited.
   */
  msUntilToken(): number {
    if (this.#rate === 0) return 0;
    this.#refill();
    return this.#tokens >= 1 ? 0 : ((1 - this.#tokens) / this.#rate) * 1000;
  }

  /** Whether the bucket has refilled completely (forgetting it loses nothing). */
  isFull(): boolean {
    this.#refill();
    return this.#tokens >= this.#burst;
  }

  #refill(): void {
    const now = this.#now();
    const refill = ((now - this.#updated) / 1000) * this.#rate;
    this.#tokens = Math.min(this.#burst, this.#tokens + refill);
    this.#updated = now;
  }
}

/**
 * One token bucket per key, created on first use. Full buckets are
 * forgotten every so often (a full bucket is what a new one would be), so
 * the table holds only the keys that used it lately.
 */
export class KeyedBuckets {
  readonly #options: TokenBucketOptions;
  readonly #now: () => number;
  readonly #buckets = new Map<string, TokenBucket>();
  #sweptAt: number;

  constructor(options: TokenBucketOptions) {
    this.#options = options;
    this.#now = options.now ?? (() => performance.now());
    this.#sweptAt = this.#now();
  }

  /** Keys with a bucket that is not full. */
  get size(): number {
    return this.#buckets.size;
  }

  /** Takes a token for `key`; always true when unlimited. */
  take(key: string): boolean {
    if (this.#options.rate === 0) return true;
    this.#sweepNowAndThen();
    let bucket = this.#buckets.get(key);
    if (!bucket) {
      bucket = new TokenBucket({ ...this.#options, now: this.#now });
      this.#buckets.set(key, bucket);
    }
    return bucket.take();
  }

  /**
   * Milliseconds until `key` can take a token, taking none (and making no
   * bucket): 0 when it can now.
   */
  msUntilToken(key: string): number {
    if (this.#options.rate === 0) return 0;
    this.#sweepNowAndThen();
    return this.#buckets.get(key)?.msUntilToken() ?? 0;
  }

  /** Forgets every full bucket. */
  sweep(): void {
    this.#sweptAt = this.#now();
    for (const [key, bucket] of this.#buckets) {
      if (bucket.isFull()) this.#buckets.delete(key);
    }
  }

  #sweepNowAndThen(): void {
    // Once the slowest bucket could have refilled: every full one goes.
    const refillMs = (this.#options.burst / this.#options.rate) * 1000;
    if (this.#now() - this.#sweptAt >= Math.max(1000, refillMs)) this.sweep();
  }
}

/** What to do with a message, given the sender's bucket. */
export type RateDecision = "accept" | "refuse" | "disconnect";

/** Options for {@linkcode FloodGuard}. */
export interface FloodGuardOptions {
  /** Takes a token from the sender's budget (its address's bucket). */
  readonly take: () => boolean;
  /** Refusals in a row after which the sender is cut off. */
  readonly tolerance: number;
}

/**
 * One connection's view of its sender's budget, counting refusals in a
 * row: a connection that keeps sending past the limit (more than
 * `tolerance` refusals without one accepted message) is flooding and
 * should be disconnected.
 */
export class FloodGuard {
  readonly #take: () => boolean;
  readonly #tolerance: number;
  #refusedInARow = 0;

  constructor(options: FloodGuardOptions) {
    this.#take = options.take;
    this.#tolerance = options.tolerance;
  }

  /** Decides about one incoming message. */
  check(): RateDecision {
    if (this.#take()) {
      this.#refusedInARow = 0;
      return "accept";
    }
    this.#refusedInARow += 1;
    return this.#refusedInARow > this.#tolerance ? "disconnect" : "refuse";
  }
}
