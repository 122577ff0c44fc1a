/**
 * Idle connections held by a process of their own, so that the process
 * measuring never holds a descriptor per idle client (a process may open
 * at most `ulimit -n` files). As a program it opens `count` typed sockets
 * spread over rooms and source addresses, prints one JSON line
 * `{"admitted": n, "failed": k, "errors": [...]}` once every socket is
 * admitted or has failed, then holds them, answering pings, until its
 * standard input closes (or it gets SIGTERM); then it closes them and
 * exits. {@linkcode holdIdleClients} starts such processes.
 *
 *     deno run -A bench/idle_clients.ts ws://127.0.0.1:8000 <count> <rooms> <room prefix> [first index]
 *
 * @module
 */

import {
  closeAll,
  connect,
  DeadlineError,
  openMany,
  sourceAddress,
  within,
} from "./client.ts";

/** What a process of clients reports once all its sockets are open. */
export interface OpenedReport {
  readonly admitted: number;
  readonly failed: number;
  readonly errors: readonly string[];
}

/** Checks a line a client process printed. */
export function isOpenedReport(value: unknown): value is OpenedReport {
  return typeof value === "object" && value !== null &&
    "admitted" in value && typeof value.admitted === "number" &&
    "failed" in value && typeof value.failed === "number" &&
    "errors" in value && Array.isArray(value.errors);
}

/** What it reports when released: sockets the server closed meanwhile. */
interface ReleaseReport {
  readonly closedEarly: number;
}

function isReleaseReport(value: unknown): value is ReleaseReport {
  return typeof value === "object" && value !== null &&
    "closedEarly" in value && typeof value.closedEarly === "number";
}

/** Idle connections held by child processes; dispose to close them. */
export interface IdleClients extends AsyncDisposable {
  readonly admitted: number;
  readonly failed: number;
  readonly errors: readonly string[];
  /** How long opening them took, in seconds. */
  readonly seconds: number;
  /**
   * Closes them and stops the children; resolves with how many sockets
   * had been closed by the server while held (0 when all held).
   */
  release(): Promise<number>;
}

/** Options for {@linkcode holdIdleClients}. */
export interface IdleOptions {
  /** The server's WebSocket origin, e.g. `ws://127.0.0.1:8000`. */
  readonly origin: string;
  readonly count: number;
  readonly rooms: number;
  /** Prefix of the room names; make it unique per run. */
  readonly roomPrefix: string;
  /** Sockets per child process. @default 7500 */
  readonly perProcess?: number;
  /** How long opening them all may take. @default 180000 */
  readonly timeoutMs?: number;
}

/** A child process holding some of the idle sockets. */
interface Holder {
  readonly child: Deno.ChildProcess;
  readonly output: LineReader;
}

/**
 * Closes a holder's input (its signal to close its sockets), reads what it
 * reports, and waits for it to exit: SIGKILL after 15 s.
 */
async function releaseHolder(holder: Holder): Promise<number> {
  const timer = setTimeout(() => holder.child.kill("SIGKILL"), 15_000);
  try {
    try {
      await holder.child.stdin.close();
    } catch (error) {
      if (!(error instanceof TypeError)) throw error; // already closed
    }
    const report = await holder.output.next();
    await holder.child.status;
    return isReleaseReport(report) ? report.closedEarly : 0;
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Starts child processes that open `count` idle sockets between them and
 * resolves once all have reported; the children are stopped when this is
 * released or disposed, or when opening fails.
 */
export async function holdIdleClients(
  options: IdleOptions,
): Promise<IdleClients> {
  const perProcess = options.perProcess ?? 7500;
  const holders: Holder[] = [];
  let released: Promise<number> | undefined;
  const release = () =>
    released ??= Promise.all(holders.map(releaseHolder)).then((counts) =>
      counts.reduce((sum, count) => sum + count, 0)
    );
  const started = performance.now();
  try {
    for (let first = 0; first < options.count; first += perProcess) {
      const count = Math.min(perProcess, options.count - first);
      const child = new Deno.Command(Deno.execPath(), {
        args: [
          "run",
          "--allow-all",
          new URL(import.meta.url).pathname,
          options.origin,
          String(count),
          String(options.rooms),
          options.roomPrefix,
          String(first),
        ],
        stdin: "piped",
        stdout: "piped",
        stderr: "inherit",
      }).spawn();
      holders.push({ child, output: new LineReader(child.stdout) });
    }
    const reports = await within(
      Promise.all(holders.map(async ({ output }) => {
        const report = await output.next();
        if (!isOpenedReport(report)) {
          throw new Error(`idle clients reported ${JSON.stringify(report)}`);
        }
        return report;
      })),
      options.timeoutMs ?? 180_000,
      `${options.count} idle clients`,
    );
    return {
      admitted: reports.reduce((sum, report) => sum + report.admitted, 0),
      failed: reports.reduce((sum, report) => sum + report.failed, 0),
      errors: reports.flatMap((report) => report.errors).slice(0, 5),
      seconds: (performance.now() - started) / 1000,
      release,
      [Symbol.asyncDispose]: async () => {
        await release();
      },
    };
  } catch (error) {
    await release();
    throw error;
  }
}

/**
 * Reads a stream one JSON line at a time: a child's output here, and in
 * bench/cycling_clients.ts also a child's input.
 */
export class LineReader {
  readonly #reader: ReadableStreamDefaultReader<string>;
  #buffered = "";

  constructor(stream: ReadableStream<Uint8Array>) {
    this.#reader = stream.pipeThrough(new TextDecoderStream()).getReader();
  }

  /** The next line parsed as JSON, or undefined at the end of output. */
  async next(): Promise<unknown> {
    while (!this.#buffered.includes("\n")) {
      const { value, done } = await this.#reader.read();
      if (done) return undefined;
      this.#buffered += value;
    }
    const end = this.#buffered.indexOf("\n");
    const line = this.#buffered.slice(0, end);
    this.#buffered = this.#buffered.slice(end + 1);
    return JSON.parse(line);
  }
}

async function main(args: string[]): Promise<void> {
  const [origin, countText, roomsText, prefix, firstText = "0"] = args;
  if (!origin || !countText || !roomsText || !prefix) {
    console.error(
      "usage: bench/idle_clients.ts ws://HOST:PORT <count> <rooms> <room prefix> [first index]",
    );
    Deno.exit(2);
  }
  const count = Number(countText);
  const rooms = Number(roomsText);
  const first = Number(firstText);
  let closedEarly = 0;
  const result = await openMany(count, 64, (offset) => {
    const index = first + offset;
    // Consecutive clients go to different rooms, so every room fills.
    const room = index % rooms;
    return connect(
      `${origin}/ws/chat/${prefix}-${room}/?name=i${index}`,
      {
        localAddress: sourceAddress(index),
        onClose: () => {
          closedEarly += 1;
        },
        timeoutMs: 60_000,
      },
    );
  });
  const opened: OpenedReport = {
    admitted: count - result.failures,
    failed: result.failures,
    errors: result.errors,
  };
  console.log(JSON.stringify(opened));
  // From here on, a close is the server dropping an idle socket.
  closedEarly = 0;
  // Hold until the parent closes our input (or is gone).
  const released = (async () => {
    for await (const _ of Deno.stdin.readable) {
      // Nothing is expected on it; its end is the signal.
    }
  })();
  const terminated = Promise.withResolvers<void>();
  Deno.addSignalListener("SIGTERM", () => terminated.resolve());
  await Promise.race([released, terminated.promise]);
  const report: ReleaseReport = { closedEarly };
  console.log(JSON.stringify(report));
  try {
    await within(closeAll(result.opened), 10_000, "closing idle sockets");
  } catch (error) {
    if (!(error instanceof DeadlineError)) throw error;
  }
  Deno.exit(0);
}

if (import.meta.main) await main(Deno.args);
