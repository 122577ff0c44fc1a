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

if (import.meta.main && Deno.build.standalone) {
  Deno.serve({
    port: config.port,
    hostname: config.host,
    onListen: ({ hostname, port }) =>
      server.log.info("server.listen", { url: `http://${hostname}:${port}/` }),
  }, server.fetch);
} else if (import.meta.main && !Deno.env.has("DENO_SERVE_ADDRESS")) {
  Deno.env.set("DENO_SERVE_ADDRESS", denoServeAddress(config));
}

export default { fetch: server.fetch } satisfies Deno.ServeDefaultExport;
