/** Helpers for command-line tests: running the server to its exit, a spawned server that is stopped on dispose, and checks on its one-line errors and log events. @module */

import assert from "node:assert/strict";
import { finishedWithin } from "../platform/deadline.ts";

export const ROOT = new URL("..", import.meta.url);
export const decoder = new TextDecoder();

/**
 * How a test runs a process: from the project folder, no colours, nothing
 * on stdin, stdout and stderr collected.
 */
function commandOptions(
  args: readonly string[],
  env: Record<string, string>,
): Deno.CommandOptions {
  return {
    args: [...args],
    cwd: ROOT,
    env: { NO_COLOR: "1", ...env },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  };
}

/** A process that has exited, and everything it printed. */
export interface Finished {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Runs `deno <args>` from the project folder until it exits. A run that
 * does not end within `timeoutMs` (a server that started when it should
 * not have) is sent SIGTERM, so the test fails instead of hanging.
 */
export async function runToExit(
  args: readonly string[],
  env: Record<string, string> = {},
  timeoutMs = 30_000,
): Promise<Finished> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), timeoutMs);
  try {
    const output = await new Deno.Command(Deno.execPath(), {
      ...commandOptions(args, env),
      signal: controller.signal,
    }).output();
    return {
      code: output.code,
      stdout: decoder.decode(output.stdout),
      stderr: decoder.decode(output.stderr),
    };
  } finally {
    clearTimeout(timer);
  }
}

export function describe(run: Finished): string {
  return `exit ${run.code}\n--- stdout\n${run.stdout}--- stderr\n${run.stderr}`;
}

/**
 * Asserts that `run` exited with `code` after printing exactly one line,
 * `Cannot start: …`, on stderr and nothing on stdout, with no stack trace;
 * the line must contain every string and match every pattern of `says`.
 */
export function assertOneLine(
  run: Finished,
  code: number,
  ...says: (string | RegExp)[]
): void {
  assert.equal(run.code, code, describe(run));
  assert.doesNotMatch(`${run.stdout}${run.stderr}`, /^\s+at /m, describe(run));
  assert.equal(run.stdout, "", describe(run));
  const lines = run.stderr.split("\n").filter((line) => line.trim() !== "");
  assert.equal(lines.length, 1, describe(run));
  const [line = ""] = lines;
  assert.match(line, /^Cannot start: /);
  for (const expected of says) {
    if (typeof expected === "string") {
      assert.ok(line.includes(expected), `${line}\ndoes not name ${expected}`);
    } else {
      assert.match(line, expected);
    }
  }
}

/**
 * A long-running process whose stdout and stderr are collected. Unlike
 * `startServerProcess` it waits for a line rather than for HTTP on
 * 127.0.0.1, and it tells when its pipes close: when every process that
 * holds them (children included) has exited.
 */
export class Spawned implements AsyncDisposable {
  readonly child: Deno.ChildProcess;
  /** Settles when stdout and stderr have both reached their end. */
  readonly pipesClosed: Promise<void>;
  #printed = "";
  #closed = false;
  #exited = false;
  #more = Promise.withResolvers<void>();

  constructor(command: string, args: readonly string[], env = {}) {
    this.child = new Deno.Command(command, commandOptions(args, env))
      .spawn();
    void this.child.status.then(() => (this.#exited = true));
    this.pipesClosed = Promise.all([
      this.#collect(this.child.stdout),
      this.#collect(this.child.stderr),
    ]).then(() => {
      this.#closed = true;
      this.#wake();
    });
  }

  async #collect(stream: ReadableStream<Uint8Array>): Promise<void> {
    for await (const text of stream.pipeThrough(new TextDecoderStream())) {
      this.#printed += text;
      this.#wake();
    }
  }

  #wake(): void {
    this.#more.resolve();
    this.#more = Promise.withResolvers<void>();
  }

  /** Everything printed so far. */
  output(): string {
    return this.#printed;
  }

  /** Whether stdout and stderr have reached their end. */
  get closed(): boolean {
    return this.#closed;
  }

  /** Waits until the output matches `pattern`; fails if the pipes close first. */
  async waitFor(
    pattern: RegExp,
    timeoutMs = 30_000,
  ): Promise<RegExpMatchArray> {
    const deadline = Date.now() + timeoutMs;
    while (true) {
      const match = this.#printed.match(pattern);
      if (match) return match;
      const left = deadline - Date.now();
      if (this.#closed || left <= 0) {
        throw new Error(
          `Output did not match ${pattern}${
            this.#closed ? " before the process ended" : ` in ${timeoutMs} ms`
          }:\n${this.#printed}`,
        );
      }
      await this.#sleepUntilMore(left);
    }
  }

  /** Waits until the pipes close; fails after `timeoutMs`. */
  async waitForClose(timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!this.#closed) {
      const left = deadline - Date.now();
      if (left <= 0) {
        throw new Error(
          `Output still open after ${timeoutMs} ms:\n${this.#printed}`,
        );
      }
      await this.#sleepUntilMore(left);
    }
  }

  async #sleepUntilMore(ms: number): Promise<void> {
    await finishedWithin(this.#more.promise, ms);
  }

  /** Sends `signal` unless it has exited; SIGKILL after 8 s; waits for it all. */
  async stop(signal: Deno.Signal = "SIGTERM"): Promise<Deno.CommandStatus> {
    if (!this.#exited) this.child.kill(signal);
    const timer = setTimeout(() => {
      if (!this.#exited) this.child.kill("SIGKILL");
    }, 8000);
    const status = await this.child.status;
    clearTimeout(timer);
    await this.pipesClosed;
    return status;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }
}

/** The port in a start line's URL. */
export const START_LINE =
  /^Chat server ready at http:\/\/(\[[^\]]+\]|[^:/]+):(\d+)\/chat\/ /m;

/** The address and port a server's start line names. */
export async function announced(server: Spawned) {
  const [, host = "", port = ""] = await server.waitFor(START_LINE);
  return { address: host.replace(/^\[(.*)\]$/, "$1"), port: Number(port) };
}
