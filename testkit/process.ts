/**
 * Test helpers for running the server as a real subprocess (`deno serve`,
 * `deno serve --parallel`, a bundle), on 127.0.0.1 and a free port.
 *
 * @module
 */

import denoJson from "../deno.json" with { type: "json" };
import { delay } from "./server.ts";
import { finishedWithin } from "../platform/deadline.ts";

/**
 * The permission and unstable flags of a deno.json task, so that tests run
 * the server with exactly what the task gives it.
 */
export function taskFlags(task: "start" | "start:parallel" | "compile") {
  return denoJson.tasks[task].split(" ").filter((word) =>
    word.startsWith("--allow-") || word.startsWith("--unstable-") ||
    word.startsWith("--v8-flags=")
  );
}

/** `deno` arguments that start the server the way each task does. */
export const SERVER = {
  /** `deno task start`: main.ts in one isolate; append flags after it. */
  run: (...flags: string[]) => [
    "run",
    ...taskFlags("start"),
    "main.ts",
    ...flags,
  ],
  /** `deno task start:parallel`. */
  parallel:
    () => ["serve", "--parallel", ...taskFlags("start:parallel"), "serve.ts"],
} as const;

/**
 * Settings for server processes that share rooms (over Redis or one SQLite
 * file): no rate limits in the way of the test's traffic, warnings only in
 * the log, and presence that notices a gone process within a second.
 */
export const SHARED_ROOMS_ENV: Readonly<Record<string, string>> = {
  CHAT_RATE_LIMIT: "0",
  CHAT_CONNECT_RATE: "0",
  CHAT_PRESENCE_HEARTBEAT_MS: "200",
  CHAT_PRESENCE_TTL_MS: "1000",
  LOG_LEVEL: "warn",
};

/**
 * Whether a test needing the system program at `path` (Chromium,
 * redis-server, nginx) is ignored: where the program is missing, except in
 * CI, which installs it so that a missing one fails there instead of
 * passing unnoticed.
 */
export function ignoreWithout(path: string): boolean {
  try {
    if (Deno.statSync(path).isFile) return false;
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
  return Deno.env.get("CI") !== "true";
}

/** A free TCP port on 127.0.0.1, found by binding port 0 and letting go. */
export function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr;
  listener.close();
  return port;
}

/** A running server process; dispose it to stop it. */
export interface ServerProcess extends AsyncDisposable {
  readonly origin: string;
  readonly child: Deno.ChildProcess;
  wsUrl(path: string): string;
  /** Everything printed so far, stdout and stderr interleaved. */
  output(): string;
  /**
   * Waits until the output matches `pattern` and returns it. The port can
   * answer before a line printed earlier has come through the pipe.
   */
  waitForOutput(
    pattern: RegExp | ((output: string) => boolean),
    timeoutMs?: number,
  ): Promise<string>;
  /** Sends `signal` and waits for exit; SIGKILL after `graceMs`. */
  stop(signal?: Deno.Signal, graceMs?: number): Promise<Deno.CommandStatus>;
  /**
   * Waits for an exit already asked for (no signal of its own, which
   * would count as one more); SIGKILL after `graceMs`.
   */
  exited(graceMs: number): Promise<Deno.CommandStatus>;
}

async function collect(
  stream: ReadableStream<Uint8Array>,
  sink: string[],
  onChunk: () => void,
): Promise<void> {
  for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
    sink.push(chunk);
    onChunk();
  }
}

/** Options for {@linkcode startServerProcess}. */
export interface ServerProcessOptions {
  /** Arguments after `deno`, e.g. `SERVER.run("--workers", "2")`. */
  readonly args: readonly string[];
  /** The program to run with `args`. @default the running deno */
  readonly command?: string;
  /** Extra environment; `PORT` and `HOST` are set for you. */
  readonly env?: Record<string, string>;
  /** How long to wait for the port to answer. @default 20000 */
  readonly readyTimeoutMs?: number;
}

/** Starts `deno <args>` and waits until it answers HTTP on its port. */
export async function startServerProcess(
  options: ServerProcessOptions,
): Promise<ServerProcess> {
  const port = freePort();
  const origin = `http://127.0.0.1:${port}`;
  const child = new Deno.Command(options.command ?? Deno.execPath(), {
    args: [...options.args],
    cwd: new URL("..", import.meta.url),
    env: {
      PORT: String(port),
      HOST: "127.0.0.1",
      NO_COLOR: "1",
      ...options.env,
    },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const printed: string[] = [];
  let outputComplete = false;
  let printedMore = Promise.withResolvers<void>();
  const wakeReaders = () => {
    printedMore.resolve();
    printedMore = Promise.withResolvers<void>();
  };
  const drained = Promise.all([
    collect(child.stdout, printed, wakeReaders),
    collect(child.stderr, printed, wakeReaders),
  ]).finally(() => {
    outputComplete = true;
    wakeReaders();
  });

  let exited: Deno.CommandStatus | undefined;
  const status = child.status.then((s) => (exited = s));
  const awaitExit = async (graceMs: number) => {
    if (!exited) {
      const timer = setTimeout(() => {
        if (!exited) child.kill("SIGKILL");
      }, graceMs);
      await status;
      clearTimeout(timer);
    }
    await drained;
    return exited ?? await status;
  };
  const stop = (signal: Deno.Signal = "SIGTERM", graceMs = 5000) => {
    if (!exited) child.kill(signal);
    return awaitExit(graceMs);
  };

  const deadline = Date.now() + (options.readyTimeoutMs ?? 20_000);
  while (true) {
    if (exited) {
      await drained;
      throw new Error(
        `Server exited with ${exited.code} before listening:\n${
          printed.join("")
        }`,
      );
    }
    try {
      const response = await fetch(`${origin}/chat/`);
      await response.body?.cancel();
      if (response.ok) break;
    } catch (error) {
      if (!(error instanceof TypeError)) throw error;
    }
    if (Date.now() > deadline) {
      await stop("SIGKILL");
      throw new Error(`Server did not listen in time:\n${printed.join("")}`);
    }
    await delay(100);
  }

  return {
    origin,
    child,
    wsUrl: (path) => `ws://127.0.0.1:${port}${path}`,
    exited: awaitExit,
    output: () => printed.join(""),
    async waitForOutput(pattern, timeoutMs = 10_000) {
      const deadline = Date.now() + timeoutMs;
      const matches = (output: string) =>
        pattern instanceof RegExp ? pattern.test(output) : pattern(output);
      while (!matches(printed.join(""))) {
        const left = deadline - Date.now();
        if (left <= 0 || outputComplete) {
          throw new Error(
            `Output did not match ${pattern} within ${timeoutMs} ms:\n${
              printed.join("")
            }`,
          );
        }
        await finishedWithin(printedMore.promise, left);
      }
      return printed.join("");
    },
    stop,
    async [Symbol.asyncDispose]() {
      await stop();
    },
  };
}
