/**
 * How a server process stops. Its stop signals, SIGINT and SIGTERM (SIGINT
 * alone on Windows): the first starts the shutdown, a second changes
 * nothing, the third forces the exit, once the `1001` close frames have
 * gone out. And the order of one isolate's shutdown, which keeps every
 * close a `1001`.
 *
 * A second copy of a signal is ordinary: `deno task` passes each signal on
 * to its child a few milliseconds after the child got its own from the
 * terminal or from systemd, which both signal the whole process group. So
 * the listeners stay for the life of the process: removing the last one
 * would restore the default action, and that copy would end the process in
 * the middle of its shutdown.
 *
 * @module
 */

import type { ChatServer } from "./app.ts";
import type { Logger } from "../observability/log.ts";
import type { ResilientListener } from "./listen.ts";
import { finishedWithin } from "../platform/deadline.ts";

/**
 * Shutdown must be done within this, or the process exits anyway; 0.5 s
 * under the 5 s the docs promise.
 */
export const SHUTDOWN_GRACE_MS = 4500;

/** Which stop signal, counting from 1, forces the exit. */
export const FORCING_SIGNAL = 3;

/**
 * After the forcing signal, how long the exit still waits for the shutdown
 * under way: time for the `1001` close frames, queued at the first signal,
 * to be written, not for the peers to answer them.
 */
export const FORCED_EXIT_FLUSH_MS = 200;

/** What {@linkcode listenForStopSignals} reports. */
export interface StopSignals {
  /** Resolves with the first stop signal. */
  readonly first: Promise<Deno.Signal>;
  /** Resolves with the stop signal that forces the exit. */
  readonly forced: Promise<Deno.Signal>;
}

/**
 * Listens for stop signals from now on, for good; the second is logged as
 * `server.shutdown_signal_again` and otherwise ignored.
 */
export function listenForStopSignals(log: Logger): StopSignals {
  const first = Promise.withResolvers<Deno.Signal>();
  const forced = Promise.withResolvers<Deno.Signal>();
  const signals: Deno.Signal[] = Deno.build.os === "windows"
    ? ["SIGINT"]
    : ["SIGINT", "SIGTERM"];
  let received = 0;
  for (const signal of signals) {
    Deno.addSignalListener(signal, () => {
      received++;
      if (received === 1) {
        first.resolve(signal);
      } else if (received < FORCING_SIGNAL) {
        log.info("server.shutdown_signal_again", {
          signal,
          action: "the shutdown goes on; one more signal forces it",
        });
      } else if (received === FORCING_SIGNAL) {
        forced.resolve(signal);
      }
    });
  }
  return { first: first.promise, forced: forced.promise };
}

/**
 * Shuts down one isolate's server: its sockets first, then its listener,
 * whose shutdown tears down any socket still open (a peer with a frame on
 * its way would see its connection fail instead of the `1001`), and the
 * rest of the server (presence, bus, store) meanwhile.
 */
export async function shutDownServer(
  chat: Pick<ChatServer, "closeSockets" | "close">,
  listener: Pick<ResilientListener, "shutdown">,
): Promise<void> {
  const closed = chat.close();
  await chat.closeSockets();
  await Promise.all([listener.shutdown(), closed]);
}

/** How a shutdown ended: done, cut at the grace, or forced by a signal. */
export type ShutdownEnd = "done" | "late" | "forced";

/**
 * Waits for `closing`, the shutdown under way (which may resolve with
 * `false` when it keeps the deadline itself and missed it), for at most
 * {@linkcode SHUTDOWN_GRACE_MS}; after the forcing signal, only
 * {@linkcode FORCED_EXIT_FLUSH_MS} more. Either cut is logged as
 * `server.shutdown_forced`; the caller then exits. With `unref`, the grace
 * deadline does not keep the process alive: under `deno serve` the process
 * exits by itself once nothing is left open.
 */
export async function awaitShutdown(
  closing: Promise<boolean | void>,
  forced: Promise<Deno.Signal>,
  log: Logger,
  { unref = false } = {},
): Promise<ShutdownEnd> {
  const outcome = await Promise.race([
    finishedWithin(closing, SHUTDOWN_GRACE_MS, { unref }).then(async (inTime) =>
      inTime && (await closing) !== false
    ),
    forced,
  ]);
  if (typeof outcome === "string") {
    log.warn("server.shutdown_forced", {
      signal: outcome,
      signals: FORCING_SIGNAL,
    });
    await finishedWithin(closing, FORCED_EXIT_FLUSH_MS);
    return "forced";
  }
  if (!outcome) {
    log.warn("server.shutdown_forced", { afterMs: SHUTDOWN_GRACE_MS });
    return "late";
  }
  return "done";
}
