/**
 * `deno task bench`: every scenario of the benchmark, run against the
 * featureless baseline (bench/baseline_server.ts) and against the chat
 * server in the same run, on servers started fresh for each scenario
 * (loads: both warmed up by a round of the load, then measured in turn,
 * seven rounds of each burst and 15 of the paced load, medians kept, and
 * the ratio the median of the rounds' ratios); prints a markdown table
 * with the ratios, which survive a noisy machine better than the numbers
 * do, and a table of what each scenario checked (losses, duplicates,
 * cross-room leaks, failed sockets). Exits 1 when any check failed.
 *
 *     deno run -A bench/run.ts [--quick] [--only burst,small,...] [--at REV] [--no-extras]
 *
 * Scenarios, in order (names for `--only`): `burst`, `small` (burst,
 * small), `paced` (also run on the storing floor, the baseline with a
 * SQLite `INSERT` per message, in the same rounds), `idle` (5 000 idle
 * connections and the idle process),
 * `workers` (burst under `--workers 2`), `idle-max` (15 000 idle
 * connections), `storm` (reconnect storm, this server only), `churn`
 * (another room's latency while members of a 2 000-member room leave and
 * come back, this server only: quiet against churning), `dead-hook` (the
 * paced load with webhooks to a receiver that never answers, against one
 * that answers, against webhooks off, and a second live one for the noise).
 *
 * `--quick` runs a small version of every scenario, in under a minute.
 * `--at REV` runs the chat server of a commit (`git archive REV` into a
 * temporary folder) instead of the work tree, e.g. to measure `HEAD`
 * while files are being edited.
 * Without `--quick` or `--only`, bench/slow_client_memory.ts and
 * bench/scale_out.ts follow (`--no-extras` skips them; scale_out needs
 * `redis-server`). An unknown flag or scenario is an error (exit 2), not a
 * run of something else.
 *
 * The scenarios' sizes and the command line are read in bench/plan.ts; each
 * scenario is a module of bench/scenarios/; the tables are built in
 * bench/report.ts.
 *
 * @module
 */

import {
  BENCH_USAGE,
  type BenchArgs,
  BenchUsageError,
  FULL_PLAN,
  loadLabel,
  parseBenchArgs,
  QUICK_PLAN,
  type ScenarioName,
  SCENARIOS,
} from "./plan.ts";
import { exportRevision, killAllServers } from "./servers.ts";
import { burst } from "./scenarios/burst.ts";
import { churn } from "./scenarios/churn.ts";
import { createContext } from "./scenarios/context.ts";
import { idle } from "./scenarios/idle.ts";
import { paced } from "./scenarios/paced.ts";
import { deadReceiver } from "./scenarios/dead_receiver.ts";
import { storm } from "./scenarios/storm.ts";

/** The load average, to tell a quiet machine from a busy one. */
function loadAverage(): string {
  try {
    return Deno.readTextFileSync("/proc/loadavg").split(" ").slice(0, 3)
      .join(" ");
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return "unknown";
    throw error;
  }
}

/** The benchmarks that were here before, as they are. */
async function extras(): Promise<void> {
  for (
    const [script, args] of [
      ["slow_client_memory.ts", []],
      ["scale_out.ts", []],
    ] as const
  ) {
    console.log(`\n## bench/${script}\n`);
    const { code } = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--allow-all",
        new URL(`./${script}`, import.meta.url).pathname,
        ...args,
      ],
      stdin: "null",
      stdout: "inherit",
      stderr: "inherit",
    }).spawn().status;
    if (code !== 0) console.log(`bench/${script} exited with ${code}`);
  }
}

async function main(args: string[]): Promise<number> {
  let parsed: BenchArgs;
  try {
    parsed = parseBenchArgs(args);
  } catch (error) {
    if (!(error instanceof BenchUsageError)) throw error;
    console.error(`${error.message}\nUsage: ${BENCH_USAGE}`);
    return 2;
  }
  const { quick, only, at: rev } = parsed;
  const wanted = (name: ScenarioName) =>
    only.length === 0 || only.includes(name);
  const plan = quick ? QUICK_PLAN : FULL_PLAN;
  const burstRounds = { count: plan.rounds, quietMs: plan.settleQuietMs };
  const pacedRounds = { count: plan.pacedRounds, quietMs: plan.settleQuietMs };
  await using source = rev ? await exportRevision(rev) : undefined;
  const context = createContext(source?.root);
  const { report } = context;
  const started = performance.now();
  const startLoad = loadAverage();
  console.error(
    `Benchmark ${
      quick ? "(quick) " : ""
    }on ${navigator.hardwareConcurrency} CPUs${
      rev ? `, chat server at ${rev}` : ""
    }, ${Deno.build.target}; load average ${startLoad}; rate limit off; progress below, tables at the end\n`,
  );

  // Keyed by name, so that the compiler holds every scenario of SCENARIOS
  // (the order they run in, and what --only accepts) to a runner here.
  const runners: Record<ScenarioName, () => Promise<void>> = {
    burst: () =>
      burst(context, {
        name: "burst",
        scenario: `burst: ${loadLabel(plan.burst)}`,
        load: plan.burst,
        rounds: burstRounds,
      }),
    small: () =>
      burst(context, {
        name: "burst small",
        scenario: `burst, small: ${loadLabel(plan.burstSmall)}`,
        load: plan.burstSmall,
        rounds: burstRounds,
      }),
    paced: () =>
      paced(context, {
        scenario: `paced: ${
          loadLabel(plan.paced)
        } at ${plan.paced.ratePerSender} msg/s per sender, p50 / p99 latency (median of ${plan.pacedRounds} rounds)`,
        load: plan.paced,
        rounds: pacedRounds,
      }),
    idle: () =>
      idle(context, {
        count: plan.idle,
        waitMs: plan.idleWaitMs,
        withProcessRow: true,
      }),
    workers: () =>
      burst(context, {
        name: "burst --workers 2",
        scenario: `burst under --workers 2 (baseline: one isolate): ${
          loadLabel(plan.burst)
        }`,
        load: plan.burst,
        rounds: burstRounds,
        flags: ["--workers", "2"],
      }),
    "idle-max": () =>
      idle(context, {
        count: plan.idleMax,
        waitMs: plan.idleWaitMs,
        withProcessRow: false,
      }),
    storm: () => storm(context, plan.storm),
    churn: () => churn(context, plan.churn, plan.churnTargetP99Ms),
    "dead-hook": () =>
      deadReceiver(context, {
        scenario:
          `dead-hook: paced, webhooks to a receiver that never answers (this server) against one that answers (featureless column): ${
            loadLabel(plan.paced)
          } at ${plan.paced.ratePerSender} msg/s per sender, p50 / p99 latency`,
        load: plan.paced,
        // A ratio needs a few rounds even in a quick run.
        rounds: { ...pacedRounds, count: Math.max(3, plan.pacedRounds) },
      }),
  };
  for (const name of SCENARIOS) {
    if (!wanted(name)) continue;
    try {
      await runners[name]();
    } catch (error) {
      // One scenario failing (a server that would not start, clients that
      // could not connect) is reported, and the others still run.
      console.error(`  ${name} failed: ${error}`);
      report.addCheck({
        scenario: name,
        server: "",
        lost: 0,
        duplicates: 0,
        leaks: 0,
        failures: 1,
        notes: `failed: ${String(error).split("\n")[0]}`,
      });
    }
  }

  console.log(report.table());
  console.log(
    `\n${quick ? "Quick run" : "Run"} took ${
      ((performance.now() - started) / 1000).toFixed(0)
    } s on ${navigator.hardwareConcurrency} CPUs; load average ${startLoad} at the start, ${loadAverage()} at the end.`,
  );
  if (!quick && parsed.extras && only.length === 0) {
    await extras();
  }
  return report.failed ? 1 : 0;
}

if (import.meta.main) {
  const interrupted = () => {
    killAllServers();
    Deno.exit(130);
  };
  Deno.addSignalListener("SIGINT", interrupted);
  Deno.addSignalListener("SIGTERM", interrupted);
  let code = 1;
  try {
    code = await main(Deno.args);
  } finally {
    killAllServers();
  }
  Deno.exit(code);
}
