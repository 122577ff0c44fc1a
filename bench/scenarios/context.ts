/**
 * What every scenario of `deno task bench` shares: the report the tables
 * are built in, the checkout the chat server runs from, fresh room names,
 * and the progress lines on stderr.
 *
 * @module
 */

import type { LoadNumbers } from "../round_stats.ts";
import { Report } from "../report.ts";
import { type BenchServer, startChatServer } from "../servers.ts";

/** One run's shared state, passed to each scenario. */
export interface BenchContext {
  /** Where each scenario adds its rows and checks. */
  readonly report: Report;
  /** The checkout the chat server runs from (`--at`); this one when unset. */
  readonly chatRoot: string | undefined;
  /** A room prefix not used before in this run, e.g. `load-1a2b3c4d-7`. */
  roomPrefix(name: string): string;
}

/** A context for one run, with an empty report. */
export function createContext(chatRoot: string | undefined): BenchContext {
  const runId = crypto.randomUUID().slice(0, 8);
  let roomCounter = 0;
  return {
    report: new Report(),
    chatRoot,
    roomPrefix: (name) => `${name}-${runId}-${roomCounter++}`,
  };
}

/** A line of progress, on stderr beside the scenario's heading. */
export function progress(text: string): void {
  console.error(`  ${text}`);
}

/** Starts the chat server of the run's checkout. */
export function startChat(context: BenchContext): Promise<BenchServer> {
  return startChatServer(
    "this server",
    context.chatRoot ? { root: context.chatRoot } : {},
  );
}

/** The end of what a server printed, when something went wrong. */
export function showOutput(server: BenchServer): void {
  const lines = server.output().trimEnd().split("\n").slice(-20);
  progress(`${server.label} printed, last lines:\n    ${lines.join("\n    ")}`);
}

/** A server's CPU time per delivery, as the table shows it. */
export function cpuPerDelivery(numbers: LoadNumbers): string {
  return `CPU ${numbers.cpuMicros.toFixed(1)} µs/delivery`;
}
