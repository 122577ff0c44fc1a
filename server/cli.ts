/**
 * The command line of `main.ts` and of the compiled binary: `--help`,
 * `--version`, the settings, and then one isolate or `--workers N`, served
 * until SIGINT, SIGTERM or the end of the launcher. Every way of failing is
 * one line on stderr and an exit status: 2 for a bad option or value, 1 for
 * a server that cannot start; never a stack trace.
 *
 * @module
 */

import { type ChatServer, createChatServer } from "./app.ts";
import { describeData, openStore } from "./backends.ts";
import { type Store, StoreError } from "../chat/store.ts";
import {
  descriptorReserve,
  RESERVED_DESCRIPTORS,
  warmUpStackTraces,
} from "../platform/descriptors.ts";
import { createLogger, type Logger } from "../observability/log.ts";
import { ExitCode, reportStartupFailure } from "./startup_failure.ts";
import { watchLaunchers } from "./launcher_watch.ts";
import {
  listenerEvents,
  serveResiliently,
  startLine,
  urlOf,
} from "./listen.ts";
import { type Config, ConfigError, parseCommandLine } from "./settings.ts";
import { helpText, VERSION } from "./settings_docs.ts";
import { machineFacts } from "./machine.ts";
import {
  awaitShutdown,
  listenForStopSignals,
  SHUTDOWN_GRACE_MS,
  shutDownServer,
  type StopSignals,
} from "./shutdown.ts";
import { WorkerSupervisor } from "./workers.ts";

export { ExitCode };

/** What the command line needs from the outside world. */
export interface CommandLineContext {
  readonly args: readonly string[];
  readonly env: (name: string) => string | undefined;
  /** The entry module, started again as each worker. */
  readonly moduleUrl: string;
}

/** Whether the kernel spreads connections over `SO_REUSEPORT` listeners. */
function balancesReusePort(): boolean {
  return Deno.build.os === "linux" || Deno.build.os === "android";
}

/** Resolves when a stop is asked for: a signal, or the launcher's end. */
function stopRequested(log: Logger, signals: StopSignals): Promise<string> {
  const { promise, resolve } = Promise.withResolvers<string>();
  void signals.first.then(resolve);
  const unwatch = watchLaunchers({
    onGone: (launcher) => {
      log.warn("server.launcher_exited", { launcher });
      resolve("launcher exited");
    },
    onUnavailable: (reason) =>
      log.debug("server.launcher_watch_off", { reason }),
    onLookFailed: (error) =>
      log.warn("server.launcher_watch_failed", {
        error,
        action: "looking again in a second",
      }),
  });
  return promise.finally(unwatch);
}

/**
 * Says in one line, at start, that the store found its data damaged: the
 * server serves what it can read and `/healthz` answers 503 `corrupt`.
 * Other failures of the probe come and go (a full disk, Redis away), and
 * `/healthz` reports them as they do.
 */
async function warnIfDamaged(store: Store): Promise<void> {
  try {
    await store.ping();
  } catch (error) {
    if (!(error instanceof StoreError)) throw error;
    if (error.kind !== "corrupt") return;
    const what = error.message.charAt(0).toUpperCase() + error.message.slice(1);
    console.error(
      `${what}. Serving what can be read; /healthz answers 503 "corrupt". Stop the server and restore the data from a backup.`,
    );
  }
}

/** Serves in this isolate alone until `stop` resolves. */
async function serveAlone(
  config: Config,
  log: Logger,
  stop: Promise<string>,
  forced: Promise<Deno.Signal>,
): Promise<number> {
  // A store or token key that cannot be used is reported by the caller.
  const chat: ChatServer = await createChatServer({ config, log, alone: true });
  let listener;
  try {
    listener = serveResiliently(
      { host: config.host, port: config.port },
      chat.fetch,
      listenerEvents(log),
    );
  } catch (error) {
    await chat.close();
    throw error;
  }
  announce(config, listener.address, "1 isolate", log);
  await warnIfDamaged(chat.store);
  const reason = await stop;
  log.info("server.shutdown", { reason });
  await awaitShutdown(
    shutDownServer(chat, listener),
    forced,
    log,
  );
  return ExitCode.Ok;
}

/** Serves with `config.workers` workers until `stop` resolves. */
async function serveWithWorkers(
  config: Config,
  log: Logger,
  stop: Promise<string>,
  forced: Promise<Deno.Signal>,
  context: CommandLineContext,
): Promise<number> {
  // Open the store once here: a path or a Redis that cannot be used is
  // reported once, and the schema is migrated before the workers share it.
  const store = await openStore(config, log);
  try {
    await warnIfDamaged(store);
  } finally {
    await store.close();
  }
  const testHooks = context.env("CHAT_TEST_HOOKS") === "1";
  const supervisor = new WorkerSupervisor({
    config,
    args: context.args,
    moduleUrl: context.moduleUrl,
    log,
    testHooks,
  });
  const address = await supervisor.start();
  announce(config, address, `${config.workers} workers`, log);
  const crashOnSignal = () => supervisor.crash(0);
  if (testHooks) Deno.addSignalListener("SIGUSR2", crashOnSignal);
  const reason = await stop;
  if (testHooks) Deno.removeSignalListener("SIGUSR2", crashOnSignal);
  log.info("server.shutdown", { reason });
  await awaitShutdown(supervisor.shutdown(SHUTDOWN_GRACE_MS), forced, log);
  return ExitCode.Ok;
}

/** Prints the start line and logs the start event. */
function announce(
  config: Config,
  address: Pick<Deno.NetAddr, "hostname" | "port">,
  mode: string,
  log: Logger,
): void {
  console.log(startLine({ address, mode, data: describeData(config) }));
  log.info("server.start", {
    url: urlOf(address),
    mode,
    workers: config.workers,
    maxConnections: config.maxConnections,
    data: describeData(config),
    version: VERSION,
  });
}

/** Runs the command line; resolves with the exit status. */
export async function runCommandLine(
  context: CommandLineContext,
): Promise<number> {
  let command;
  try {
    command = parseCommandLine(context.args, context.env, machineFacts());
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    return reportStartupFailure(error);
  }
  if (command.kind === "help") {
    console.log(helpText());
    return ExitCode.Ok;
  }
  if (command.kind === "version") {
    console.log(`chat-server ${VERSION}`);
    return ExitCode.Ok;
  }
  let { config } = command;
  const log = createLogger({ level: config.logLevel });
  if (config.workers > 1 && !balancesReusePort()) {
    console.error(
      `Serving with 1 worker instead of ${config.workers}: ${Deno.build.os} does not spread connections over listeners that share a port.`,
    );
    config = { ...config, workers: 1 };
  }
  // This is the process's main thread: in a flood of connections it must
  // survive without a free descriptor (see platform/descriptors.ts).
  warmUpStackTraces();
  descriptorReserve.keep(RESERVED_DESCRIPTORS);
  // Listen for signals before anything starts: a SIGTERM that arrives
  // while the workers start must stop the server cleanly, not kill it.
  const signals = listenForStopSignals(log);
  const stop = stopRequested(log, signals);
  try {
    return config.workers > 1
      ? await serveWithWorkers(config, log, stop, signals.forced, context)
      : await serveAlone(config, log, stop, signals.forced);
  } catch (error) {
    // Not a known failure: still one line for the user, the stack in the log.
    return reportStartupFailure(
      error,
      (error) => log.debug("server.start_failed", { error }),
    );
  }
}
