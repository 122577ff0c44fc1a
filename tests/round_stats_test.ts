/**
 * The benchmark's summary of rounds: medians, and the median of the
 * rounds' ratios, which pairs each round with the baseline's of the same
 * index.
 *
 * @module
 */

import assert from "node:assert/strict";
import {
  type LoadNumbers,
  median,
  medianRatio,
  medians,
} from "../bench/round_stats.ts";

const round = (rate: number, cpu = 10): LoadNumbers => ({
  deliveriesPerSecond: rate,
  cpuMicros: cpu,
  p50Ms: 1,
  p99Ms: 2,
});

Deno.test("median takes the middle value, or the mean of the two middle ones", () => {
  assert.equal(median([3, 1, 2]), 2);
  assert.equal(median([4, 1, 3, 2]), 2.5);
  assert.ok(Number.isNaN(median([])));
});

Deno.test("medians sums up each number over the rounds on its own", () => {
  assert.deepEqual(medians([round(100, 9), round(300, 7), round(200, 8)]), {
    deliveriesPerSecond: 200,
    cpuMicros: 8,
    p50Ms: 1,
    p99Ms: 2,
  });
});

Deno.test("medianRatio divides each round by the baseline's round of the same index", async (t) => {
  await t.step(
    "each round's ratio counts, not the ratio of the medians",
    () => {
      // Round by round ours is 2x, 0.5x and 1.2x the baseline's: median
      // 1.2x. The two medians alone (200 against 250) would say 0.8x.
      const base = [round(100), round(400), round(250)];
      const ours = [round(200), round(200), round(300)];
      assert.equal(medianRatio(ours, base).deliveriesPerSecond, 1.2);
      assert.equal(
        medians(ours).deliveriesPerSecond / medians(base).deliveriesPerSecond,
        0.8,
      );
    },
  );
  await t.step("a round without a partner is left out", () => {
    assert.equal(
      medianRatio([round(200), round(300)], [round(100)]).deliveriesPerSecond,
      2,
    );
  });
});
