/**
 * The sizes of every scenario of `deno task bench` (bench/run.ts): the full
 * plan, whose numbers docs/benchmarks.md reports, and the quick one that
 * runs in under a minute.
 *
 * @module
 */

import { parseArgs } from "node:util";
import type { ChurnOptions } from "./churn.ts";
import type { LoadOptions } from "./load.ts";
import type { StormOptions } from "./reconnect_storm.ts";

/** A load's shape, without where it goes. */
export type LoadShape = Omit<LoadOptions, "origin" | "roomPrefix">;

/** The sizes of every scenario, full or quick. */
export interface Plan {
  /**
   * Measurements of each burst, alternating the servers. A burst lasts a
   * second or two, and with three rounds one slow round of ours meeting a
   * fast one of the baseline's moved `--workers 2` from 1.37× to 1.04×.
   */
  readonly rounds: number;
  /**
   * Rounds of the paced load: its p99 moves from round to round far more
   * than the bursts' rates do, and a median of more rounds moves less.
   */
  readonly pacedRounds: number;
  /**
   * How long both servers must have been quiet (ms) before each round:
   * what the last round left to do is done first, not during this one.
   */
  readonly settleQuietMs: number;
  readonly burst: LoadShape;
  readonly burstSmall: LoadShape;
  readonly paced: LoadShape;
  readonly idle: number;
  readonly idleMax: number;
  /**
   * How long an idle server is left alone (ms) after it started, for its
   * start-up garbage to settle, and after its last idle socket was
   * admitted, for the joins to be announced and the buffers drained,
   * before its memory is read.
   */
  readonly idleWaitMs: { readonly started: number; readonly admitted: number };
  readonly storm: Omit<StormOptions, "origin" | "roomPrefix">;
  readonly churn: Omit<ChurnOptions, "origin" | "roomPrefix" | "pid">;
  /**
   * The other room's p99 (ms) to stay under while the big room churns: the
   * report says whether the run met it.
   */
  readonly churnTargetP99Ms: number;
}

export const FULL_PLAN: Plan = {
  rounds: 7,
  pacedRounds: 15,
  settleQuietMs: 1200,
  burst: {
    rooms: 20,
    clientsPerRoom: 50,
    sendersPerRoom: 2,
    messagesPerSender: 100,
  },
  burstSmall: {
    rooms: 10,
    clientsPerRoom: 10,
    sendersPerRoom: 1,
    messagesPerSender: 200,
  },
  paced: {
    rooms: 10,
    clientsPerRoom: 10,
    sendersPerRoom: 1,
    messagesPerSender: 200,
    ratePerSender: 50,
  },
  idle: 5000,
  idleMax: 15_000,
  idleWaitMs: { started: 1000, admitted: 2000 },
  storm: { rooms: 20, clientsPerRoom: 100, ratePerSender: 10 },
  churn: {
    members: 2000,
    // 2 reconnects a second each, 300 in all.
    cyclers: 150,
    reconnectsPerSecond: 300,
    otherRoom: {
      clientsPerRoom: 10,
      sendersPerRoom: 1,
      messagesPerSender: 1000,
      ratePerSender: 50,
    },
    // Its p99 swings between rounds more than any other number here: a
    // median of three.
    rounds: 3,
  },
  churnTargetP99Ms: 50,
};

export const QUICK_PLAN: Plan = {
  rounds: 1,
  pacedRounds: 1,
  // Half the full plan's: one round of each load, whose numbers show the
  // way, not the ratio to quote.
  settleQuietMs: 600,
  burst: {
    rooms: 5,
    clientsPerRoom: 20,
    sendersPerRoom: 2,
    messagesPerSender: 50,
  },
  burstSmall: {
    rooms: 5,
    clientsPerRoom: 10,
    sendersPerRoom: 1,
    messagesPerSender: 100,
  },
  paced: {
    rooms: 5,
    clientsPerRoom: 10,
    sendersPerRoom: 1,
    messagesPerSender: 50,
    ratePerSender: 50,
  },
  idle: 500,
  idleMax: 1500,
  // A tenth of the sockets: the memory is read sooner, so that the whole
  // quick run stays under a minute.
  idleWaitMs: { started: 500, admitted: 1000 },
  storm: {
    rooms: 5,
    clientsPerRoom: 40,
    ratePerSender: 10,
    warmupMs: 500,
    afterMs: 500,
  },
  churn: {
    members: 500,
    cyclers: 50,
    reconnectsPerSecond: 100,
    otherRoom: {
      clientsPerRoom: 10,
      sendersPerRoom: 1,
      messagesPerSender: 100,
      ratePerSender: 50,
    },
    rounds: 1,
    settleMs: 1000,
  },
  churnTargetP99Ms: 50,
};

/** A load's shape in words, for the table: "10 rooms × 10 clients, …". */
export function loadLabel(load: LoadShape): string {
  const senders = load.sendersPerRoom === 1
    ? "1 sender"
    : `${load.sendersPerRoom} senders`;
  return `${load.rooms} rooms × ${load.clientsPerRoom} clients, ${senders} per room, ${load.messagesPerSender} messages each`;
}

/** The scenarios, in the order they run; names for `--only`. */
export const SCENARIOS = [
  "burst",
  "small",
  "paced",
  "idle",
  "workers",
  "idle-max",
  "storm",
  "churn",
  "dead-hook",
] as const;

/** One scenario's name. */
export type ScenarioName = typeof SCENARIOS[number];

function isScenario(name: string): name is ScenarioName {
  return SCENARIOS.some((scenario) => scenario === name);
}

/** What the command line of bench/run.ts asks for. */
export interface BenchArgs {
  /** The quick plan instead of the full one. */
  readonly quick: boolean;
  /** The scenarios to run; every one when empty. */
  readonly only: readonly ScenarioName[];
  /** The commit whose chat server runs, instead of the work tree. */
  readonly at: string | undefined;
  /** Whether the older benchmarks follow the table. */
  readonly extras: boolean;
}

/** The benchmark's command line, for its error messages. */
export const BENCH_USAGE =
  "deno task bench [--quick] [--only burst,small,...] [--at REV] [--no-extras]";

/** The command line could not be read: the message says what was wrong. */
export class BenchUsageError extends Error {
  override name = "BenchUsageError";
}

/**
 * Reads the benchmark's command line.
 *
 * @throws {BenchUsageError} for an unknown flag, a missing value or an
 * unknown scenario name, rather than running something else than asked.
 */
export function parseBenchArgs(args: readonly string[]): BenchArgs {
  let values;
  try {
    ({ values } = parseArgs({
      args: [...args],
      options: {
        quick: { type: "boolean", default: false },
        only: { type: "string" },
        at: { type: "string" },
        "no-extras": { type: "boolean", default: false },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (error) {
    if (error instanceof TypeError) throw new BenchUsageError(error.message);
    throw error;
  }
  const only: ScenarioName[] = [];
  if (values.only !== undefined) {
    for (const name of values.only.split(",")) {
      if (!isScenario(name)) {
        throw new BenchUsageError(
          `Unknown scenario "${name}" for --only; the scenarios are ${
            SCENARIOS.join(", ")
          }`,
        );
      }
      only.push(name);
    }
  }
  if (values.at === "") {
    throw new BenchUsageError("--at needs a commit, e.g. --at HEAD");
  }
  return {
    quick: values.quick,
    only,
    at: values.at,
    extras: !values["no-extras"],
  };
}
