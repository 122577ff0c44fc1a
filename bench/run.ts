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
 * small), `paced`, `idle` (5 000 idle connections and the idle process),
 * `workers` (burst under `--workers 2`), `idle-max` (15 000 idle
 * connections), `storm` (reconnect storm, this server only), `churn`
 * (another room's latency while members of a 2 000-member room leave and
 * come back, this server only: quiet against churning).
 *
 * `--quick` runs a small version of every scenario, in under a minute.
 * `--at REV` runs the chat server of a commit (`git archive REV` into a
 * temporary folder) instead of the work tree, e.g. to measure `HEAD`
 * while files are being edited.
 * Without it, bench/slow_client_memory.ts and bench/scale_out.ts follow
 * (`--no-extras` skips them; scale_out needs `redis-server`).
 *
 * @module
 */

import {
  type ChurnOptions,
  type ChurnPhase,
  describeChurnPhase,
  runChurn,
} from "./churn.ts";
import { holdIdleClients } from "./idle_clients.ts";
import {
  describeLoad,
  type LoadOptions,
  type LoadResult,
  runLoad,
} from "./load.ts";
import {
  describeStorm,
  runStorm,
  type StormOptions,
} from "./reconnect_storm.ts";
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

/** A load's shape, without where it goes. */
type LoadShape = Omit<LoadOptions, "origin" | "roomPrefix">;

/** The sizes of every scenario, full or quick. */
interface Plan {
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
}

const FULL: Plan = {
  rounds: 7,
  pacedRounds: 15,
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
    cyclers: 50,
    reconnectsPerSecond: 100,
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
};

const QUICK: Plan = {
  rounds: 1,
  pacedRounds: 1,
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
    members: 300,
    cyclers: 20,
    reconnectsPerSecond: 40,
    otherRoom: {
      clientsPerRoom: 10,
      sendersPerRoom: 1,
      messagesPerSender: 100,
      ratePerSender: 50,
    },
    rounds: 1,
    settleMs: 1000,
  },
};

/** One line of the result table. */
interface Row {
  readonly scenario: string;
  readonly baseline: string;
  readonly chat: string;
  readonly ratio: string;
}

/** One line of the checks table: what went wrong, per scenario and server. */
interface Check {
  /** The scenario's short name. */
  readonly scenario: string;
  readonly server: string;
  readonly lost: number;
  readonly duplicates: number;
  readonly leaks: number;
  readonly failures: number;
  readonly notes: string;
}

/** The checkout the chat server runs from (`--at`); this one by default. */
let chatRoot: string | undefined;

const rows: Row[] = [];
const checks: Check[] = [];
const runId = crypto.randomUUID().slice(0, 8);
let roomCounter = 0;
const roomPrefix = (name: string) => `${name}-${runId}-${roomCounter++}`;

function progress(text: string): void {
  console.error(`  ${text}`);
}

const rate = (value: number) =>
  `${Math.round(value).toLocaleString("en-US")} msg/s`;
const ratio = (value: number) => `${value.toFixed(2)}×`;
const kib = (bytes: number) => `${(bytes / 1024).toFixed(1)} KiB`;
const mib = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MiB`;

function checkLoad(scenario: string, server: string, result: LoadResult) {
  checks.push({
    scenario,
    server,
    lost: result.lost,
    duplicates: result.duplicates,
    leaks: result.leaks,
    // A deadline or stall counts too, besides the sockets that failed.
    failures: result.connectFailures + result.closedEarly +
      (result.errors.length > 0 ? 1 : 0),
    notes: result.errors.join("; "),
  });
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
}

/**
 * Starts the baseline and the chat server (`flags`), warms both up, then
 * runs `load` against one and the other in turn, `rounds` times, each
 * time in fresh rooms: alternating spreads the machine's noise over both.
 * Returns each server's medians and the median of the rounds' ratios.
 */
async function loadPair(
  name: string,
  load: LoadShape,
  rounds: number,
  flags: string[] = [],
): Promise<Pair> {
  await using baseline = await startBaselineServer();
  await using chat = await startChatServer(
    flags.length ? `this server (${flags.join(" ")})` : "this server",
    { flags, ...(chatRoot ? { root: chatRoot } : {}) },
  );
  const servers = [baseline, chat];
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
  for (let round = 0; round < rounds; round++) {
    for (const server of servers) {
      // What the last load left to do (on either server, and in this
      // process) is done first, not during this load. Without the wait the
      // order mattered: the paced p99 ratio was 1.48-1.53× with the
      // baseline first every round and 1.62-1.68× with the order reversed
      // every other round; with it, 1.47× both ways.
      await Promise.all(servers.map(({ pid }) => settled(pid)));
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
      checkLoad(name, server.label, result);
      results.get(server)?.push({ result, cpuMicros });
    }
  }
  const base = (results.get(baseline) ?? []).map(shown);
  const ours = (results.get(chat) ?? []).map(shown);
  return {
    base: medians(base),
    ours: medians(ours),
    ratio: medianRatio(ours, base),
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
  rounds: number,
  flags: string[] = [],
) {
  console.error(scenario);
  const { base, ours, ratio: paired } = await loadPair(
    name,
    load,
    rounds,
    flags,
  );
  const cpu = (numbers: LoadNumbers) =>
    `${rate(numbers.deliveriesPerSecond)} (${cpuPerDelivery(numbers)})`;
  rows.push({
    scenario,
    baseline: cpu(base),
    chat: cpu(ours),
    ratio: `${ratio(paired.deliveriesPerSecond)} (CPU ${
      ratio(paired.cpuMicros)
    })`,
  });
}

async function paced(scenario: string, load: LoadShape, rounds: number) {
  console.error(scenario);
  const { base, ours, ratio: paired } = await loadPair("paced", load, rounds);
  // The CPU beside the latency: with the generator on the same two CPUs,
  // what a server spends per message shows in the p99 wherever in the
  // message's way it is spent (docs/benchmarks.md, "Paced latency").
  const ms = (result: LoadNumbers) =>
    `${result.p50Ms.toFixed(2)} / ${result.p99Ms.toFixed(2)} ms (${
      cpuPerDelivery(result)
    })`;
  rows.push({
    scenario,
    baseline: ms(base),
    chat: ms(ours),
    ratio: `p99 ${ratio(paired.p99Ms)} (CPU ${ratio(paired.cpuMicros)})`,
  });
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
  checks.push({
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

/** A difference in KiB with its sign: `+1.2 KiB`, `−0.4 KiB`. */
function signedKib(bytes: number): string {
  return `${bytes < 0 ? "−" : "+"}${kib(Math.abs(bytes))}`;
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
  rows.push({
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
    rows.push({
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
  checks.push({
    scenario: "reconnect storm",
    server: server.label,
    lost: result.lost,
    duplicates: result.duplicates,
    leaks: 0,
    failures: result.notRecovered + (result.errors.length > 0 ? 1 : 0),
    notes: result.errors.join("; "),
  });
  rows.push({
    scenario,
    baseline: "n/a (no since=)",
    chat: `all recovered in ${result.recoverySeconds.toFixed(2)} s (median ${
      result.medianRecoverySeconds.toFixed(2)
    } s), ${result.lost} lost`,
    ratio: "",
  });
}

async function churn(plan: Plan["churn"]) {
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
  for (const { load } of phases) checkLoad("churn", server.label, load);
  checks.push({
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
  rows.push({
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
}

function loadLabel(load: LoadShape): string {
  const senders = load.sendersPerRoom === 1
    ? "1 sender"
    : `${load.sendersPerRoom} senders`;
  return `${load.rooms} rooms × ${load.clientsPerRoom} clients, ${senders} per room, ${load.messagesPerSender} messages each`;
}

/** The checks summed per scenario and server, over the rounds. */
function summedChecks(): Check[] {
  const sums = new Map<string, Check>();
  for (const check of checks) {
    const key = `${check.scenario}\n${check.server}`;
    const sum = sums.get(key);
    sums.set(
      key,
      sum
        ? {
          ...sum,
          lost: sum.lost + check.lost,
          duplicates: sum.duplicates + check.duplicates,
          leaks: sum.leaks + check.leaks,
          failures: sum.failures + check.failures,
          notes: [sum.notes, check.notes].filter(Boolean).join("; "),
        }
        : check,
    );
  }
  return [...sums.values()];
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

function table(): string {
  const lines = [
    "| scenario | featureless Deno | this server | ratio |",
    "|---|---|---|---|",
    ...rows.map((row) =>
      `| ${row.scenario} | ${row.baseline} | ${row.chat} | ${row.ratio} |`
    ),
    "",
    "| scenario | server | lost | duplicates | cross-room | failures | notes |",
    "|---|---|---|---|---|---|---|",
    ...summedChecks().map((check) =>
      `| ${check.scenario} | ${check.server} | ${check.lost} | ${check.duplicates} | ${check.leaks} | ${check.failures} | ${check.notes} |`
    ),
  ];
  return lines.join("\n");
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
  const quick = args.includes("--quick");
  const onlyIndex = args.indexOf("--only");
  const only = onlyIndex >= 0 ? (args[onlyIndex + 1] ?? "").split(",") : [];
  const wanted = (name: string) => only.length === 0 || only.includes(name);
  const plan = quick ? QUICK : FULL;
  const atIndex = args.indexOf("--at");
  const rev = atIndex >= 0 ? args[atIndex + 1] : undefined;
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

  const scenarios: [string, () => Promise<void>][] = [
    [
      "burst",
      () =>
        burst(
          "burst",
          `burst: ${loadLabel(plan.burst)}`,
          plan.burst,
          plan.rounds,
        ),
    ],
    ["small", () =>
      burst(
        "burst small",
        `burst, small: ${loadLabel(plan.burstSmall)}`,
        plan.burstSmall,
        plan.rounds,
      )],
    ["paced", () =>
      paced(
        `paced: ${
          loadLabel(plan.paced)
        } at ${plan.paced.ratePerSender} msg/s per sender, p50 / p99 latency (median of ${plan.pacedRounds} rounds)`,
        plan.paced,
        plan.pacedRounds,
      )],
    ["idle", () => idle(plan.idle, plan.idleWaitMs, true)],
    ["workers", () =>
      burst(
        "burst --workers 2",
        `burst under --workers 2 (baseline: one isolate): ${
          loadLabel(plan.burst)
        }`,
        plan.burst,
        plan.rounds,
        ["--workers", "2"],
      )],
    ["idle-max", () => idle(plan.idleMax, plan.idleWaitMs, false)],
    ["storm", () => storm(plan.storm)],
    ["churn", () => churn(plan.churn)],
  ];
  for (const [name, run] of scenarios) {
    if (!wanted(name)) continue;
    try {
      await run();
    } catch (error) {
      // One scenario failing (a server that would not start, clients that
      // could not connect) is reported, and the others still run.
      console.error(`  ${name} failed: ${error}`);
      checks.push({
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

  console.log(table());
  console.log(
    `\n${quick ? "Quick run" : "Run"} took ${
      ((performance.now() - started) / 1000).toFixed(0)
    } s on ${navigator.hardwareConcurrency} CPUs; load average ${startLoad} at the start, ${loadAverage()} at the end.`,
  );
  if (!quick && !args.includes("--no-extras") && only.length === 0) {
    await extras();
  }
  const failed = checks.some((check) =>
    check.lost + check.duplicates + check.leaks + check.failures > 0
  );
  return failed ? 1 : 0;
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
