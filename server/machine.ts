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
import { readOpenFileLimit } from "../platform/proc.ts";

/** The facts the settings' `auto` values are resolved from. */
export function machineFacts(): MachineFacts {
  const openFileLimit = readOpenFileLimit();
  return {
    cpus: navigator.hardwareConcurrency,
    ...(openFileLimit === undefined ? {} : { openFileLimit }),
  };
}
