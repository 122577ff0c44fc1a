/**
 * The one way a failure at start reaches the user, shared by the three
 * entries (`main.ts` through `server/cli.ts`, `serve.ts`, and each worker
 * of `--workers N` through `server/worker_role.ts`): one line on stderr,
 * `Cannot start: …`, and an exit status; never a stack trace.
 *
 * @module
 */

import { StoreError, StoreOpenError } from "../chat/store.ts";
import { TokenKeyError } from "../chat/identity.ts";
import { StartupError } from "./listen.ts";
import { ConfigError } from "./settings.ts";

/** Exit statuses. */
export const ExitCode = {
  Ok: 0,
  CannotStart: 1,
  BadUsage: 2,
} as const;

/** Why the server cannot start, in words the user can act on. */
export interface StartupFailure {
  /** The reason, without the `Cannot start:` prefix. */
  readonly message: string;
  /** {@linkcode ExitCode.BadUsage} for a bad option or value, else `CannotStart`. */
  readonly exitCode: number;
}

/**
 * The failure `error` stands for, when it is one a user can act on: a bad
 * setting, a port that cannot be bound, a store or token key that cannot be
 * used. `undefined` for any other error, which is a bug the caller reports
 * as such.
 */
export function startupFailure(error: unknown): StartupFailure | undefined {
  if (error instanceof ConfigError) {
    return { message: error.message, exitCode: ExitCode.BadUsage };
  }
  if (error instanceof StoreOpenError) {
    return {
      message: `${error.message}; choose another file with --db or CHAT_DB`,
      exitCode: ExitCode.CannotStart,
    };
  }
  if (
    error instanceof StartupError || error instanceof StoreError ||
    error instanceof TokenKeyError
  ) {
    return { message: error.message, exitCode: ExitCode.CannotStart };
  }
  return undefined;
}

/**
 * Writes the one `Cannot start: …` line for `error` to stderr and returns
 * the exit status. An error that is not a known failure still gets one line
 * (its message); its stack goes to `logStack`, if given.
 */
export function reportStartupFailure(
  error: unknown,
  logStack?: (error: unknown) => void,
): number {
  const failure = startupFailure(error);
  if (!failure) logStack?.(error);
  const message = failure?.message ??
    (error instanceof Error ? error.message : String(error));
  console.error(`Cannot start: ${message}`);
  return failure?.exitCode ?? ExitCode.CannotStart;
}
