/**
 * The `storm` scenario: clients of several rooms drop and come back with
 * `since=` while messages go on; recovery time and losses, this server
 * only (the baseline has no `since=`).
 *
 * @module
 */

import type { Plan } from "../plan.ts";
import { describeStorm, runStorm } from "../reconnect_storm.ts";
import {
  type BenchContext,
  progress,
  showOutput,
  startChat,
} from "./context.ts";

/** Runs the reconnect storm on the chat server and adds its rows. */
export async function storm(
  context: BenchContext,
  plan: Plan["storm"],
): Promise<void> {
  const clients = plan.rooms * plan.clientsPerRoom;
  const scenario = `reconnect storm: ${
    clients.toLocaleString("en-US")
  } clients in ${plan.rooms} rooms drop and come back with since=, ${plan.ratePerSender} msg/s per room go on`;
  console.error(scenario);
  await using server = await startChat(context);
  const result = await runStorm({
    ...plan,
    origin: server.wsOrigin,
    roomPrefix: context.roomPrefix("storm"),
  });
  progress(`${server.label}: ${describeStorm(result)}`);
  if (result.notRecovered + result.errors.length > 0) showOutput(server);
  context.report.addCheck({
    scenario: "reconnect storm",
    server: server.label,
    lost: result.lost,
    duplicates: result.duplicates,
    leaks: 0,
    failures: result.notRecovered + (result.errors.length > 0 ? 1 : 0),
    notes: result.errors.join("; "),
  });
  context.report.addRow({
    scenario,
    baseline: "n/a (no since=)",
    chat: `all recovered in ${result.recoverySeconds.toFixed(2)} s (median ${
      result.medianRecoverySeconds.toFixed(2)
    } s), ${result.lost} lost`,
    ratio: "",
  });
}
