/**
 * This isolate's server under `deno serve` and `deno serve --parallel`:
 * what `serve.ts` runs in each isolate (see there for why it is an entry
 * of its own).
 *
 * @module
 */

import { createChatServer } from "./app.ts";
import { describeData } from "./backends.ts";
import {
  descriptorReserve,
  RESERVED_DESCRIPTORS,
  warmUpStackTraces,
} from "../platform/descriptors.ts";
import { createLogger, writeEachLine } from "../observability/log.ts";
import { awaitShutdown, listenForStopSignals } from "./shutdown.ts";
import { denoServeAddress, startLine } from "./listen.ts";
import { reportStartupFailure, startupFailure } from "./startup_failure.ts";
import { type Config, ConfigError, loadConfig } from "./settings.ts";

/** Says in one line why this isolate cannot start, and exits. */
function fail(error: unknown): never {
  if (!startupFailure(error)) throw error;
  Deno.exit(reportStartupFailure(error));
}

function readConfig(): Config {
  try {
    const config = loadConfig(Deno.args, (name) => Deno.env.get(name));
    if (config.workers !== 1) {
      throw new ConfigError(
        "--workers is for `deno task start` and the binary; under deno serve use --parallel (and DENO_JOBS)",
      );
    }
    return config;
  } catch (error) {
    return fail(error);
  }
}

/**
 * Starts this isolate's chat server under `deno serve`: settings, the start
 * line (from the first isolate), the signal listeners, the store; resolves
 * with what `deno serve` calls for each request. A failure to start is one
 * line and an exit.
 */
export async function startDenoServe(): Promise<Deno.ServeDefaultExport> {
  // The first isolate runs on the process's main thread, which must survive
  // a flood of connections without a free descriptor (see platform/descriptors.ts);
  // one reserve per isolate is simplest, and a few descriptors each.
  warmUpStackTraces();
  descriptorReserve.keep(RESERVED_DESCRIPTORS);

  const config = readConfig();
  let address: string;
  try {
    address = denoServeAddress(config);
  } catch (error) {
    fail(error);
  }
  // Every isolate evaluates this module; the first one to get here tells
  // deno serve the address and prints the start line.
  if (!Deno.env.has("DENO_SERVE_ADDRESS")) {
    Deno.env.set("DENO_SERVE_ADDRESS", address);
    console.log(startLine({
      address: { hostname: config.host, port: config.port },
      mode: "deno serve",
      data: describeData(config),
    }));
  }

  // Each isolate's lines must keep the name deno serve gives them.
  const log = createLogger({ level: config.logLevel, write: writeEachLine });
  /**
   * On SIGINT or SIGTERM each isolate stops accepting sockets, sends 1001 to
   * its sockets and closes its channels and store; the process then exits by
   * itself once nothing is left open. A second signal changes nothing, a
   * third exits at once (after the close frames). The listeners come before
   * the store opens: an isolate still opening the database (waiting for
   * another one's migration) must not miss a signal and keep the process
   * alive.
   */
  const signals = listenForStopSignals(log);
  let server;
  try {
    server = await createChatServer({ config, log });
  } catch (error) {
    fail(error);
  }
  const chat = server;

  void signals.first.then(async (signal) => {
    log.info("server.shutdown", { reason: signal });
    const closing = chat.close().catch((error) => {
      log.error("server.shutdown_failed", { error });
      Deno.exit(1);
    });
    const end = await awaitShutdown(closing, signals.forced, log, {
      unref: true,
    });
    if (end !== "done") {
      Deno.exit(0);
    }
  });

  return { fetch: chat.fetch };
}
