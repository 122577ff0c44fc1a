/**
 * Per-connection flood control: a token bucket that refills at a steady
 * rate, plus the rule for when a refused sender is cut off.
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
    const now = this.#now();
    const refill = ((now - this.#updated) / 1000) * this.#rate;
    this.#tokens = Math.min(this.#burst, this.#tokens + refill);
    this.#updated = now;
    if (this.#tokens < 1) return false;
    this.#tokens -= 1;
    return true;
  }
}

/** What to do with a message, given the sender's bucket. */
export type RateDecision = "accept" | "refuse" | "disconnect";

/**
 * A bucket that also counts refusals in a row: a sender that keeps sending
 * past its limit (more than `burst` refusals without one accepted message)
 * is flooding and should be disconnected.
 */
export class FloodGuard {
  readonly #bucket: TokenBucket;
  readonly #tolerance: number;
  #refusedInARow = 0;

  constructor(options: TokenBucketOptions) {
    this.#bucket = new TokenBucket(options);
    this.#tolerance = options.burst;
  }

  /** Decides about one incoming message. */
  check(): RateDecision {
    if (this.#bucket.take()) {
      this.#refusedInARow = 0;
      return "accept";
    }
    this.#refusedInARow += 1;
    return this.#refusedInARow > this.#tolerance ? "disconnect" : "refuse";
  }
}
