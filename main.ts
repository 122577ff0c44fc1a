/**
 * The entry point of `deno task start`, `deno run main.ts` and the binary
 * made by `deno compile`: the command line (see `--help`). Under
 * `--workers N` this same module is started again inside each Worker, in
 * the worker role, so that a bundle or a binary carries the worker's code.
 * `deno serve` has its own entry, `serve.ts`.
 *
 * @module
 */

import { runCommandLine } from "./server/cli.ts";
import { runWorker, workerScope } from "./server/worker_role.ts";

const scope = workerScope();
if (scope) {
  runWorker(scope);
} else if (import.meta.main) {
  Deno.exit(
    await runCommandLine({
      args: Deno.args,
      env: (name) => Deno.env.get(name),
      moduleUrl: import.meta.url,
    }),
  );
}
