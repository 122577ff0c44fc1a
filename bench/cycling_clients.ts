/**
 * Members of one room who leave and come back, over and over, held by a
 * process of their own: the churn of bench/churn.ts, kept out of the
 * process that measures latency so that its connecting never delays a
 * delivery there. As a program it opens `count` typed sockets in `room`,
 * each from a source address of its own, prints one JSON line
 * `{"admitted": n, "failed": k, "errors": [...]}`, then obeys JSON lines on
 * its standard input:
 *
 * - `"start"`: every socket starts cycling: close (code 1000, handshake
 *   awaited), then reconnect under a new name, each at most once per
 *   `count / rate` seconds, so the whole process makes at most `rate`
 *   reconnects a second; it answers `{"cycling": true}`.
 * - `"stop"`: each socket finishes its cycle (so all are connected again),
 *   and it prints what the cycling did:
 *   `{"cycles": n, "failures": k, "closedByServer": c, "seconds": s,
 *   "deadline": false, "errors": [...]}`.
 *
 * Cycling stops by itself after `deadline` seconds; the process closes its
 * sockets and exits when its input closes (or on SIGTERM).
 * {@linkcode startCycling} starts such a process.
 *
 *     deno run -A bench/cycling_clients.ts ws://127.0.0.1:8000 <room> <count> <reconnects per second> <deadline s> [first index]
 *
 * A new name every time, because the chat server gathers joins and leaves
 * for 150 ms and drops a leave and a join of the same name that cancel
 * out: someone who comes straight back under their own name is announced
 * to nobody. Under a new name every cycle is a `leave` and a `join` that
 * the whole room hears, the most presence traffic cycling can cause.
 *
 * @module
 */

import {
  closeAll,
  connect,
  DeadlineError,
  openMany,
  sleep,
  sourceAddress,
  WebSocket,
  within,
} from "./client.ts";
import {
  isOpenedReport,
  LineReader,
  type OpenedReport,
} from "./idle_clients.ts";

/** What one period of cycling did, from `"start"` to `"stop"`. */
export interface CycleReport {
  /** Reconnects that were admitted again. */
  readonly cycles: number;
  /** Reconnects that failed (refused, closed or timed out). */
  readonly failures: number;
  /**
   * Sockets the server closed that were not being cycled, since the
   * previous report (the first counts from admission).
   */
  readonly closedByServer: number;
  /** From `"start"` until every socket had finished its last cycle. */
  readonly seconds: number;
  /** Whether the deadline, not `"stop"`, ended the cycling. */
  readonly deadline: boolean;
  readonly errors: readonly string[];
}

function isCycleReport(value: unknown): value is CycleReport {
  return typeof value === "object" && value !== null &&
    "cycles" in value && typeof value.cycles === "number" &&
    "failures" in value && typeof value.failures === "number" &&
    "closedByServer" in value && typeof value.closedByServer === "number" &&
    "seconds" in value && typeof value.seconds === "number" &&
    "deadline" in value && typeof value.deadline === "boolean" &&
    "errors" in value && Array.isArray(value.errors) &&
    value.errors.every((error) => typeof error === "string");
}

/** The answer to `"start"`. */
function isCyclingAnswer(value: unknown): boolean {
  return typeof value === "object" && value !== null && "cycling" in value &&
    value.cycling === true;
}

/** Options for {@linkcode startCycling}. */
export interface CyclingOptions {
  /** The chat server's WebSocket origin, e.g. `ws://127.0.0.1:8000`. */
  readonly origin: string;
  /** The room's name. */
  readonly room: string;
  /** Sockets that cycle. */
  readonly count: number;
  /** Reconnects per second over all of them, at most. */
  readonly reconnectsPerSecond: number;
  /** Longest one period of cycling may last, in ms. @default 300000 */
  readonly deadlineMs?: number;
  /**
   * Index of the first socket: names and source addresses follow from it,
   * so give each group of clients its own. @default 0
   */
  readonly firstIndex?: number;
  /** How long opening them may take. @default 60000 */
  readonly timeoutMs?: number;
}

/** Cycling sockets in a child process; dispose to close them. */
export interface CyclingClients extends AsyncDisposable {
  readonly admitted: number;
  readonly failed: number;
  readonly errors: readonly string[];
  /** Starts cycling; resolves once the process has confirmed it. */
  start(): Promise<void>;
  /** Stops cycling; resolves with what it did (deadline 30 s). */
  stop(): Promise<CycleReport>;
  /** Closes the sockets and waits for the process (SIGKILL after 15 s). */
  release(): Promise<void>;
}

/**
 * Starts a child process holding `count` sockets in one room, ready to
 * cycle, and resolves once all are admitted or have failed; the process
 * is stopped when this is released or disposed, or when opening fails.
 */
export async function startCycling(
  options: CyclingOptions,
): Promise<CyclingClients> {
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-all",
      new URL(import.meta.url).pathname,
      options.origin,
      options.room,
      String(options.count),
      String(options.reconnectsPerSecond),
      String((options.deadlineMs ?? 300_000) / 1000),
      String(options.firstIndex ?? 0),
    ],
    stdin: "piped",
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const output = new LineReader(child.stdout);
  const input = child.stdin.getWriter();
  const encoder = new TextEncoder();
  const send = (command: string) =>
    input.write(encoder.encode(`${JSON.stringify(command)}\n`));
  let released: Promise<void> | undefined;
  const release = () =>
    released ??= (async () => {
      const timer = setTimeout(() => child.kill("SIGKILL"), 15_000);
      try {
        try {
          await input.close();
        } catch (error) {
          if (!(error instanceof TypeError)) throw error; // already closed
        }
        await child.status;
      } finally {
        clearTimeout(timer);
      }
    })();
  try {
    const opened = await within(
      output.next(),
      options.timeoutMs ?? 60_000,
      `${options.count} cycling clients`,
    );
    if (!isOpenedReport(opened)) {
      throw new Error(`cycling clients reported ${JSON.stringify(opened)}`);
    }
    return {
      admitted: opened.admitted,
      failed: opened.failed,
      errors: opened.errors,
      async start() {
        await send("start");
        const answer = await within(output.next(), 10_000, "start cycling");
        if (!isCyclingAnswer(answer)) {
          throw new Error(`cycling clients answered ${JSON.stringify(answer)}`);
        }
      },
      async stop() {
        await send("stop");
        const report = await within(output.next(), 30_000, "stop cycling");
        if (!isCycleReport(report)) {
          throw new Error(`cycling clients reported ${JSON.stringify(report)}`);
        }
        return report;
      },
      release,
      [Symbol.asyncDispose]: release,
    };
  } catch (error) {
    await release();
    throw error;
  }
}

/** Counts shared by the sockets of the process. */
interface Counts {
  cycles: number;
  failures: number;
  closedByServer: number;
  errors: string[];
}

/** One socket of the room and the names it has gone by. */
class Cycler {
  socket: WebSocket | undefined;
  /** Whether the open socket is being closed on purpose. */
  #leaving = { value: false };
  #generation = 0;

  constructor(
    readonly index: number,
    readonly url: (name: string) => string,
    readonly counts: Counts,
  ) {}

  /** Connects under its next name; rejects when it is not admitted. */
  async open(): Promise<void> {
    const leaving = { value: false };
    let admitted = false;
    const socket = await connect(
      this.url(`k${this.index}n${this.#generation++}`),
      {
        localAddress: sourceAddress(this.index),
        onClose: () => {
          if (admitted && !leaving.value) this.counts.closedByServer += 1;
        },
        timeoutMs: 10_000,
      },
    );
    admitted = true;
    this.socket = socket;
    this.#leaving = leaving;
  }

  /** Closes its socket and waits for the close (5 s, then cut). */
  async leave(): Promise<void> {
    this.#leaving.value = true;
    await closeAll([this.socket]);
    this.socket = undefined;
  }
}

/** A period of cycling: every socket's loop, and how to stop them. */
class Cycling {
  readonly #started = performance.now();
  readonly #done: Promise<void>;
  #going = true;
  #deadline = false;

  constructor(
    cyclers: readonly Cycler[],
    reconnectsPerSecond: number,
    deadlineMs: number,
  ) {
    // Each socket at most once per interval, offset so that they take
    // turns rather than all reconnecting in the same millisecond.
    const interval = (1000 * cyclers.length) / reconnectsPerSecond;
    const deadline = this.#started + deadlineMs;
    this.#done = Promise.all(cyclers.map(async (cycler, order) => {
      let due = this.#started + (interval * order) / cyclers.length;
      while (this.#going) {
        const wait = due - performance.now();
        if (wait > 0) await sleep(wait);
        if (!this.#going) break;
        const now = performance.now();
        if (now > deadline) {
          this.#deadline = true;
          break;
        }
        // Late (a slow reconnect) is not made up for: the rate stays a
        // bound, never a burst.
        due = Math.max(due, now) + interval;
        await cycler.leave();
        try {
          await cycler.open();
          cycler.counts.cycles += 1;
        } catch (error) {
          cycler.counts.failures += 1;
          if (cycler.counts.errors.length < 5) {
            cycler.counts.errors.push(String(error));
          }
        }
      }
    })).then(() => {});
  }

  /** Stops after every socket's current cycle. */
  async stop(): Promise<{ seconds: number; deadline: boolean }> {
    this.#going = false;
    await this.#done;
    return {
      seconds: (performance.now() - this.#started) / 1000,
      deadline: this.#deadline,
    };
  }
}

async function main(args: string[]): Promise<void> {
  // npm:ws ends a closed socket's streams again, and Deno's Node streams
  // answer each with an error (ERR_STREAM_ALREADY_FINISHED) that nobody
  // sees: three per close, whose stack traces took a quarter of this
  // process's CPU, on the cores of the server it measures. Errors shown
  // here are their messages alone.
  Error.stackTraceLimit = 0;
  const [origin, room, countText, rateText, deadlineText, firstText = "0"] =
    args;
  if (!origin || !room || !countText || !rateText || !deadlineText) {
    console.error(
      "usage: bench/cycling_clients.ts ws://HOST:PORT <room> <count> <reconnects per second> <deadline s> [first index]",
    );
    Deno.exit(2);
  }
  const count = Number(countText);
  const first = Number(firstText);
  const counts: Counts = {
    cycles: 0,
    failures: 0,
    closedByServer: 0,
    errors: [],
  };
  const url = (name: string) => `${origin}/ws/chat/${room}/?name=${name}`;
  const cyclers = Array.from(
    { length: count },
    (_, offset) => new Cycler(first + offset, url, counts),
  );
  const opened = await openMany(count, 16, async (offset) => {
    await cyclers[offset]?.open();
  });
  const report: OpenedReport = {
    admitted: count - opened.failures,
    failed: opened.failures,
    errors: opened.errors,
  };
  console.log(JSON.stringify(report));

  const input = new LineReader(Deno.stdin.readable);
  const terminated = Promise.withResolvers<undefined>();
  Deno.addSignalListener("SIGTERM", () => terminated.resolve(undefined));
  let cycling: Cycling | undefined;
  while (true) {
    const command = await Promise.race([input.next(), terminated.promise]);
    if (command === "start" && !cycling) {
      counts.cycles = 0;
      counts.failures = 0;
      counts.errors = [];
      cycling = new Cycling(
        cyclers,
        Number(rateText),
        1000 * Number(deadlineText),
      );
      console.log(JSON.stringify({ cycling: true }));
    } else if (command === "stop" && cycling) {
      const { seconds, deadline } = await cycling.stop();
      cycling = undefined;
      const done: CycleReport = { ...counts, seconds, deadline };
      counts.closedByServer = 0;
      console.log(JSON.stringify(done));
    } else if (command === undefined) {
      break; // input closed, or SIGTERM
    } else {
      console.error(`cycling clients: unexpected ${JSON.stringify(command)}`);
    }
  }
  await cycling?.stop();
  try {
    await within(
      closeAll(cyclers.map((cycler) => cycler.socket)),
      10_000,
      "closing cycling sockets",
    );
  } catch (error) {
    if (!(error instanceof DeadlineError)) throw error;
  }
  Deno.exit(0);
}

if (import.meta.main) await main(Deno.args);
