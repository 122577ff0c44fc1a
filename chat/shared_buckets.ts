/**
 * Token buckets per key in shared memory, so that the workers of one process
 * (`--workers N`) draw on one budget per client address: the kernel spreads
 * an address's sockets over the workers, and a budget per worker would let
 * it send N times the rate. No round trip to the main thread per message:
 * each bucket is one 64-bit word updated with compare-and-swap.
 *
 * The table is open-addressed: a key's slot holds a 32-bit tag of the key
 * and its state (millitokens and the time of the last refill). A slot whose
 * bucket has refilled completely is worth nothing to its key (a new bucket
 * is full too), so another key may take it over. When every slot a key may
 * use is held by others, the key falls back to a bucket of this worker alone,
 * so a crowded table degrades, never refuses.
 *
 * A table has a lane of slots per kind of budget
 * ({@linkcode SHARED_BUCKET_LANE}): a slot is judged full by the burst of
 * its own kind only.
 *
 * @module
 */

import { KeyedBuckets, type TokenBucketOptions } from "./rate_limit.ts";

/** Slots in one lane of the table; a power of two. */
export const SHARED_BUCKET_SLOTS = 1 << 16;
/** The kinds of budget one table holds, each in a lane of its own. */
export const SHARED_BUCKET_LANE = {
  /** Each sender's messages. */
  sender: 0,
  /** Each client address's messages. */
  address: 1,
  /** Each client address's failed sign-ins to the admin console. */
  signInFailure: 2,
} as const;
/** How many lanes a table has. */
export const SHARED_BUCKET_LANES = Object.keys(SHARED_BUCKET_LANE).length;
/** Slots a key may try before falling back to a local bucket. */
const PROBES = 8;
/**
 * The state word: millitokens in the upper 30 bits (a burst of up to a
 * million), below them the time of the last refill in 10 ms units since the
 * epoch, modulo 2^33 (994 days: differences stay right across the wrap).
 */
const TIME_BITS = 33n;
const TIME_MASK = (1n << TIME_BITS) - 1n;
const TIME_UNIT_MS = 10;

/** Bytes of shared memory a table needs (tags, then 8-byte states). */
export const SHARED_BUCKET_BYTES = SHARED_BUCKET_LANES * SHARED_BUCKET_SLOTS *
  (4 + 8);

/** The shared memory of one table, and the clock's zero for all its users. */
export interface SharedBucketTable {
  readonly buffer: SharedArrayBuffer;
  /** `Date.now()` when the table was made: times are stored relative to it. */
  readonly epoch: number;
}

/**
 * Makes the table of a process; give it to every worker. `epoch` is the
 * clock's reading now, on the clock its users are given. @default Date.now()
 */
export function createSharedBucketTable(
  epoch: number = Date.now(),
): SharedBucketTable {
  return { buffer: new SharedArrayBuffer(SHARED_BUCKET_BYTES), epoch };
}

/** Whether `value` is a table as {@linkcode createSharedBucketTable} makes. */
export function isSharedBucketTable(
  value: unknown,
): value is SharedBucketTable {
  return typeof value === "object" && value !== null &&
    "buffer" in value && value.buffer instanceof SharedArrayBuffer &&
    value.buffer.byteLength === SHARED_BUCKET_BYTES &&
    "epoch" in value && typeof value.epoch === "number";
}

/** FNV-1a over the UTF-16 units of `key`; never 0 (0 marks a free slot). */
function tagOf(key: string): number {
  let hash = 0x811c9dc5;
  for (let index = 0; index < key.length; index++) {
    hash ^= key.charCodeAt(index);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash === 0 ? 1 : hash;
}

/** The slot a key of `tag` tries at its `probe`th try. */
function probedSlot(tag: number, probe: number): number {
  return ((tag >>> 0) + probe * 0x9e3779b1) & (SHARED_BUCKET_SLOTS - 1);
}

/** Options for {@linkcode SharedKeyedBuckets}. */
export interface SharedKeyedBucketsOptions extends TokenBucketOptions {
  readonly table: SharedBucketTable;
  /**
   * The lane of the table these buckets use, below
   * {@linkcode SHARED_BUCKET_LANES}; every kind of budget needs its own.
   * @default 0
   */
  readonly lane?: number;
}

/** One budget per key, shared by every worker holding the same table. */
export class SharedKeyedBuckets {
  readonly #tags: Int32Array;
  readonly #states: BigInt64Array;
  readonly #rate: number;
  readonly #burstMilli: bigint;
  readonly #epoch: number;
  readonly #now: () => number;
  /** Keys that found no free slot: this worker's own buckets. */
  readonly #overflow: KeyedBuckets;

  constructor(options: SharedKeyedBucketsOptions) {
    const { buffer, epoch } = options.table;
    const lane = options.lane ?? 0;
    if (!Number.isInteger(lane) || lane < 0 || lane >= SHARED_BUCKET_LANES) {
      throw new RangeError(
        `A bucket table has lanes 0 to ${SHARED_BUCKET_LANES - 1}, not ${lane}`,
      );
    }
    const tags = SHARED_BUCKET_LANES * SHARED_BUCKET_SLOTS * 4;
    this.#tags = new Int32Array(
      buffer,
      lane * SHARED_BUCKET_SLOTS * 4,
      SHARED_BUCKET_SLOTS,
    );
    this.#states = new BigInt64Array(
      buffer,
      tags + lane * SHARED_BUCKET_SLOTS * 8,
      SHARED_BUCKET_SLOTS,
    );
    this.#rate = options.rate;
    this.#burstMilli = BigInt(Math.round(options.burst * 1000));
    this.#epoch = epoch;
    this.#now = options.now ?? Date.now;
    this.#overflow = new KeyedBuckets(options);
  }

  /** Takes a token for `key`; always true when unlimited. */
  take(key: string): boolean {
    if (this.#rate === 0) return true;
    const tag = tagOf(key);
    // A slot can change hands between finding it and taking from it: look
    // again, a few times at most.
    for (let round = 0; round < 3; round++) {
      const slot = this.#slotFor(tag);
      if (slot === undefined) break;
      const taken = this.#takeAt(slot, tag);
      if (taken !== undefined) return taken;
    }
    return this.#overflow.take(key);
  }

  /**
   * Milliseconds until `key` can take a token, taking none (and claiming no
   * slot): 0 when it can now.
   */
  msUntilToken(key: string): number {
    if (this.#rate === 0) return 0;
    const slot = this.#heldSlot(tagOf(key));
    if (slot === undefined) return this.#overflow.msUntilToken(key);
    const state = Atomics.load(this.#states, slot);
    const missing = 1000n - this.#refilled(state, this.#time());
    // rate tokens a second is rate millitokens a millisecond.
    return missing > 0n ? Math.ceil(Number(missing) / this.#rate) : 0;
  }

  /** The slot `tag` holds, if it holds one. */
  #heldSlot(tag: number): number | undefined {
    for (let probe = 0; probe < PROBES; probe++) {
      const slot = probedSlot(tag, probe);
      if (Atomics.load(this.#tags, slot) === tag) return slot;
    }
    return undefined;
  }

  /** The slot `tag` holds or can claim, if any of its probes is free. */
  #slotFor(tag: number): number | undefined {
    for (let probe = 0; probe < PROBES; probe++) {
      const slot = probedSlot(tag, probe);
      const held = Atomics.load(this.#tags, slot);
      if (held === tag || this.#claim(slot, held, tag)) return slot;
    }
    return undefined;
  }

  /** Time units since the table's epoch, modulo the time field. */
  #time(): bigint {
    const units = Math.floor((this.#now() - this.#epoch) / TIME_UNIT_MS);
    return BigInt(Math.max(0, units)) & TIME_MASK;
  }

  /** The millitokens of `state` refilled up to `time`. */
  #refilled(state: bigint, time: bigint): bigint {
    const milli = state >> TIME_BITS;
    const then = state & TIME_MASK;
    const elapsed = (time - then) & TIME_MASK;
    // rate tokens a second is 10 × rate millitokens per 10 ms unit.
    const refill = elapsed * BigInt(Math.round(this.#rate * TIME_UNIT_MS));
    const total = milli + refill;
    return total > this.#burstMilli ? this.#burstMilli : total;
  }

  /**
   * Takes a free slot, or one whose bucket has refilled completely (worth
   * nothing to its key), for `tag`, with a full bucket.
   */
  #claim(slot: number, held: number, tag: number): boolean {
    if (held !== 0) {
      const state = Atomics.load(this.#states, slot);
      if (this.#refilled(state, this.#time()) < this.#burstMilli) return false;
    }
    if (Atomics.compareExchange(this.#tags, slot, held, tag) !== held) {
      return false;
    }
    const full = (this.#burstMilli << TIME_BITS) | this.#time();
    Atomics.store(this.#states, slot, full);
    return true;
  }

  /** Takes a token from the slot of `tag`; undefined if it changed hands. */
  #takeAt(slot: number, tag: number): boolean | undefined {
    for (;;) {
      if (Atomics.load(this.#tags, slot) !== tag) return undefined;
      const state = Atomics.load(this.#states, slot);
      const time = this.#time();
      const milli = this.#refilled(state, time);
      if (milli < 1000n) return false;
      const next = ((milli - 1000n) << TIME_BITS) | time;
      if (Atomics.compareExchange(this.#states, slot, state, next) === state) {
        return true;
      }
    }
  }
}
