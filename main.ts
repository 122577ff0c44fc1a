/**
 * The entry point. Builds the server from flags and environment and serves it:
 *
 * - under `deno serve` (and `deno serve --parallel`), through the default
 *   export; `PORT` and `HOST` reach `deno serve` as `DENO_SERVE_ADDRESS`,
 *   which it reads once this module has been evaluated;
 * - in a binary made by `deno compile`, which always runs in "run" mode and
 *   ignores the default export, through `Deno.serve`.
 *
 * `import.meta.main` is true under `deno serve` too, so it cannot tell the
 * two apart; `Deno.build.standalone` can, and keeps the port from being
 * bound twice.
 *
 * @module
 */

import { createChatServer } from "./app.ts";
import { ConfigError, denoServeAddress, loadConfig } from "./config.ts";

function readConfig() {
  try {
    return loadConfig(Deno.args, (name) => Deno.env.get(name));
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    console.error(`Cannot start: ${error.message}`);
    Deno.exit(2);
  }
}

const config = readConfig();
const server = createChatServer({ config });

/** Shutdown must finish within this, or the process exits anyway. */
const SHUTDOWN_GRACE_MS = 4500;

/**
 * On SIGINT or SIGTERM: stop accepting, send 1001 to every socket, close
 * the BroadcastChannels and the store. Under `deno serve` each isolate does
 * this for itself, and the process exits once nothing is left open (an open
 * BroadcastChannel would otherwise keep it running).
 */
function exitOnSignals(listener?: Deno.HttpServer): void {
  let stopping = false;
  const stop = (signal: Deno.Signal) => {
    if (stopping) return;
    stopping = true;
    server.log.info("server.shutdown", { signal });
    const deadline = setTimeout(() => {
      server.log.warn("server.shutdown_forced", { afterMs: SHUTDOWN_GRACE_MS });
      Deno.exit(0);
    }, SHUTDOWN_GRACE_MS);
    Deno.unrefTimer(deadline);
    Promise.all([listener?.shutdown(), server.close()]).catch((error) => {
      server.log.error("server.shutdown_failed", { error });
      Deno.exit(1);
    });
  };
  const signals: Deno.Signal[] = Deno.build.os === "windows"
    ? ["SIGINT"]
    : ["SIGINT", "SIGTERM"];
  for (const signal of signals) {
    Deno.addSignalListener(signal, () => stop(signal));
  }
}

if (import.meta.main && Deno.build.standalone) {
  const listener = Deno.serve({
    port: config.port,
    hostname: config.host,
    onListen: ({ hostname, port }) =>
      server.log.info("server.listen", { url: `http://${hostname}:${port}/` }),
  }, server.fetch);
  exitOnSignals(listener);
} else if (import.meta.main) {
  if (!Deno.env.has("DENO_SERVE_ADDRESS")) {
    Deno.env.set("DENO_SERVE_ADDRESS", denoServeAddress(config));
  }
  exitOnSignals();
}

export default { fetch: server.fetch } satisfies Deno.ServeDefaultExport;
