/**
 * The real server as a child process on a fixed port, that a test can
 * stop and start again: what clients see when the server is restarted.
 * Each start tells when the server printed its start line, the moment from
 * which a reconnecting client can be timed.
 *
 * @module
 */

import { SERVER } from "./process.ts";

/** The line `deno task start` prints once it listens. */
const START_LINE = /^Chat server ready at /m;

/** Options for {@linkcode RestartableServer}. */
export interface RestartableServerOptions {
  /** The port every start listens on (see `freePort`). */
  readonly port: number;
  /**
   * Environment of the server; `PORT` and `HOST` are set for you. Give it a
   * `CHAT_DB` file for history that outlives a restart.
   */
  readonly env?: Record<string, string>;
  /** How long a start may take until its start line. @default 30000 */
  readonly startTimeoutMs?: number;
}

interface Running {
  readonly child: Deno.ChildProcess;
  readonly status: Promise<Deno.CommandStatus>;
  readonly drained: Promise<void>;
}

/** A server process that can be started, stopped and started again. */
export class RestartableServer implements AsyncDisposable {
  readonly origin: string;
  readonly #options: RestartableServerOptions;
  #running: Running | undefined;
  #output = "";

  constructor(options: RestartableServerOptions) {
    this.#options = options;
    this.origin = `http://127.0.0.1:${options.port}`;
  }

  /** The WebSocket URL of `path` on this server. */
  wsUrl(path: string): string {
    return `ws://127.0.0.1:${this.#options.port}${path}`;
  }

  /** Everything every start printed so far, stdout and stderr. */
  output(): string {
    return this.#output;
  }

  /**
   * Starts the server and waits for its start line; resolves with the
   * `Date.now()` at which that line was read.
   */
  async start(): Promise<number> {
    if (this.#running) throw new Error("The server is already running");
    const child = new Deno.Command(Deno.execPath(), {
      args: SERVER.run(),
      cwd: new URL("..", import.meta.url),
      env: {
        ...this.#options.env,
        PORT: String(this.#options.port),
        HOST: "127.0.0.1",
        NO_COLOR: "1",
      },
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const started = Promise.withResolvers<number>();
    const printedFrom = this.#output.length;
    const collect = async (stream: ReadableStream<Uint8Array>) => {
      for await (const text of stream.pipeThrough(new TextDecoderStream())) {
        this.#output += text;
        if (START_LINE.test(this.#output.slice(printedFrom))) {
          started.resolve(Date.now());
        }
      }
    };
    const drained = Promise.all([collect(child.stdout), collect(child.stderr)])
      .then(() => {});
    const status = child.status;
    this.#running = { child, status, drained };
    void status.then((exit) =>
      started.reject(
        new Error(
          `The server exited with ${exit.code} before its start line:\n${
            this.#output.slice(printedFrom)
          }`,
        ),
      )
    );
    const timeoutMs = this.#options.startTimeoutMs ?? 30_000;
    const timer = setTimeout(
      () =>
        started.reject(
          new Error(
            `No start line within ${timeoutMs} ms:\n${
              this.#output.slice(printedFrom)
            }`,
          ),
        ),
      timeoutMs,
    );
    try {
      return await started.promise;
    } catch (error) {
      await this.stop("SIGKILL");
      throw error;
    } finally {
      clearTimeout(timer);
    }
  }

  /** Stops the server with `signal` and waits until it has exited. */
  async stop(signal: Deno.Signal = "SIGTERM"): Promise<void> {
    const running = this.#running;
    if (!running) return;
    this.#running = undefined;
    try {
      running.child.kill(signal);
    } catch (error) {
      // It has exited already.
      if (!(error instanceof TypeError)) throw error;
    }
    await running.status;
    await running.drained;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop("SIGKILL");
  }
}
