/**
 * The entry point for `deno serve` and `deno serve --parallel` (`deno task
 * start:parallel`): it exports `default { fetch }` and `deno serve` binds
 * the port. `main.ts` cannot be that entry too: `import.meta.main` is true
 * under both `deno run` and `deno serve`, so one module could not tell
 * whether to bind the port itself (denoland/deno#29447).
 *
 * The same settings apply. `PORT` and `HOST` reach `deno serve` as
 * `DENO_SERVE_ADDRESS`, which it reads once this module has been evaluated;
 * `deno serve` cannot resolve host names, so `--host` must be an IP address
 * (or `localhost`, taken as 127.0.0.1) here: a name it could not use would
 * make it listen on every interface instead.
 *
 * @module
 */

import { startDenoServe } from "./server/deno_serve.ts";

export default await startDenoServe();
