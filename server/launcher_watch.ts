/**
 * Stops the server when whatever launched it has gone. `npx deno task
 * start` runs the server under `npm exec` → `sh -c` → `deno task`; a
 * SIGTERM to `npm exec` ends the `sh`, which does not pass it on, and would
 * leave the server running as an orphan that holds the port. So the server
 * watches its launchers, the ancestors between it and the nearest session
 * leader (the terminal's shell, a service manager, init), and stops as if
 * it had been sent SIGTERM when one of them exits. Linux only: it reads
 * `/proc`, which Deno opens only to a program run with `--allow-all`
 * (denoland/deno#23703); elsewhere, or without that, it watches nothing
 * and says why through `onUnavailable`.
 *
 * @module
 */

import { withDescriptor } from "../platform/descriptors.ts";
import { type ProcStat, readProcStatSync } from "../platform/proc.ts";

/** How often (ms) the watch looks at its launchers, by default. */
export const LAUNCHER_LOOK_MS = 1000;

/** Reads `/proc/<pid>/stat`, or undefined when the process is gone. */
export function readStat(pid: number): ProcStat | undefined {
  return readProcStatSync(pid);
}

/**
 * The launchers of process `pid`: its ancestors up to, not including, the
 * first that is a session leader or init.
 */
export function launchersOf(pid: number): ProcStat[] {
  const launchers: ProcStat[] = [];
  let current = readStat(pid);
  while (current && current.parent > 1) {
    const parent = readStat(current.parent);
    if (!parent || parent.session === parent.pid) break;
    launchers.push(parent);
    current = parent;
  }
  return launchers;
}

/** Options for {@linkcode watchLaunchers}. */
export interface LauncherWatchOptions {
  /** Called once, when a launcher has exited. */
  readonly onGone: (launcher: number) => void;
  /** How often to look (ms). @default LAUNCHER_LOOK_MS */
  readonly intervalMs?: number;
  /** Called once when there is nothing it can watch, with the reason. */
  readonly onUnavailable?: (reason: string) => void;
  /**
   * Called when a look at `/proc` failed (out of file descriptors in a
   * connection flood, say), once per run of failures; the watch looks
   * again at the next interval.
   */
  readonly onLookFailed?: (error: unknown) => void;
}

/**
 * Watches this process's launchers; returns a function that stops
 * watching. Does nothing where `/proc` cannot be read.
 */
export function watchLaunchers(options: LauncherWatchOptions): () => void {
  if (Deno.build.os !== "linux") {
    options.onUnavailable?.(`there is no /proc on ${Deno.build.os}`);
    return () => {};
  }
  let launchers: ProcStat[];
  try {
    launchers = launchersOf(Deno.pid);
  } catch (error) {
    if (!(error instanceof Deno.errors.NotCapable)) throw error;
    options.onUnavailable?.(
      "Deno lets a program read /proc only with --allow-all",
    );
    return () => {};
  }
  if (launchers.length === 0) return () => {};
  let failing = false;
  const timer = setInterval(() => {
    let gone: ProcStat | undefined;
    try {
      // In a descriptor flood, with one from the reserve.
      gone = withDescriptor(() =>
        launchers.find((launcher) =>
          readStat(launcher.pid)?.startTime !== launcher.startTime
        )
      );
    } catch (error) {
      // Not knowing is not a reason to stop, and a throw from a timer
      // would end the process (in a file-descriptor flood, say): look again.
      if (!failing) options.onLookFailed?.(error);
      failing = true;
      return;
    }
    failing = false;
    if (gone) {
      clearInterval(timer);
      options.onGone(gone.pid);
    }
  }, options.intervalMs ?? LAUNCHER_LOOK_MS);
  // Watching must not keep a stopping process alive.
  Deno.unrefTimer(timer);
  return () => clearInterval(timer);
}
