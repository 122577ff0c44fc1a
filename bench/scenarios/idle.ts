/**
 * The `idle` and `idle-max` scenarios: what idle connections cost each
 * server in resident memory, and (for `idle`) what the idle process holds.
 *
 * @module
 */

import { sleep } from "../client.ts";
import { holdIdleClients } from "../idle_clients.ts";
import type { Plan } from "../plan.ts";
import { kib, mib, ratio, signedKib } from "../report.ts";
import {
  type BenchServer,
  type Resident,
  resident,
  residentBytes,
  startBaselineServer,
} from "../servers.ts";
import {
  type BenchContext,
  progress,
  showOutput,
  startChat,
} from "./context.ts";

/** What idle connections cost one server. */
interface IdleResult {
  /** Resident memory of the started server before any connection. */
  readonly idle: Resident;
  readonly perConnection: number;
  readonly held: number;
}

/** One idle scenario. */
export interface IdleOptions {
  /** How many idle connections each server holds. */
  readonly count: number;
  readonly waitMs: Plan["idleWaitMs"];
  /** Adds the row of the idle process's resident memory. */
  readonly withProcessRow: boolean;
}

/** Holds `count` idle connections on each server; adds the rows. */
export async function idle(
  context: BenchContext,
  { count, waitMs, withProcessRow }: IdleOptions,
): Promise<void> {
  const scenario = `${
    count.toLocaleString("en-US")
  } idle connections, memory per connection`;
  console.error(scenario);
  const name = `${count} idle`;
  const on = (start: () => Promise<BenchServer>) =>
    idleOn(context, { scenario: name, start, count, waitMs });
  const base = await on(() => startBaselineServer());
  const ours = await on(() => startChat(context));
  const held = (result: IdleResult) =>
    result.held === count ? "" : ` (${result.held} held)`;
  context.report.addRow({
    scenario,
    baseline: `${kib(base.perConnection)}${held(base)}`,
    chat: `${kib(ours.perConnection)}${held(ours)}`,
    ratio: signedKib(ours.perConnection - base.perConnection),
  });
  if (withProcessRow) {
    const memory = ({ idle }: IdleResult) =>
      `${mib(idle.total)} (${mib(idle.anonymous)} anonymous, ${
        mib(idle.file)
      } file)`;
    context.report.addRow({
      scenario: "idle process, resident memory",
      baseline: memory(base),
      chat: memory(ours),
      ratio: ratio(ours.idle.total / base.idle.total),
    });
  }
}

/** The idle connections held on one server. */
interface IdleOnOptions {
  /** The name in the checks table. */
  readonly scenario: string;
  readonly start: () => Promise<BenchServer>;
  readonly count: number;
  readonly waitMs: Plan["idleWaitMs"];
}

async function idleOn(
  context: BenchContext,
  { scenario, start, count, waitMs }: IdleOnOptions,
): Promise<IdleResult> {
  await using server = await start();
  await sleep(waitMs.started); // start-up garbage settles
  const idle = await resident(server.pid);
  const idleRss = idle.total;
  await using clients = await holdIdleClients({
    origin: server.wsOrigin,
    count,
    rooms: Math.max(1, Math.round(count / 50)),
    roomPrefix: context.roomPrefix("idle"),
  });
  await sleep(waitMs.admitted); // joins announced, buffers drained
  const rss = await residentBytes(server.pid);
  const closedEarly = await clients.release();
  if (clients.failed + closedEarly > 0) showOutput(server);
  const held = clients.admitted - closedEarly;
  const perConnection = (rss - idleRss) / count;
  progress(
    `${server.label}: ${clients.admitted}/${count} admitted in ${
      clients.seconds.toFixed(1)
    } s, ${held} held; RSS ${mib(idleRss)} → ${mib(rss)}, ${
      kib(perConnection)
    } per connection`,
  );
  context.report.addCheck({
    scenario,
    server: server.label,
    lost: 0,
    duplicates: 0,
    leaks: 0,
    failures: clients.failed + closedEarly,
    notes: clients.errors.join("; "),
  });
  return { idle, perConnection, held };
}
