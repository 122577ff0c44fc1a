/**
 * The one reader of Linux's `/proc`: a process's `stat` line, the open-file
 * limit in `limits`, and whether `/proc` can be read at all (Deno opens it
 * only to a program run with `--allow-all`, denoland/deno#23703; other
 * systems have none). Reads that may run in a descriptor flood are the
 * caller's to wrap (see `platform/descriptors.ts`).
 *
 * @module
 */

/** Linux's `USER_HZ`: `/proc/<pid>/stat` counts CPU time in these ticks. */
export const CLOCK_TICKS_PER_SECOND = 100;

/** A process as `/proc/<pid>/stat` describes it. */
export interface ProcStat {
  readonly pid: number;
  readonly parent: number;
  readonly session: number;
  /** Start time in clock ticks since boot; tells a reused pid apart. */
  readonly startTime: string;
  /** CPU time in user mode, in {@linkcode CLOCK_TICKS_PER_SECOND} ticks. */
  readonly userTicks: number;
  /** CPU time in kernel mode, in ticks. */
  readonly systemTicks: number;
  /** Virtual memory size, in bytes. */
  readonly virtualBytes: number;
}

/** Parses a `/proc/<pid>/stat` line; undefined when it is cut short. */
export function parseProcStat(text: string): ProcStat | undefined {
  const pid = Number(text.slice(0, text.indexOf(" ")));
  // The command name is in parentheses and may itself hold spaces or
  // parentheses: the fields that follow start after the last ")". After
  // it: state (3rd field), ppid, pgrp, session, …, utime (14th), stime
  // (15th), …, starttime (22nd), vsize (23rd).
  const fields = text.slice(text.lastIndexOf(")") + 2).split(" ");
  const parent = Number(fields[1]);
  const session = Number(fields[3]);
  const userTicks = Number(fields[11]);
  const systemTicks = Number(fields[12]);
  const startTime = fields[19];
  const virtualBytes = Number(fields[20]);
  if (
    !startTime ||
    ![pid, parent, session, userTicks, systemTicks, virtualBytes].every(
      Number.isSafeInteger,
    )
  ) return undefined;
  return {
    pid,
    parent,
    session,
    startTime,
    userTicks,
    systemTicks,
    virtualBytes,
  };
}

/** Where the `stat` line of process `pid` (or this process) is. */
function statPath(pid: number | "self"): string {
  return `/proc/${pid}/stat`;
}

/**
 * Reads `/proc/<pid>/stat` in one synchronous turn (so it can run with a
 * descriptor from the reserve); undefined when the process is gone.
 */
export function readProcStatSync(pid: number | "self"): ProcStat | undefined {
  let text: string;
  try {
    text = Deno.readTextFileSync(statPath(pid));
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return undefined;
    throw error;
  }
  return parseProcStat(text);
}

/** Reads `/proc/<pid>/stat`; undefined when the process is gone. */
export async function readProcStat(
  pid: number | "self",
): Promise<ProcStat | undefined> {
  let text: string;
  try {
    text = await Deno.readTextFile(statPath(pid));
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return undefined;
    throw error;
  }
  return parseProcStat(text);
}

/**
 * Parses the soft "Max open files" limit out of `/proc/<pid>/limits`;
 * undefined when unlimited or absent.
 */
export function parseOpenFileLimit(limits: string): number | undefined {
  const line = limits.split("\n").find((l) => l.startsWith("Max open files"));
  const soft = line?.slice("Max open files".length).trim().split(/\s+/)[0];
  const value = Number(soft);
  return soft !== undefined && Number.isSafeInteger(value) && value > 0
    ? value
    : undefined;
}

/** Whether `error` means `/proc` is not there or not ours to read. */
function isUnreadable(error: unknown): boolean {
  return error instanceof Deno.errors.PermissionDenied ||
    error instanceof Deno.errors.NotCapable ||
    error instanceof Deno.errors.NotFound;
}

/** The open-file limit of this process, when it can be read. */
export function readOpenFileLimit(): number | undefined {
  if (Deno.build.os !== "linux") return undefined;
  try {
    return parseOpenFileLimit(Deno.readTextFileSync("/proc/self/limits"));
  } catch (error) {
    if (isUnreadable(error)) return undefined;
    throw error;
  }
}

/** Whether this process may read `/proc/self`. */
export function canReadProc(): boolean {
  try {
    Deno.readTextFileSync("/proc/self/status");
    return true;
  } catch (error) {
    if (isUnreadable(error)) return false;
    throw error;
  }
}
