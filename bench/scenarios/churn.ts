/**
 * The `churn` scenario: another room's latency while members of a big
 * room leave and come back under new names, quiet against churning; this
 * server only (the baseline has no presence).
 *
 * @module
 */

import { type ChurnPhase, describeChurnPhase, runChurn } from "../churn.ts";
import type { Plan } from "../plan.ts";
import { kib, ratio } from "../report.ts";
import { median } from "../round_stats.ts";
import {
  type BenchContext,
  progress,
  showOutput,
  startChat,
} from "./context.ts";

/** The median over `phases` of one number of each. */
function of(
  phases: readonly ChurnPhase[],
  value: (phase: ChurnPhase) => number,
): number {
  return median(phases.map(value));
}

/** p50 / p99 / max of the other room over `phases`, as the table shows. */
function latency(phases: readonly ChurnPhase[]): string {
  return `${of(phases, ({ load }) => load.p50Ms).toFixed(2)} / ${
    of(phases, ({ load }) => load.p99Ms).toFixed(2)
  } / ${of(phases, ({ load }) => load.maxMs).toFixed(1)} ms`;
}

/** Runs the churn on the chat server; adds its rows, checks and target. */
export async function churn(
  context: BenchContext,
  plan: Plan["churn"],
  targetP99Ms: number,
): Promise<void> {
  const { report } = context;
  const other = plan.otherRoom;
  const scenario = `presence churn: a room of ${
    plan.members.toLocaleString("en-US")
  }, ${plan.cyclers} reconnecting under new names (${plan.reconnectsPerSecond}/s); another room: ${other.clientsPerRoom} clients, ${
    other.sendersPerRoom === 1 ? "1 sender" : `${other.sendersPerRoom} senders`
  } at ${other.ratePerSender} msg/s, p50 / p99 / max`;
  console.error(scenario);
  await using server = await startChat(context);
  const result = await runChurn({
    ...plan,
    origin: server.wsOrigin,
    roomPrefix: context.roomPrefix("churn"),
    pid: server.pid,
  });
  for (const [round, phase] of result.quiet.entries()) {
    progress(`${server.label}, quiet: ${describeChurnPhase(phase)}`);
    const churning = result.churning[round];
    if (churning) {
      progress(`${server.label}, churning: ${describeChurnPhase(churning)}`);
    }
  }
  const phases = [...result.quiet, ...result.churning];
  if (
    result.failures + result.errors.length +
        phases.reduce(
          (sum, { load }) =>
            sum + load.connectFailures + load.closedEarly + load.errors.length,
          0,
        ) >
      0
  ) showOutput(server);
  for (const { load } of phases) report.checkLoad("churn", server.label, load);
  report.addCheck({
    scenario: "churn",
    server: `${server.label} (the big room)`,
    lost: 0,
    duplicates: 0,
    leaks: 0,
    failures: result.failures,
    notes: result.errors.join("; "),
  });
  const reconnects = of(
    result.churning,
    ({ cycling }) => cycling ? cycling.cycles / cycling.seconds : NaN,
  );
  report.addRow({
    scenario,
    baseline: `n/a (no presence); room quiet: ${latency(result.quiet)}`,
    chat: `${latency(result.churning)}; ${
      of(result.churning, (phase) => phase.framesPerMemberSecond).toFixed(1)
    } frames (${
      kib(of(result.churning, (phase) => phase.bytesPerMemberSecond))
    }) per member per s at ${reconnects.toFixed(0)} reconnects/s`,
    ratio: `p99 ${
      ratio(
        of(result.churning, ({ load }) => load.p99Ms) /
          of(result.quiet, ({ load }) => load.p99Ms),
      )
    } (vs quiet)`,
  });
  const churningP99 = of(result.churning, ({ load }) => load.p99Ms);
  report.addTarget({
    target:
      `presence churn: the other room's p99 while the big room churns (${plan.reconnectsPerSecond}/s) under ${targetP99Ms} ms`,
    measured: `${churningP99.toFixed(2)} ms (quiet ${
      of(result.quiet, ({ load }) => load.p99Ms).toFixed(2)
    } ms) at ${reconnects.toFixed(0)} reconnects/s`,
    met: churningP99 < targetP99Ms,
  });
}
