/**
 * A load run against the baseline and the chat server (and the storing
 * floor, when asked) in alternating rounds, reduced to each server's
 * medians and the median of the rounds' ratios: what the burst, paced and
 * workers scenarios measure.
 *
 * @module
 */

import { describeLoad, type LoadResult, runLoad } from "../load.ts";
import type { LoadShape, Plan } from "../plan.ts";
import { type LoadNumbers, medianRatio, medians } from "../round_stats.ts";
import {
  type BenchServer,
  type CpuReading,
  cpuSecondsBetween,
  readCpu,
  settled,
  startBaselineServer,
  startChatServer,
} from "../servers.ts";
import { type BenchContext, progress, showOutput } from "./context.ts";

/** A load's result and the server's CPU time per delivery. */
export interface Measured {
  readonly result: LoadResult;
  readonly cpuMicros: number;
}

/** The numbers of one round that the table shows. */
export function shown({ result, cpuMicros }: Measured): LoadNumbers {
  return {
    deliveriesPerSecond: result.deliveriesPerSecond,
    cpuMicros,
    p50Ms: result.p50Ms,
    p99Ms: result.p99Ms,
  };
}

/** Each server's medians, and the median of the rounds' ratios. */
export interface Pair {
  readonly base: LoadNumbers;
  readonly ours: LoadNumbers;
  /**
   * The median over the rounds of this server's number divided by the
   * baseline's in the same round, a few seconds apart: the machine's slow
   * spells, which last longer than a round, mostly fall on both numbers
   * of a round and cancel out, where a ratio of the two servers' medians
   * keeps whichever of them caught more slow rounds (a run of the
   * `--workers 2` burst: 1.01× as a ratio of medians, 1.22× as the
   * median of its rounds' ratios; docs/benchmarks.md).
   */
  readonly ratio: LoadNumbers;
  /** Against the storing floor, when the load was run on it too. */
  readonly floor?: {
    readonly numbers: LoadNumbers;
    /** This server's number over the floor's, as {@linkcode Pair.ratio}. */
    readonly ratio: LoadNumbers;
  };
}

/** How many rounds of a load, and how long each waits for quiet servers. */
export interface Rounds {
  readonly count: number;
  /** See {@linkcode Plan.settleQuietMs}. */
  readonly quietMs: Plan["settleQuietMs"];
}

/** What {@linkcode loadPair} runs, and on which servers. */
export interface PairOptions {
  /** The scenario's name in the checks table, e.g. `"burst small"`. */
  readonly name: string;
  readonly load: LoadShape;
  readonly rounds: Rounds;
  /** Flags of the chat server, e.g. `["--workers", "2"]`. @default none */
  readonly flags?: readonly string[];
  /**
   * Runs the load on the storing floor too (bench/baseline_server.ts
   * with a SQLite `INSERT` per message). @default false
   */
  readonly storingFloor?: boolean;
}

/**
 * Starts the baseline and the chat server (and the storing floor, when
 * asked), warms them up, then runs `load` against each in turn,
 * `rounds.count` times, each time in fresh rooms: alternating spreads the
 * machine's noise over all of them. Returns each server's medians and the
 * median of the rounds' ratios.
 */
export async function loadPair(
  context: BenchContext,
  options: PairOptions,
): Promise<Pair> {
  const { name, load, rounds } = options;
  const flags = options.flags ?? [];
  await using baseline = await startBaselineServer();
  await using chat = await startChatServer(
    flags.length ? `this server (${flags.join(" ")})` : "this server",
    { flags, ...(context.chatRoot ? { root: context.chatRoot } : {}) },
  );
  await using floor = options.storingFloor
    ? await startBaselineServer("featureless Deno + SQLite INSERT", {
      storing: true,
    })
    : undefined;
  const servers = floor ? [baseline, chat, floor] : [baseline, chat];
  // One round of the load itself, not measured, in rooms of its own: a
  // fresh server's code is not yet optimised by the JIT (nor, under
  // `--workers 2`, each worker's), and a round of a smaller load left this
  // server's first measured rounds 10-30% dearer in CPU than its later ones.
  for (const server of servers) {
    const warmUp = await runLoad({
      ...load,
      origin: server.wsOrigin,
      roomPrefix: context.roomPrefix("warm"),
    });
    if (warmUp.lost + warmUp.errors.length > 0) {
      progress(`${server.label} warm-up: ${describeLoad(warmUp)}`);
      showOutput(server);
    }
  }
  const results = new Map<BenchServer, Measured[]>(
    servers.map((server) => [server, []]),
  );
  for (let round = 0; round < rounds.count; round++) {
    for (const server of servers) {
      // What the last load left to do (on either server, and in this
      // process) is done first, not during this load. Without the wait the
      // order mattered: the paced p99 ratio was 1.48-1.53× with the
      // baseline first every round and 1.62-1.68× with the order reversed
      // every other round; with it, 1.47× both ways.
      await Promise.all(
        servers.map(({ pid }) => settled(pid, rounds.quietMs)),
      );
      const measured = await measureRound(context, server, load);
      if (
        measured.result.connectFailures + measured.result.closedEarly +
            measured.result.errors.length > 0
      ) showOutput(server);
      context.report.checkLoad(name, server.label, measured.result);
      results.get(server)?.push(measured);
    }
  }
  const base = (results.get(baseline) ?? []).map(shown);
  const ours = (results.get(chat) ?? []).map(shown);
  const stored = floor ? (results.get(floor) ?? []).map(shown) : undefined;
  return {
    base: medians(base),
    ours: medians(ours),
    ratio: medianRatio(ours, base),
    ...(stored
      ? {
        floor: { numbers: medians(stored), ratio: medianRatio(ours, stored) },
      }
      : {}),
  };
}

/**
 * Runs `load` on `server` in fresh rooms named after `kind`, and measures
 * the server's CPU time per delivery from the first message sent to the
 * last delivered.
 */
export async function loadWithCpu(
  context: BenchContext,
  server: BenchServer,
  load: LoadShape,
  kind: string,
): Promise<Measured> {
  const cpu = new Map<string, CpuReading>();
  const result = await runLoad({
    ...load,
    origin: server.wsOrigin,
    roomPrefix: context.roomPrefix(kind),
    onPhase: async (phase) => {
      cpu.set(phase, await readCpu(server.pid));
    },
  });
  const sending = cpu.get("sending");
  const done = cpu.get("done");
  const cpuMicros = sending && done
    ? cpuSecondsBetween(sending, done) * 1e6 / Math.max(1, result.delivered)
    : NaN;
  return { result, cpuMicros };
}

/** One measured round of `load` on `server`, in fresh rooms. */
async function measureRound(
  context: BenchContext,
  server: BenchServer,
  load: LoadShape,
): Promise<Measured> {
  const measured = await loadWithCpu(context, server, load, "load");
  progress(
    `${server.label}: ${describeLoad(measured.result)}; server CPU ${
      measured.cpuMicros.toFixed(1)
    } µs per delivery`,
  );
  return measured;
}
