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
 * come back, this server only: quiet against churning).
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
 * The scenarios' sizes and the command line are read in bench/plan.ts; the
 * tables are built in bench/report.ts.
 *
 * @module
 */

import { type ChurnPhase, describeChurnPhase, runChurn } from "./churn.ts";
import { holdIdleClients } from "./idle_clients.ts";
import { describeLoad, type LoadResult, runLoad } from "./load.ts";
import {
  BENCH_USAGE,
  type BenchArgs,
  BenchUsageError,
  FULL_PLAN,
  loadLabel,
  type LoadShape,
  parseBenchArgs,
  type Plan,
  QUICK_PLAN,
  type ScenarioName,
  SCENARIOS,
} from "./plan.ts";
import { describeStorm, runStorm } from "./reconnect_storm.ts";
import { kib, mib, rate, ratio, Report, signedKib } from "./report.ts";
import {
  type BenchServer,
  type CpuReading,
  cpuSecondsBetween,
  exportRevision,
  killAllServers,
  readCpu,
  type Resident,
  resident,
  residentBytes,
  settled,
  startBaselineServer,
  startChatServer,
} from "./servers.ts";
import { sleep } from "./client.ts";
import {
  type LoadNumbers,
  median,
  medianRatio,
  medians,
} from "./round_stats.ts";

/** The checkout the chat server runs from (`--at`); this one by default. */
let chatRoot: string | undefined;

const report = new Report();
const runId = crypto.randomUUID().slice(0, 8);
let roomCounter = 0;
const roomPrefix = (name: string) => `${name}-${runId}-${roomCounter++}`;

function progress(text: string): void {
  console.error(`  ${text}`);
}

/** A load's result and the server's CPU time per delivery. */
interface Measured {
  readonly result: LoadResult;
  readonly cpuMicros: number;
}

/** The numbers of one round that the table shows. */
function shown({ result, cpuMicros }: Measured): LoadNumbers {
  return {
    deliveriesPerSecond: result.deliveriesPerSecond,
    cpuMicros,
    p50Ms: result.p50Ms,
    p99Ms: result.p99Ms,
  };
}

/** Each server's medians, and the median of the rounds' ratios. */
interface Pair {
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
interface Rounds {
  readonly count: number;
  /** See {@linkcode Plan.settleQuietMs}. */
  readonly quietMs: number;
}

/** Which servers {@linkcode loadPair} runs beside the baseline. */
interface PairOptions {
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
async function loadPair(
  name: string,
  load: LoadShape,
  rounds: Rounds,
  options: PairOptions = {},
): Promise<Pair> {
  const flags = options.flags ?? [];
  await using baseline = await startBaselineServer();
  await using chat = await startChatServer(
    flags.length ? `this server (${flags.join(" ")})` : "this server",
    { flags, ...(chatRoot ? { root: chatRoot } : {}) },
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
      roomPrefix: roomPrefix("warm"),
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
      const cpu = new Map<"sending" | "done", CpuReading>();
      const result = await runLoad({
        ...load,
        origin: server.wsOrigin,
        roomPrefix: roomPrefix("load"),
        onPhase: async (phase) => {
          cpu.set(phase, await readCpu(server.pid));
        },
      });
      // From the first message sent to the last delivered.
      const sending = cpu.get("sending");
      const done = cpu.get("done");
      const cpuMicros = sending && done
        ? cpuSecondsBetween(sending, done) * 1e6 /
          Math.max(1, result.delivered)
        : NaN;
      progress(
        `${server.label}: ${describeLoad(result)}; server CPU ${
          cpuMicros.toFixed(1)
        } µs per delivery`,
      );
      if (
        result.connectFailures + result.closedEarly + result.errors.length > 0
      ) showOutput(server);
      report.checkLoad(name, server.label, result);
      results.get(server)?.push({ result, cpuMicros });
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

const chat = () =>
  startChatServer("this server", chatRoot ? { root: chatRoot } : {});

/** The end of what a server printed, when something went wrong. */
function showOutput(server: BenchServer): void {
  const lines = server.output().trimEnd().split("\n").slice(-20);
  progress(`${server.label} printed, last lines:\n    ${lines.join("\n    ")}`);
}

/** A server's CPU time per delivery, as the table shows it. */
function cpuPerDelivery(numbers: LoadNumbers): string {
  return `CPU ${numbers.cpuMicros.toFixed(1)} µs/delivery`;
}

async function burst(
  name: string,
  scenario: string,
  load: LoadShape,
  rounds: Rounds,
  flags: readonly string[] = [],
) {
  console.error(scenario);
  const { base, ours, ratio: paired } = await loadPair(
    name,
    load,
    rounds,
    { flags },
  );
  const cpu = (numbers: LoadNumbers) =>
    `${rate(numbers.deliveriesPerSecond)} (${cpuPerDelivery(numbers)})`;
  report.addRow({
    scenario,
    baseline: cpu(base),
    chat: cpu(ours),
    ratio: `${ratio(paired.deliveriesPerSecond)} (CPU ${
      ratio(paired.cpuMicros)
    })`,
  });
}

async function paced(scenario: string, load: LoadShape, rounds: Rounds) {
  console.error(scenario);
  const { base, ours, ratio: paired, floor } = await loadPair(
    "paced",
    load,
    rounds,
    { storingFloor: true },
  );
  // The CPU beside the latency: with the generator on the same two CPUs,
  // what a server spends per message shows in the p99 wherever in the
  // message's way it is spent (docs/benchmarks.md, "Paced latency").
  const ms = (result: LoadNumbers) =>
    `${result.p50Ms.toFixed(2)} / ${result.p99Ms.toFixed(2)} ms (${
      cpuPerDelivery(result)
    })`;
  report.addRow({
    scenario,
    baseline: ms(base),
    chat: ms(ours),
    ratio: `p99 ${ratio(paired.p99Ms)} (CPU ${ratio(paired.cpuMicros)})`,
  });
  if (floor) {
    // The same rounds against the least a server that stores each message
    // before sending it does: what storing costs at all is in the floor,
    // what this server adds to it is in the ratio.
    report.addRow({
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

/** What idle connections cost one server. */
interface IdleResult {
  /** Resident memory of the started server before any connection. */
  readonly idle: Resident;
  readonly perConnection: number;
  readonly held: number;
}

async function idleOn(
  scenario: string,
  start: () => Promise<BenchServer>,
  count: number,
  waitMs: Plan["idleWaitMs"],
): Promise<IdleResult> {
  await using server = await start();
  await sleep(waitMs.started); // start-up garbage settles
  const idle = await resident(server.pid);
  const idleRss = idle.total;
  await using clients = await holdIdleClients({
    origin: server.wsOrigin,
    count,
    rooms: Math.max(1, Math.round(count / 50)),
    roomPrefix: roomPrefix("idle"),
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
  report.addCheck({
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

async function idle(
  count: number,
  waitMs: Plan["idleWaitMs"],
  withProcessRow: boolean,
) {
  const scenario = `${
    count.toLocaleString("en-US")
  } idle connections, memory per connection`;
  console.error(scenario);
  const name = `${count} idle`;
  const base = await idleOn(name, () => startBaselineServer(), count, waitMs);
  const ours = await idleOn(name, chat, count, waitMs);
  const held = (result: IdleResult) =>
    result.held === count ? "" : ` (${result.held} held)`;
  report.addRow({
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
    report.addRow({
      scenario: "idle process, resident memory",
      baseline: memory(base),
      chat: memory(ours),
      ratio: ratio(ours.idle.total / base.idle.total),
    });
  }
}

async function storm(plan: Plan["storm"]) {
  const clients = plan.rooms * plan.clientsPerRoom;
  const scenario = `reconnect storm: ${
    clients.toLocaleString("en-US")
  } clients in ${plan.rooms} rooms drop and come back with since=, ${plan.ratePerSender} msg/s per room go on`;
  console.error(scenario);
  await using server = await chat();
  const result = await runStorm({
    ...plan,
    origin: server.wsOrigin,
    roomPrefix: roomPrefix("storm"),
  });
  progress(`${server.label}: ${describeStorm(result)}`);
  if (result.notRecovered + result.errors.length > 0) showOutput(server);
  report.addCheck({
    scenario: "reconnect storm",
    server: server.label,
    lost: result.lost,
    duplicates: result.duplicates,
    leaks: 0,
    failures: result.notRecovered + (result.errors.length > 0 ? 1 : 0),
    notes: result.errors.join("; "),
  });
  report.addRow({
    scenario,
    baseline: "n/a (no since=)",
    chat: `all recovered in ${result.recoverySeconds.toFixed(2)} s (median ${
      result.medianRecoverySeconds.toFixed(2)
    } s), ${result.lost} lost`,
    ratio: "",
  });
}

async function churn(plan: Plan["churn"], targetP99Ms: number) {
  const other = plan.otherRoom;
  const scenario = `presence churn: a room of ${
    plan.members.toLocaleString("en-US")
  }, ${plan.cyclers} reconnecting under new names (${plan.reconnectsPerSecond}/s); another room: ${other.clientsPerRoom} clients, ${
    other.sendersPerRoom === 1 ? "1 sender" : `${other.sendersPerRoom} senders`
  } at ${other.ratePerSender} msg/s, p50 / p99 / max`;
  console.error(scenario);
  await using server = await chat();
  const result = await runChurn({
    ...plan,
    origin: server.wsOrigin,
    roomPrefix: roomPrefix("churn"),
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
  const of = (
    phases: readonly ChurnPhase[],
    value: (phase: ChurnPhase) => number,
  ) => median(phases.map(value));
  const latency = (phases: readonly ChurnPhase[]) =>
    `${of(phases, ({ load }) => load.p50Ms).toFixed(2)} / ${
      of(phases, ({ load }) => load.p99Ms).toFixed(2)
    } / ${of(phases, ({ load }) => load.maxMs).toFixed(1)} ms`;
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
  chatRoot = source?.root;
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
      burst(
        "burst",
        `burst: ${loadLabel(plan.burst)}`,
        plan.burst,
        burstRounds,
      ),
    small: () =>
      burst(
        "burst small",
        `burst, small: ${loadLabel(plan.burstSmall)}`,
        plan.burstSmall,
        burstRounds,
      ),
    paced: () =>
      paced(
        `paced: ${
          loadLabel(plan.paced)
        } at ${plan.paced.ratePerSender} msg/s per sender, p50 / p99 latency (median of ${plan.pacedRounds} rounds)`,
        plan.paced,
        pacedRounds,
      ),
    idle: () => idle(plan.idle, plan.idleWaitMs, true),
    workers: () =>
      burst(
        "burst --workers 2",
        `burst under --workers 2 (baseline: one isolate): ${
          loadLabel(plan.burst)
        }`,
        plan.burst,
        burstRounds,
        ["--workers", "2"],
      ),
    "idle-max": () => idle(plan.idleMax, plan.idleWaitMs, false),
    storm: () => storm(plan.storm),
    churn: () => churn(plan.churn, plan.churnTargetP99Ms),
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
