/**
 * What the server reads about the machine it runs on, for the settings
 * that say `auto`: the CPUs (`--workers auto`) and the process's open-file
 * limit (`--max-connections auto`). The limit comes from
 * `/proc/self/limits`, which Deno opens only under `--allow-all`; where it
 * cannot be read it is unknown and `auto` falls back to its fixed ceiling.
 *
 * @module
 */

import type { MachineFacts } from "./settings.ts";

/** Parses the soft "Max open files" limit out of `/proc/self/limits`. */
export function parseOpenFileLimit(limits: string): number | undefined {
  const line = limits.split("\n").find((l) => l.startsWith("Max open files"));
  const soft = line?.slice("Max open files".length).trim().split(/\s+/)[0];
  const value = Number(soft);
  return soft !== undefined && Number.isSafeInteger(value) && value > 0
    ? value
    : undefined;
}

/** The open-file limit of this process, when it can be read. */
export function readOpenFileLimit(): number | undefined {
  if (Deno.build.os !== "linux") return undefined;
  try {
    return parseOpenFileLimit(Deno.readTextFileSync("/proc/self/limits"));
  } catch (error) {
    if (
      error instanceof Deno.errors.NotCapable ||
      error instanceof Deno.errors.NotFound
    ) return undefined;
    throw error;
  }
}

/** The facts the settings' `auto` values are resolved from. */
export function machineFacts(): MachineFacts {
  const openFileLimit = readOpenFileLimit();
  return {
    cpus: navigator.hardwareConcurrency,
    ...(openFileLimit === undefined ? {} : { openFileLimit }),
  };
}
