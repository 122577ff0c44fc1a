/**
 * Where the chat server spends its time under the burst: starts it with
 * `deno run --cpu-prof`, runs the burst of bench/run.ts against it, stops
 * it (the profile is written on exit) and prints the functions with the
 * most self time, summed per function name and script: over the whole
 * profile, and over the burst alone (the busiest stretch as long as the
 * burst took). Given `.cpuprofile` files instead, it only summarises them.
 *
 *     deno run -A bench/profile.ts [--quick] [--top 30] [--keep DIR] [--at REV]
 *     deno run -A bench/profile.ts path/to/CPU.….cpuprofile …
 *
 * @module
 */

import { describeLoad, runLoad } from "./load.ts";
import { exportRevision, killAllServers, startChatServer } from "./servers.ts";

/** The parts of a V8 `.cpuprofile` that the summary reads. */
export interface CpuProfile {
  readonly nodes: readonly {
    readonly id: number;
    readonly children?: readonly number[];
    readonly callFrame: {
      readonly functionName: string;
      readonly url: string;
      readonly lineNumber: number;
    };
  }[];
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}

/** A stretch of a profile, in microseconds from its first sample. */
export interface ProfileWindow {
  readonly fromUs: number;
  readonly toUs: number;
}

export function isCpuProfile(value: unknown): value is CpuProfile {
  return typeof value === "object" && value !== null &&
    "nodes" in value && Array.isArray(value.nodes) &&
    "samples" in value && Array.isArray(value.samples) &&
    "timeDeltas" in value && Array.isArray(value.timeDeltas);
}

/** Self time of one function, over the whole profile. */
export interface SelfTime {
  /** `name (script:line)`, shortened to the project or package path. */
  readonly function: string;
  readonly ms: number;
  /** Share of all sampled time, idle included. */
  readonly share: number;
}

/** Shortens a script URL to what identifies it. */
function shortUrl(url: string): string {
  const npm = url.indexOf("/node_modules/");
  if (npm >= 0) return `npm:${url.slice(npm + 14)}`;
  const registry = url.indexOf("registry.npmjs.org/");
  if (registry >= 0) return `npm:${url.slice(registry + 19)}`;
  const root = new URL("..", import.meta.url).href;
  if (url.startsWith(root)) return url.slice(root.length);
  // A revision exported by --at (see exportRevision in servers.ts).
  return url.replace(/^file:\/\/.*\/chat-bench-src-[^/]+\//, "");
}

/** Each sample's time, in microseconds from the first. */
function sampleTimes(profile: CpuProfile): number[] {
  let now = 0;
  return profile.timeDeltas.map((delta) => (now += delta));
}

/**
 * The `lengthUs` long stretch of the profile with the most time outside
 * `(idle)`: where a load of known duration ran, without the start-up,
 * connecting and shutting down around it.
 */
export function busiestWindow(
  profile: CpuProfile,
  lengthUs: number,
): ProfileWindow {
  const idleNodes = new Set(
    profile.nodes.filter((node) => node.callFrame.functionName === "(idle)")
      .map((node) => node.id),
  );
  const times = sampleTimes(profile);
  const busy = profile.samples.map((id, index) =>
    idleNodes.has(id) ? 0 : profile.timeDeltas[index] ?? 0
  );
  let best: ProfileWindow = { fromUs: 0, toUs: lengthUs };
  let bestBusy = -1;
  let sum = 0;
  let first = 0;
  for (let last = 0; last < times.length; last++) {
    sum += busy[last] ?? 0;
    while ((times[last] ?? 0) - (times[first] ?? 0) > lengthUs) {
      sum -= busy[first] ?? 0;
      first += 1;
    }
    if (sum > bestBusy) {
      bestBusy = sum;
      best = { fromUs: times[first] ?? 0, toUs: times[last] ?? 0 };
    }
  }
  return best;
}

/**
 * Sums self time per function (name and script): each sample's time delta
 * goes to the node that was on top of the stack; only samples inside
 * `window` when one is given.
 */
export function selfTimes(
  profile: CpuProfile,
  window?: ProfileWindow,
): SelfTime[] {
  const times = sampleTimes(profile);
  const nodeKey = new Map<number, string>();
  for (const node of profile.nodes) {
    const { functionName, url } = node.callFrame;
    const name = functionName || "(anonymous)";
    nodeKey.set(node.id, url ? `${name} (${shortUrl(url)})` : name);
  }
  const totals = new Map<string, number>();
  let all = 0;
  profile.samples.forEach((id, index) => {
    const time = times[index] ?? 0;
    if (window && (time < window.fromUs || time > window.toUs)) return;
    const delta = profile.timeDeltas[index] ?? 0;
    const key = nodeKey.get(id) ?? `node ${id}`;
    totals.set(key, (totals.get(key) ?? 0) + delta);
    all += delta;
  });
  return [...totals].map(([name, micros]) => ({
    function: name,
    ms: micros / 1000,
    share: all > 0 ? micros / all : 0,
  })).sort((a, b) => b.ms - a.ms);
}

/** Where a function's self time was spent from: its callers' chains. */
export interface CallerChains {
  readonly function: string;
  readonly chains: readonly { readonly chain: string; readonly ms: number }[];
}

/**
 * For each of `names` (function names as the profile has them, e.g.
 * `exec`), its self time split by the `depth` frames that called it, the
 * heaviest `top` chains first.
 */
export function callerChains(
  profile: CpuProfile,
  names: readonly string[],
  options: { depth?: number; top?: number; window?: ProfileWindow } = {},
): CallerChains[] {
  const { depth = 3, top = 3, window } = options;
  const nodes = new Map(profile.nodes.map((node) => [node.id, node]));
  const parent = new Map<number, number>();
  for (const node of profile.nodes) {
    for (const child of node.children ?? []) parent.set(child, node.id);
  }
  const frame = (id: number) => {
    const call = nodes.get(id)?.callFrame;
    if (!call) return `node ${id}`;
    const script = call.url ? shortUrl(call.url) : "native";
    return `${call.functionName || "(anonymous)"} (${script}:${
      call.lineNumber + 1
    })`;
  };
  const totals = new Map<string, Map<string, number>>();
  const times = sampleTimes(profile);
  profile.samples.forEach((id, index) => {
    const time = times[index] ?? 0;
    if (window && (time < window.fromUs || time > window.toUs)) return;
    const name = nodes.get(id)?.callFrame.functionName ?? "";
    if (!names.includes(name)) return;
    const chain: string[] = [];
    for (let at = parent.get(id); at !== undefined && chain.length < depth;) {
      chain.push(frame(at));
      at = parent.get(at);
    }
    const byChain = totals.get(name) ?? new Map<string, number>();
    totals.set(name, byChain);
    const key = chain.join(" ← ");
    byChain.set(
      key,
      (byChain.get(key) ?? 0) + (profile.timeDeltas[index] ?? 0),
    );
  });
  return names.flatMap((name) => {
    const byChain = totals.get(name);
    if (!byChain) return [];
    return [{
      function: name,
      chains: [...byChain].sort((a, b) => b[1] - a[1]).slice(0, top).map((
        [chain, micros],
      ) => ({ chain, ms: micros / 1000 })),
    }];
  });
}

/** A markdown table of the `top` functions by self time. */
export function selfTimeTable(times: readonly SelfTime[], top: number): string {
  const busy = times.filter((time) =>
    time.function !== "(idle)" && time.function !== "(program)"
  );
  const busyMs = busy.reduce((sum, time) => sum + time.ms, 0);
  const rows = times.slice(0, top).map((time) =>
    `| ${time.function.replaceAll("|", "\\|")} | ${time.ms.toFixed(0)} | ${
      (time.share * 100).toFixed(1)
    }% |`
  );
  return [
    `Sampled ${
      times.reduce((sum, time) => sum + time.ms, 0).toFixed(0)
    } ms, of which ${busyMs.toFixed(0)} ms in functions (not idle or program)`,
    "",
    "| function (script) | self ms | share |",
    "|---|---|---|",
    ...rows,
  ].join("\n");
}

/**
 * Native functions (no script) say little by their name alone: `exec` is
 * SQLite, `op_ws_send_text` a socket write. Who called them says which
 * feature pays.
 */
function printCallers(
  profile: CpuProfile,
  times: readonly SelfTime[],
  window: ProfileWindow | undefined,
): void {
  const natives = times.filter((time) =>
    !time.function.includes("(") && time.ms > 0
  ).slice(0, 8).map((time) => time.function);
  console.log("\nWho called the busiest native functions:\n");
  const chains = callerChains(profile, natives, window ? { window } : {});
  for (const { function: name, chains: heaviest } of chains) {
    console.log(`- ${name}`);
    for (const { chain, ms } of heaviest) {
      console.log(`  - ${ms.toFixed(0)} ms from ${chain}`);
    }
  }
}

async function readProfile(path: string): Promise<CpuProfile> {
  const value: unknown = JSON.parse(await Deno.readTextFile(path));
  if (!isCpuProfile(value)) throw new Error(`${path} is not a .cpuprofile`);
  return value;
}

/**
 * Profiles the chat server under a burst (three times the messages of
 * bench/run.ts's, so that messages outweigh connecting); returns the
 * profile files and how long the burst took.
 */
async function profileBurst(
  quick: boolean,
  dir: string,
  root: string | undefined,
): Promise<{ files: string[]; seconds: number }> {
  await using server = await startChatServer("this server, profiled", {
    denoFlags: ["--cpu-prof", `--cpu-prof-dir=${dir}`],
    ...(root ? { root } : {}),
  });
  const result = await runLoad({
    origin: server.wsOrigin,
    rooms: quick ? 5 : 20,
    clientsPerRoom: quick ? 20 : 50,
    sendersPerRoom: 2,
    messagesPerSender: quick ? 150 : 300,
    roomPrefix: `profile-${crypto.randomUUID().slice(0, 8)}`,
  });
  console.error(`burst: ${describeLoad(result)}`);
  const status = await server.stop();
  if (!status.success) {
    throw new Error(`server exited with ${status.code}:\n${server.output()}`);
  }
  const files: string[] = [];
  for await (const entry of Deno.readDir(dir)) {
    if (entry.name.endsWith(".cpuprofile")) files.push(`${dir}/${entry.name}`);
  }
  return { files, seconds: result.seconds };
}

async function main(args: string[]): Promise<void> {
  const topIndex = args.indexOf("--top");
  const top = topIndex >= 0 ? Number(args[topIndex + 1]) : 30;
  const keepIndex = args.indexOf("--keep");
  const keep = keepIndex >= 0 ? args[keepIndex + 1] : undefined;
  const given = args.filter((arg) => arg.endsWith(".cpuprofile"));
  let files = given;
  let seconds: number | undefined;
  let dir: string | undefined;
  if (given.length === 0) {
    dir = keep ?? await Deno.makeTempDir({ prefix: "chat-profile-" });
    if (keep) await Deno.mkdir(keep, { recursive: true });
    const atIndex = args.indexOf("--at");
    const rev = atIndex >= 0 ? args[atIndex + 1] : undefined;
    await using source = rev ? await exportRevision(rev) : undefined;
    ({ files, seconds } = await profileBurst(
      args.includes("--quick"),
      dir,
      source?.root,
    ));
  }
  try {
    for (const file of files) {
      const profile = await readProfile(file);
      console.log(`\n${file}, whole run:\n`);
      let times = selfTimes(profile);
      console.log(selfTimeTable(times, top));
      let window: ProfileWindow | undefined;
      if (seconds !== undefined) {
        window = busiestWindow(profile, seconds * 1_000_000);
        console.log(
          `\nThe burst only (the busiest ${seconds.toFixed(2)} s, from ${
            (window.fromUs / 1e6).toFixed(2)
          } s):\n`,
        );
        times = selfTimes(profile, window);
        console.log(selfTimeTable(times, top));
      }
      printCallers(profile, times, window);
    }
  } finally {
    if (dir && !keep) await Deno.remove(dir, { recursive: true });
  }
}

if (import.meta.main) {
  try {
    await main(Deno.args);
  } finally {
    killAllServers();
  }
}
