/**
 * The two budgets a chat message draws on: its sender's (a signed user, a
 * browser `key`, or a socket with neither), so that the people behind one
 * address (an office, a school, a mobile carrier's NAT) each have their own
 * pace; and its address's, large but bounded, so that one address (minting
 * keys or opening sockets) cannot take more than a share of the server.
 *
 * @module
 */

import { KeyedBuckets } from "./rate_limit.ts";
import {
  SHARED_BUCKET_LANE,
  type SharedBucketTable,
  SharedKeyedBuckets,
} from "./shared_buckets.ts";

/** A rate in messages per second (0: unlimited) and the burst before it. */
export interface Rate {
  readonly rate: number;
  readonly burst: number;
}

/** Whose budget refused a message, if any. */
export type BudgetAnswer = "accepted" | "sender" | "address";

/** Options for {@linkcode MessageBudget}. */
export interface MessageBudgetOptions {
  /** Each sender's budget. */
  readonly sender: Rate;
  /** Each address's budget, over all its senders. */
  readonly address: Rate;
  /**
   * Shared memory for the budgets under `--workers`, so that every worker
   * draws on the same ones; without it this isolate keeps its own.
   * @default undefined
   */
  readonly table?: SharedBucketTable;
  /** Clock in ms, for tests. @default the buckets' own */
  readonly now?: () => number;
}

/** Something that keeps one token bucket per key. */
interface Buckets {
  take(key: string): boolean;
}

/** The budgets of one isolate (or of every worker, with a shared table). */
export class MessageBudget {
  readonly #senders: Buckets;
  readonly #addresses: Buckets;

  constructor(options: MessageBudgetOptions) {
    const clock = options.now ? { now: options.now } : {};
    const { table } = options;
    this.#senders = table
      ? new SharedKeyedBuckets({
        ...options.sender,
        ...clock,
        table,
        lane: SHARED_BUCKET_LANE.sender,
      })
      : new KeyedBuckets({ ...options.sender, ...clock });
    this.#addresses = table
      ? new SharedKeyedBuckets({
        ...options.address,
        ...clock,
        table,
        lane: SHARED_BUCKET_LANE.address,
      })
      : new KeyedBuckets({ ...options.address, ...clock });
  }

  /**
   * Takes one message from `sender`'s budget and then from `address`'s.
   * A message its sender may not send costs the address nothing, so that
   * one flooder does not spend the budget of everyone behind its address.
   */
  take(sender: string, address: string): BudgetAnswer {
    if (!this.#senders.take(sender)) return "sender";
    return this.#addresses.take(address) ? "accepted" : "address";
  }
}
