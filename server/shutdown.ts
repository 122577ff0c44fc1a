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
 * signals that come within {@linkcode SIGNAL_COPY_WINDOW_MS} of the last
 * one counted are copies of it and count once: one Ctrl-C is one signal
 * with or without `deno task`, and a stop sent twice in a row does not
 * force the exit. And the listeners stay for the life of the process:
 * removing the last one would restore the default action, and a copy would
 * end the process in the middle of its shutdown.
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

/**
 * Signals this soon after the last one counted are copies of it: `deno
 * task`'s copy comes a few milliseconds after the group's, and no one
 * presses Ctrl-C twice this fast.
 */
export const SIGNAL_COPY_WINDOW_MS = 150;

/** What one more stop signal means, in the order they come. */
export type StopSignalMeaning =
  | "first"
  | "again"
  | "forcing"
  | "copy"
  | "later";

/**
 * Counts stop signals, taking those within {@linkcode SIGNAL_COPY_WINDOW_MS}
 * of the last one counted as its copies.
 */
export class StopSignalCount {
  readonly #now: () => number;
  #counted = 0;
  #lastCountedAt = -Infinity;

  /** @param now the clock, in milliseconds; `performance.now` by default */
  constructor(now: () => number = () => performance.now()) {
    this.#now = now;
  }

  /** Counts one signal and says what it means. */
  take(): StopSignalMeaning {
    const at = this.#now();
    if (at - this.#lastCountedAt < SIGNAL_COPY_WINDOW_MS) return "copy";
    this.#lastCountedAt = at;
    this.#counted++;
    if (this.#counted === 1) return "first";
    if (this.#counted < FORCING_SIGNAL) return "again";
    return this.#counted === FORCING_SIGNAL ? "forcing" : "later";
  }
}

/** What {@linkcode listenForStopSignals} reports. */
export interface StopSignals {
  /** Resolves with the first stop signal. */
  readonly first: Promise<Deno.Signal>;
  /** Resolves with the stop signal that forces the exit. */
  readonly forced: Promise<Deno.Signal>;
}

/**
 * Listens for stop signals from now on, for good; the second is logged as
 * `server.shutdown_signal_again` and otherwise ignored, and so is a copy
 * (`server.shutdown_signal_copy`).
 */
export function listenForStopSignals(log: Logger): StopSignals {
  const first = Promise.withResolvers<Deno.Signal>();
  const forced = Promise.withResolvers<Deno.Signal>();
  const signals: Deno.Signal[] = Deno.build.os === "windows"
    ? ["SIGINT"]
    : ["SIGINT", "SIGTERM"];
  const count = new StopSignalCount();
  for (const signal of signals) {
    Deno.addSignalListener(signal, () => {
      switch (count.take()) {
        case "first":
          first.resolve(signal);
          break;
        case "again":
          log.info("server.shutdown_signal_again", {
            signal,
            action: "the shutdown goes on; one more signal forces it",
          });
          break;
        case "copy":
          log.info("server.shutdown_signal_copy", {
            signal,
            action: "a copy of the signal before, which it follows within " +
              `${SIGNAL_COPY_WINDOW_MS} ms; counted once`,
          });
          break;
        case "forcing":
          forced.resolve(signal);
          break;
        case "later":
          break;
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
