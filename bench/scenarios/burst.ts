/**
 * The burst scenarios (`burst`, `small`, `workers`): every sender sends
 * all its messages at once; deliveries per second and the server's CPU
 * per delivery, against the baseline.
 *
 * @module
 */

import type { LoadShape } from "../plan.ts";
import { rate, ratio } from "../report.ts";
import type { LoadNumbers } from "../round_stats.ts";
import { type BenchContext, cpuPerDelivery } from "./context.ts";
import { loadPair, type Rounds } from "./load_pair.ts";

/** One burst scenario. */
export interface BurstOptions {
  /** The name in the checks table, e.g. `"burst small"`. */
  readonly name: string;
  /** The heading and the row's label in the results table. */
  readonly scenario: string;
  readonly load: LoadShape;
  readonly rounds: Rounds;
  /** Flags of the chat server, e.g. `["--workers", "2"]`. @default none */
  readonly flags?: readonly string[];
}

/** Runs a burst on both servers and adds its row to the report. */
export async function burst(
  context: BenchContext,
  { name, scenario, load, rounds, flags = [] }: BurstOptions,
): Promise<void> {
  console.error(scenario);
  const { base, ours, ratio: paired } = await loadPair(context, {
    name,
    load,
    rounds,
    flags,
  });
  const cpu = (numbers: LoadNumbers) =>
    `${rate(numbers.deliveriesPerSecond)} (${cpuPerDelivery(numbers)})`;
  context.report.addRow({
    scenario,
    baseline: cpu(base),
    chat: cpu(ours),
    ratio: `${ratio(paired.deliveriesPerSecond)} (CPU ${
      ratio(paired.cpuMicros)
    })`,
  });
}
