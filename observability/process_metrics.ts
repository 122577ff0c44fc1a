/**
 * The process series of `/metrics`, read at each scrape without any npm
 * package or `node:` module (Node compatibility alone costs the idle
 * process several MiB): memory from `Deno.memoryUsage()`, the start time
 * from `performance.timeOrigin`, and, where `/proc/self` can be read, CPU
 * time, virtual memory and file descriptors.
 *
 * The V8 heap series belong to one isolate each ({@linkcode isolateSeries}):
 * every isolate reports its own and a merge sums them. The rest describe
 * the whole process ({@linkcode createProcessMetrics}), so under
 * `--workers` only the main thread reports them.
 *
 * @module
 */

import {
  descriptorReserve,
  isOutOfDescriptors,
} from "../platform/descriptors.ts";
import type { MetricsSnapshot, Series } from "./series.ts";
import {
  canReadProc,
  CLOCK_TICKS_PER_SECOND,
  parseOpenFileLimit,
  parseProcStat,
} from "../platform/proc.ts";

function single(
  name: string,
  help: string,
  type: "counter" | "gauge",
  value: number,
): Series {
  return { name, help, type, samples: [{ suffix: "", labels: {}, value }] };
}

/** The V8 heap of the calling isolate; summed over isolates by a merge. */
export function isolateSeries(): Series[] {
  const { heapTotal, heapUsed, external } = Deno.memoryUsage();
  return [
    single(
      "process_heap_total_bytes",
      "V8 heap reserved for JavaScript objects, in bytes, summed over isolates.",
      "gauge",
      heapTotal,
    ),
    single(
      "process_heap_used_bytes",
      "V8 heap in use by JavaScript objects, in bytes, summed over isolates.",
      "gauge",
      heapUsed,
    ),
    single(
      "process_external_memory_bytes",
      "Memory outside the V8 heap held by JavaScript objects (buffers), in bytes, summed over isolates.",
      "gauge",
      external,
    ),
  ];
}

/** CPU time and virtual memory, from `/proc/self/stat`. */
export function parseStat(
  text: string,
):
  | { user: number; system: number; total: number; virtual: number }
  | undefined {
  const stat = parseProcStat(text);
  if (!stat) return undefined;
  const { userTicks: user, systemTicks: system, virtualBytes: virtual } = stat;
  // Added in ticks, so that the total reads 0.1 rather than 0.30000000000000004.
  return {
    user: user / CLOCK_TICKS_PER_SECOND,
    system: system / CLOCK_TICKS_PER_SECOND,
    total: (user + system) / CLOCK_TICKS_PER_SECOND,
    virtual,
  };
}

/** What `/proc/self` says; the parts that could not be read are absent. */
interface ProcReading {
  readonly stat?: string;
  readonly limits?: string;
  readonly fds?: number;
  /** Resident memory, read from Deno: it reads `/proc/self/statm`. */
  readonly rss?: number;
}

async function readProc(): Promise<ProcReading> {
  const [stat, limits] = await Promise.all([
    Deno.readTextFile("/proc/self/stat"),
    Deno.readTextFile("/proc/self/limits"),
  ]);
  let fds = 0;
  for await (const _ of Deno.readDir("/proc/self/fd")) fds++;
  // Reading the directory holds one descriptor of its own.
  return { stat, limits, fds: fds - 1, rss: Deno.memoryUsage().rss };
}

/** {@linkcode readProc} in one synchronous turn, for the reserve. */
function readProcNow(): ProcReading {
  const stat = Deno.readTextFileSync("/proc/self/stat");
  const limits = Deno.readTextFileSync("/proc/self/limits");
  let fds = 0;
  for (const _ of Deno.readDirSync("/proc/self/fd")) fds++;
  return { stat, limits, fds: fds - 1, rss: Deno.memoryUsage().rss };
}

/**
 * Reads `/proc/self`, never failing for want of a descriptor (in a
 * connection flood, when these series matter most): then again with the
 * reserve released, and failing that, with what is known without a file.
 */
async function readProcAnyway(
  maxFds: number | undefined,
): Promise<ProcReading> {
  try {
    return await readProc();
  } catch (error) {
    if (!isOutOfDescriptors(error)) throw error;
  }
  try {
    return descriptorReserve.spend(readProcNow);
  } catch (error) {
    if (!isOutOfDescriptors(error)) throw error;
  }
  // Out of descriptors means every one the limit allows is open.
  return maxFds === undefined ? {} : { fds: maxFds };
}

/** The series that only `/proc/self` can tell. */
function procSeries(
  { stat, fds }: ProcReading,
  maxFds: number | undefined,
): Series[] {
  const series: Series[] = [];
  const cpu = stat === undefined ? undefined : parseStat(stat);
  if (cpu) {
    series.push(
      single(
        "process_cpu_user_seconds_total",
        "Total user CPU time spent in seconds.",
        "counter",
        cpu.user,
      ),
      single(
        "process_cpu_system_seconds_total",
        "Total system CPU time spent in seconds.",
        "counter",
        cpu.system,
      ),
      single(
        "process_cpu_seconds_total",
        "Total user and system CPU time spent in seconds.",
        "counter",
        cpu.total,
      ),
      single(
        "process_virtual_memory_bytes",
        "Virtual memory size in bytes.",
        "gauge",
        cpu.virtual,
      ),
    );
  }
  if (fds !== undefined) {
    series.push(
      single(
        "process_open_fds",
        "Number of open file descriptors.",
        "gauge",
        fds,
      ),
    );
  }
  if (maxFds !== undefined) {
    series.push(
      single(
        "process_max_fds",
        "Maximum number of open file descriptors.",
        "gauge",
        maxFds,
      ),
    );
  }
  return series;
}

/** The series of the whole process, read at each call of `snapshot`. */
export interface ProcessMetrics {
  /** This isolate's heap, then the process-wide series. */
  snapshot(): Promise<MetricsSnapshot>;
}

/**
 * Reads the process series: one per process, in the isolate that answers
 * for the process (the only one, or the main thread of `--workers`).
 * Whether `/proc/self` can be read is decided once, here. A series that
 * cannot be read at a scrape (out of descriptors) is left out of it, except
 * the limit, which is the one last read.
 */
export function createProcessMetrics(): ProcessMetrics {
  const proc = canReadProc();
  let maxFds: number | undefined;
  return {
    async snapshot() {
      const reading = proc
        ? await readProcAnyway(maxFds)
        : { rss: Deno.memoryUsage().rss };
      if (reading.limits !== undefined) {
        maxFds = parseOpenFileLimit(reading.limits);
      }
      const series = [...isolateSeries()];
      // Deno says 0 when it could not read it.
      if (reading.rss) {
        series.push(single(
          "process_resident_memory_bytes",
          "Resident memory size in bytes.",
          "gauge",
          reading.rss,
        ));
      }
      series.push(single(
        "process_start_time_seconds",
        "Start time of the process since unix epoch in seconds.",
        "gauge",
        Math.round(performance.timeOrigin / 1000),
      ));
      if (proc) series.push(...procSeries(reading, maxFds));
      return series;
    },
  };
}
