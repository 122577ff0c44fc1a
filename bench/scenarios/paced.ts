/**
 * The `paced` scenario: a few messages per second per sender, latency
 * from send to delivery (p50 / p99), against the baseline and against the
 * storing floor in the same rounds.
 *
 * @module
 */

import type { LoadShape } from "../plan.ts";
import { ratio } from "../report.ts";
import type { LoadNumbers } from "../round_stats.ts";
import { type BenchContext, cpuPerDelivery } from "./context.ts";
import { loadPair, type Rounds } from "./load_pair.ts";

/** The paced scenario's load. */
export interface PacedOptions {
  /** The heading and the row's label in the results table. */
  readonly scenario: string;
  readonly load: LoadShape;
  readonly rounds: Rounds;
}

/** Runs the paced load and adds its rows to the report. */
export async function paced(
  context: BenchContext,
  { scenario, load, rounds }: PacedOptions,
): Promise<void> {
  console.error(scenario);
  const { base, ours, ratio: paired, floor } = await loadPair(context, {
    name: "paced",
    load,
    rounds,
    storingFloor: true,
  });
  // The CPU beside the latency: with the generator on the same two CPUs,
  // what a server spends per message shows in the p99 wherever in the
  // message's way it is spent (docs/benchmarks.md, "Paced latency").
  const ms = (result: LoadNumbers) =>
    `${result.p50Ms.toFixed(2)} / ${result.p99Ms.toFixed(2)} ms (${
      cpuPerDelivery(result)
    })`;
  context.report.addRow({
    scenario,
    baseline: ms(base),
    chat: ms(ours),
    ratio: `p99 ${ratio(paired.p99Ms)} (CPU ${ratio(paired.cpuMicros)})`,
  });
  if (floor) {
    // The same rounds against the least a server that stores each message
    // before sending it does: what storing costs at all is in the floor,
    // what this server adds to it is in the ratio.
    context.report.addRow({
      scenario:
        "paced, the same rounds against a floor that stores (in the baseline column): the featureless server with one SQLite INSERT per message before it sends",
      baseline: ms(floor.numbers),
      chat: ms(ours),
      ratio: `p99 ${ratio(floor.ratio.p99Ms)} (CPU ${
        ratio(floor.ratio.cpuMicros)
      })`,
    });
  }
}
