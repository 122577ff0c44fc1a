/**
 * Where the chat server spends its event loop while a big room churns:
 * starts it with `deno run --cpu-prof`, runs one round of the churn
 * scenario (bench/churn.ts) against it, stops it, and prints the functions
 * with the most self time over the churning stretch, and the stretches of
 * work without a pause (consecutive samples outside `(idle)`): how long
 * they were, and what the long ones did. A message of another room that
 * arrives during such a stretch waits for its end, so the long ones are
 * what the other room's p99 is made of. Given a `.cpuprofile` instead, it
 * only summarises it.
 *
 *     deno run -A bench/profile_churn.ts [members cyclers reconnects/s seconds] [--keep DIR]
 *     deno run -A bench/profile_churn.ts path/to/CPU.….cpuprofile
 *
 * @module
 */

import { describeChurnPhase, otherRoomFor, runChurn } from "./churn.ts";
import {
  busiestWindow,
  type CpuProfile,
  isCpuProfile,
  type ProfileWindow,
  selfTimes,
  selfTimeTable,
} from "./profile.ts";
import { killAllServers, startChatServer } from "./servers.ts";

/** A stretch of consecutive busy samples, in µs from the first sample. */
interface Stretch {
  readonly fromUs: number;
  readonly toUs: number;
}

/** Stretches of samples outside `(idle)`, inside `window`. */
function busyStretches(
  profile: CpuProfile,
  window: ProfileWindow,
): Stretch[] {
  const idle = new Set(
    profile.nodes.filter((node) => node.callFrame.functionName === "(idle)")
      .map((node) => node.id),
  );
  const stretches: Stretch[] = [];
  let now = 0;
  let start: number | undefined;
  profile.samples.forEach((id, index) => {
    now += profile.timeDeltas[index] ?? 0;
    if (now < window.fromUs || now > window.toUs) return;
    if (idle.has(id)) {
      if (start !== undefined) stretches.push({ fromUs: start, toUs: now });
      start = undefined;
    } else {
      start ??= now;
    }
  });
  return stretches;
}

/**
 * Self time by the frames nearest the event loop (the callback that the
 * loop ran), inside `stretches`: says which kind of work made them.
 */
function entryTimes(
  profile: CpuProfile,
  stretches: readonly Stretch[],
  depth: number,
): [string, number][] {
  const nodes = new Map(profile.nodes.map((node) => [node.id, node]));
  const parent = new Map<number, number>();
  for (const node of profile.nodes) {
    for (const child of node.children ?? []) parent.set(child, node.id);
  }
  const totals = new Map<string, number>();
  let now = 0;
  let at = 0;
  profile.samples.forEach((id, index) => {
    const delta = profile.timeDeltas[index] ?? 0;
    now += delta;
    while ((stretches[at]?.toUs ?? Infinity) < now) at += 1;
    const stretch = stretches[at];
    if (!stretch || now < stretch.fromUs) return;
    const chain: string[] = [];
    for (let node: number | undefined = id; node !== undefined;) {
      const call = nodes.get(node)?.callFrame;
      if (call && call.functionName !== "(root)") {
        chain.push(call.functionName || "(anonymous)");
      }
      node = parent.get(node);
    }
    const key = chain.reverse().slice(0, depth).join(" → ");
    totals.set(key, (totals.get(key) ?? 0) + delta);
  });
  return [...totals].sort((a, b) => b[1] - a[1]);
}

/** Prints the summary of one profile; see the module doc. */
function summarise(profile: CpuProfile, window: ProfileWindow): void {
  const times = selfTimes(profile, window);
  console.log(selfTimeTable(times, 40));
  const stretches = busyStretches(profile, window);
  const lengths = stretches.map(({ fromUs, toUs }) => (toUs - fromUs) / 1000)
    .sort((a, b) => a - b);
  const over = (ms: number) => lengths.filter((length) => length > ms).length;
  const at = (share: number) =>
    lengths[Math.min(lengths.length - 1, Math.floor(share * lengths.length))] ??
      0;
  console.log(
    `\n${lengths.length} busy stretches over ${
      ((window.toUs - window.fromUs) / 1e6).toFixed(1)
    } s: median ${at(0.5).toFixed(1)} ms, p90 ${at(0.9).toFixed(1)}, p99 ${
      at(0.99).toFixed(1)
    }, max ${at(1).toFixed(1)}; over 5 ms: ${over(5)}, over 10 ms: ${
      over(10)
    }, over 20 ms: ${over(20)}, over 40 ms: ${over(40)}`,
  );
  const long = stretches.filter(({ fromUs, toUs }) => toUs - fromUs > 5000);
  console.log("\nTime inside the stretches over 5 ms, by entry:\n");
  for (const [chain, micros] of entryTimes(profile, long, 6).slice(0, 30)) {
    console.log(`- ${(micros / 1000).toFixed(0)} ms: ${chain}`);
  }
  console.log("\nSelf time inside the stretches over 5 ms:\n");
  const inLong = new Map<string, number>();
  for (const stretch of long) {
    for (const time of selfTimes(profile, stretch)) {
      inLong.set(time.function, (inLong.get(time.function) ?? 0) + time.ms);
    }
  }
  for (
    const [name, ms] of [...inLong].sort((a, b) => b[1] - a[1]).slice(0, 25)
  ) {
    console.log(`- ${ms.toFixed(0)} ms: ${name}`);
  }
}

async function readProfile(path: string): Promise<CpuProfile> {
  const value: unknown = JSON.parse(await Deno.readTextFile(path));
  if (!isCpuProfile(value)) throw new Error(`${path} is not a .cpuprofile`);
  return value;
}

async function main(args: string[]): Promise<void> {
  const given = args.filter((arg) => arg.endsWith(".cpuprofile"));
  if (given.length > 0) {
    for (const file of given) {
      const profile = await readProfile(file);
      const total = profile.timeDeltas.reduce((sum, delta) => sum + delta, 0);
      summarise(profile, { fromUs: 0, toUs: total });
    }
    return;
  }
  const keepIndex = args.indexOf("--keep");
  const keep = keepIndex >= 0 ? args[keepIndex + 1] : undefined;
  const numbers = args.filter((arg, index) =>
    /^\d+$/.test(arg) && index !== keepIndex + 1
  ).map(Number);
  const [members = 2000, cyclers = 150, rate = 300, seconds = 10] = numbers;
  const dir = keep ?? await Deno.makeTempDir({ prefix: "chat-profile-" });
  if (keep) await Deno.mkdir(keep, { recursive: true });
  try {
    let churnSeconds = 0;
    {
      await using server = await startChatServer("this server, profiled", {
        denoFlags: ["--cpu-prof", `--cpu-prof-dir=${dir}`],
      });
      const result = await runChurn({
        origin: server.wsOrigin,
        members,
        cyclers,
        reconnectsPerSecond: rate,
        otherRoom: otherRoomFor(seconds),
        roomPrefix: `profile-${crypto.randomUUID().slice(0, 8)}`,
        pid: server.pid,
      });
      for (const phase of result.quiet) {
        console.error(`quiet: ${describeChurnPhase(phase)}`);
      }
      for (const phase of result.churning) {
        console.error(`churning: ${describeChurnPhase(phase)}`);
        churnSeconds = phase.load.seconds;
      }
      const status = await server.stop();
      if (!status.success) {
        throw new Error(
          `server exited with ${status.code}:\n${server.output()}`,
        );
      }
    }
    for await (const entry of Deno.readDir(dir)) {
      if (!entry.name.endsWith(".cpuprofile")) continue;
      const file = `${dir}/${entry.name}`;
      const profile = await readProfile(file);
      // The churning load is the busiest stretch of its length.
      const window = busiestWindow(profile, churnSeconds * 1_000_000);
      console.log(
        `\n${file}, the busiest ${churnSeconds.toFixed(1)} s (churning):\n`,
      );
      summarise(profile, window);
    }
  } finally {
    if (!keep) await Deno.remove(dir, { recursive: true });
  }
}

if (import.meta.main) {
  try {
    await main(Deno.args);
  } finally {
    killAllServers();
  }
}
