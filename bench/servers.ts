/**
 * The servers under test, each started as a child process on a free
 * loopback port: the chat server (`main.ts`, as `deno task start` runs it,
 * with a fresh SQLite file, the rate limits off and the connection limits
 * raised; optionally `--workers N` or extra `deno` flags such as
 * `--cpu-prof`), and the featureless baseline (bench/baseline_server.ts).
 * Also reads a process's resident memory from `/proc/<pid>/status`.
 *
 * @module
 */

import {
  type ServerProcess,
  startServerProcess,
  taskFlags,
} from "../testkit/process.ts";
import { CLOCK_TICKS_PER_SECOND, readProcStat } from "../platform/proc.ts";

/** Settings that keep the chat server's limits out of the measurement. */
export const BENCH_ENV: Readonly<Record<string, string>> = {
  CHAT_RATE_LIMIT: "0",
  CHAT_CONNECT_RATE: "0",
  CHAT_MAX_CONNECTIONS_PER_IP: "1000000",
  // Under the open-file limit of 20 000, with room for the store and pipes.
  CHAT_MAX_CONNECTIONS: "19000",
};

/** A server under test; dispose it to stop it (and remove its data). */
export interface BenchServer extends AsyncDisposable {
  readonly label: string;
  /** `ws://127.0.0.1:<port>` */
  readonly wsOrigin: string;
  readonly pid: number;
  /** Everything it printed. */
  output(): string;
  stop(): Promise<Deno.CommandStatus>;
}

/** Servers started and not yet stopped, for {@linkcode killAllServers}. */
const running = new Set<ServerProcess>();
/** Temporary folders not yet removed, likewise. */
const folders = new Set<string>();

async function removeFolder(path: string): Promise<void> {
  folders.delete(path);
  await Deno.remove(path, { recursive: true });
}

/**
 * Kills every server still running (SIGKILL) and removes their folders:
 * for a benchmark that is interrupted. Servers also stop by themselves
 * when this process is gone.
 */
export function killAllServers(): void {
  for (const server of running) {
    try {
      server.child.kill("SIGKILL");
    } catch (error) {
      if (!(error instanceof TypeError)) throw error; // already exited
    }
  }
  running.clear();
  for (const path of folders) {
    try {
      Deno.removeSync(path, { recursive: true });
    } catch (error) {
      if (!(error instanceof Deno.errors.NotFound)) throw error;
    }
  }
  folders.clear();
}

/** A new temporary folder, removed with the servers if nothing else does. */
async function benchFolder(prefix: string): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix });
  folders.add(dir);
  return dir;
}

async function track(
  label: string,
  start: () => Promise<ServerProcess>,
  cleanUp: () => Promise<void>,
): Promise<BenchServer> {
  let server: ServerProcess;
  try {
    server = await start();
  } catch (error) {
    await cleanUp();
    throw error;
  }
  running.add(server);
  let stopped: Promise<Deno.CommandStatus> | undefined;
  const stop = () =>
    stopped ??= server.stop("SIGTERM", 8000).finally(async () => {
      running.delete(server);
      await cleanUp();
    });
  return {
    label,
    wsOrigin: server.wsUrl(""),
    pid: server.child.pid,
    output: () => server.output(),
    stop,
    async [Symbol.asyncDispose]() {
      await stop();
    },
  };
}

/** Options for {@linkcode startChatServer}. */
export interface ChatServerOptions {
  /** Flags of the server, after `main.ts`, e.g. `["--workers", "2"]`. */
  readonly flags?: readonly string[];
  /** Flags of `deno run`, before `main.ts`, e.g. `["--cpu-prof"]`. */
  readonly denoFlags?: readonly string[];
  /** More environment, over {@linkcode BENCH_ENV}. */
  readonly env?: Record<string, string>;
  /**
   * A folder holding another checkout of the project (see
   * {@linkcode exportRevision}) to run instead of this one. @default this
   */
  readonly root?: string;
}

/** The folder this project is in. */
const PROJECT = new URL("..", import.meta.url).pathname;

/**
 * Exports revision `rev` of this repository (`git archive`) into a new
 * temporary folder, so that a benchmark runs committed code while the work
 * tree is being edited; dispose the result to remove the folder.
 */
export async function exportRevision(
  rev: string,
): Promise<AsyncDisposable & { readonly root: string }> {
  const root = await benchFolder("chat-bench-src-");
  const remove = () => removeFolder(root);
  try {
    const archive = new Deno.Command("git", {
      args: ["-C", PROJECT, "archive", "--format=tar", rev],
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const untar = new Deno.Command("tar", {
      args: ["-x", "-C", root],
      stdin: "piped",
    }).spawn();
    const [, message, archived, untarred] = await Promise.all([
      archive.stdout.pipeTo(untar.stdin),
      new Response(archive.stderr).text(),
      archive.status,
      untar.status,
    ]);
    if (!archived.success || !untarred.success) {
      throw new Error(`Cannot export ${rev}: ${message.trim()}`);
    }
    // Transpiled now, once: a server whose first start does it in its own
    // process measures about 7 MiB more than the work tree's.
    const cached = await new Deno.Command(Deno.execPath(), {
      args: ["cache", `--config=${root}/deno.json`, `${root}/main.ts`],
      stdout: "null",
      stderr: "piped",
    }).output();
    if (!cached.success) {
      throw new Error(
        `Cannot prepare ${rev}: ${new TextDecoder().decode(cached.stderr)}`,
      );
    }
  } catch (error) {
    await remove();
    throw error;
  }
  return { root, [Symbol.asyncDispose]: remove };
}

/** Starts the chat server with a fresh database in a temporary folder. */
export async function startChatServer(
  label: string,
  options: ChatServerOptions = {},
): Promise<BenchServer> {
  const dir = await benchFolder("chat-bench-");
  return await track(
    label,
    () =>
      startServerProcess({
        args: [
          "run",
          ...taskFlags("start"),
          ...(options.denoFlags ?? []),
          ...(options.root
            ? [`--config=${options.root}/deno.json`, `${options.root}/main.ts`]
            : ["main.ts"]),
          ...(options.flags ?? []),
        ],
        env: { ...BENCH_ENV, CHAT_DB: `${dir}/chat.db`, ...options.env },
      }),
    () => removeFolder(dir),
  );
}

/** Options for {@linkcode startBaselineServer}. */
export interface BaselineOptions {
  /**
   * The storing floor: each message inserted into a fresh SQLite file in a
   * temporary folder before it is sent (`BASELINE_DB`). @default false
   */
  readonly storing?: boolean;
}

/** Starts bench/baseline_server.ts: the featureless floor, or the storing one. */
export async function startBaselineServer(
  label = "featureless Deno",
  options: BaselineOptions = {},
): Promise<BenchServer> {
  const dir = options.storing
    ? await benchFolder("chat-bench-floor-")
    : undefined;
  return await track(
    label,
    () =>
      startServerProcess({
        args: [
          "run",
          "--allow-net",
          "--allow-env",
          ...(dir ? [`--allow-read=${dir}`, `--allow-write=${dir}`] : []),
          new URL("./baseline_server.ts", import.meta.url).pathname,
        ],
        ...(dir ? { env: { BASELINE_DB: `${dir}/floor.db` } } : {}),
      }),
    () => dir ? removeFolder(dir) : Promise.resolve(),
  );
}

/** Resident memory of a process, in bytes, as /proc/<pid>/status has it. */
export interface Resident {
  /** VmRSS: everything resident. */
  readonly total: number;
  /** RssAnon: heaps and stacks, what the program allocated. */
  readonly anonymous: number;
  /** RssFile: mapped files, mostly the `deno` executable's own pages. */
  readonly file: number;
}

/** Resident memory of process `pid`, from /proc/<pid>/status. */
export async function resident(pid: number): Promise<Resident> {
  const status = await Deno.readTextFile(`/proc/${pid}/status`);
  const field = (name: string) => {
    const match = new RegExp(`^${name}:\\s+(\\d+) kB$`, "m").exec(status);
    if (!match?.[1]) throw new Error(`no ${name} in /proc/${pid}/status`);
    return Number(match[1]) * 1024;
  };
  return {
    total: field("VmRSS"),
    anonymous: field("RssAnon"),
    file: field("RssFile"),
  };
}

/** Resident memory of process `pid` in bytes (VmRSS), from /proc. */
export async function residentBytes(pid: number): Promise<number> {
  return (await resident(pid)).total;
}

/**
 * CPU time process `pid` has used so far, all threads, user and system,
 * in seconds (10 ms resolution), from /proc/<pid>/stat.
 */
export async function cpuSeconds(pid: number): Promise<number> {
  const stat = await readProcStat(pid);
  if (!stat) throw new Error(`no CPU time for process ${pid}: it is gone`);
  return (stat.userTicks + stat.systemTicks) / CLOCK_TICKS_PER_SECOND;
}

/**
 * A reading of a process's CPU time: per thread in nanoseconds, and the
 * whole process in clock ticks. See {@linkcode cpuSecondsBetween}.
 */
export interface CpuReading {
  /** Time on a CPU per thread id, from /proc/<pid>/task/<tid>/schedstat. */
  readonly threads: ReadonlyMap<string, number>;
  /** {@linkcode cpuSeconds}: exited threads included, 10 ms resolution. */
  readonly seconds: number;
}

/** Reads process `pid`'s CPU time; see {@linkcode cpuSecondsBetween}. */
export async function readCpu(pid: number): Promise<CpuReading> {
  const threads = new Map<string, number>();
  for await (const task of Deno.readDir(`/proc/${pid}/task`)) {
    try {
      const schedstat = await Deno.readTextFile(
        `/proc/${pid}/task/${task.name}/schedstat`,
      );
      threads.set(task.name, Number(schedstat.split(" ")[0]));
    } catch (error) {
      // A thread that ended between the listing and the read.
      if (!(error instanceof Deno.errors.NotFound)) throw error;
    }
  }
  return { threads, seconds: await cpuSeconds(pid) };
}

/**
 * CPU seconds the process used between two readings, to the nanosecond
 * from its threads when none of them ended in between (a thread started
 * in between counts from zero), else to the clock tick from the process.
 * A small burst costs the server 20 ticks or so, which a tick's
 * resolution would measure to 5%.
 */
export function cpuSecondsBetween(
  start: CpuReading,
  end: CpuReading,
): number {
  let nanoseconds = 0;
  for (const [thread, startNs] of start.threads) {
    const endNs = end.threads.get(thread);
    if (endNs === undefined) return end.seconds - start.seconds;
    nanoseconds += endNs - startNs;
  }
  for (const [thread, endNs] of end.threads) {
    if (!start.threads.has(thread)) nanoseconds += endNs;
  }
  return nanoseconds / 1e9;
}

/**
 * Resolves once process `pid` has used at most one clock tick of CPU in
 * the last `quietMs`, or after `limitMs` regardless: the work a load
 * leaves behind (people leaving, the checkpoint a second after the last
 * write) is then done, and does not land in the next load measured, on
 * this server or another.
 */
export async function settled(
  pid: number,
  quietMs = 1200,
  limitMs = 10_000,
): Promise<void> {
  const started = performance.now();
  const samples: { at: number; cpu: number }[] = [];
  for (;;) {
    const at = performance.now();
    const cpu = await cpuSeconds(pid);
    samples.push({ at, cpu });
    while ((samples[1]?.at ?? Infinity) <= at - quietMs) samples.shift();
    const first = samples[0];
    if (
      first && at - first.at >= quietMs &&
      cpu - first.cpu <= 1 / CLOCK_TICKS_PER_SECOND
    ) return;
    if (at - started >= limitMs) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** CPU time of the whole machine, over all its CPUs, in seconds. */
export interface MachineCpu {
  /** Time not idle (user, system, interrupts, stolen). */
  readonly busy: number;
  readonly total: number;
}

/**
 * CPU time the whole machine has spent so far, from /proc/stat: on a
 * shared machine, whether the server under test had CPUs to spare.
 */
export async function machineCpuSeconds(): Promise<MachineCpu> {
  const stat = await Deno.readTextFile("/proc/stat");
  // "cpu  user nice system idle iowait irq softirq steal guest guest_nice";
  // guest time is already counted in user.
  const fields = (stat.split("\n")[0] ?? "").split(/\s+/).slice(1, 9)
    .map(Number);
  const total = fields.reduce((sum, value) => sum + value, 0);
  const idle = (fields[3] ?? 0) + (fields[4] ?? 0);
  return {
    busy: (total - idle) / CLOCK_TICKS_PER_SECOND,
    total: total / CLOCK_TICKS_PER_SECOND,
  };
}
