/**
 * The numbers a load's round gives the results table, and how the rounds
 * of a scenario are summed up: each server's medians, and the median of
 * the rounds' ratios (docs/benchmarks.md, "How it measures").
 *
 * @module
 */

/** What the table shows of a round, of a server's rounds, or of ratios. */
export interface LoadNumbers {
  readonly deliveriesPerSecond: number;
  /** Server CPU time (all threads) per delivery, in microseconds. */
  readonly cpuMicros: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
}

/** The median of some numbers (NaN for none). */
export function median(values: readonly number[]): number {
  const sorted = [...values].sort((x, y) => x - y);
  const middle = Math.floor(sorted.length / 2);
  if (sorted.length === 0) return NaN;
  return sorted.length % 2
    ? sorted[middle] ?? NaN
    : ((sorted[middle - 1] ?? NaN) + (sorted[middle] ?? NaN)) / 2;
}

/** Each number's median over `rounds`. */
export function medians(rounds: readonly LoadNumbers[]): LoadNumbers {
  return {
    deliveriesPerSecond: median(rounds.map((r) => r.deliveriesPerSecond)),
    cpuMicros: median(rounds.map((r) => r.cpuMicros)),
    p50Ms: median(rounds.map((r) => r.p50Ms)),
    p99Ms: median(rounds.map((r) => r.p99Ms)),
  };
}

/** Each of `ours`'s numbers divided by `base`'s. */
export function divided(ours: LoadNumbers, base: LoadNumbers): LoadNumbers {
  return {
    deliveriesPerSecond: ours.deliveriesPerSecond / base.deliveriesPerSecond,
    cpuMicros: ours.cpuMicros / base.cpuMicros,
    p50Ms: ours.p50Ms / base.p50Ms,
    p99Ms: ours.p99Ms / base.p99Ms,
  };
}

/**
 * The median over the rounds of `ours` divided by `base` in the same round
 * (rounds paired by index; an unpaired one is left out).
 */
export function medianRatio(
  ours: readonly LoadNumbers[],
  base: readonly LoadNumbers[],
): LoadNumbers {
  return medians(ours.flatMap((round, index) => {
    const other = base[index];
    return other ? [divided(round, other)] : [];
  }));
}
