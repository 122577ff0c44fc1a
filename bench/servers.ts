/**
 * The servers under test, each started as a child process on a free
 * loopback port: the chat server (`main.ts`, as `deno task start` runs it,
 * with a fresh SQLite file, the rate limits off and the connection limits
 * raised; optionally `--workers N` or extra `deno` flags such as
 * `--cpu-prof`), and the featureless baseline (bench/baseline_server.ts).
 * Also reads a process's resident memory from `/proc/<pid>/status`.
 *
 * @module
 */

import {
  type ServerProcess,
  startServerProcess,
  taskFlags,
} from "../tests/helpers/process.ts";

/** Settings that keep the chat server's limits out of the measurement. */
export const BENCH_ENV: Readonly<Record<string, string>> = {
  CHAT_RATE_LIMIT: "0",
  CHAT_CONNECT_RATE: "0",
  CHAT_MAX_CONNECTIONS_PER_IP: "1000000",
  // Under the open-file limit of 20 000, with room for the store and pipes.
  CHAT_MAX_CONNECTIONS: "19000",
};

/** A server under test; dispose it to stop it (and remove its data). */
export interface BenchServer extends AsyncDisposable {
  readonly label: string;
  /** `ws://127.0.0.1:<port>` */
  readonly wsOrigin: string;
  readonly pid: number;
  /** Everything it printed. */
  output(): string;
  stop(): Promise<Deno.CommandStatus>;
}

/** Servers started and not yet stopped, for {@linkcode killAllServers}. */
const running = new Set<ServerProcess>();

/**
 * Kills every server still running (SIGKILL): for a benchmark that is
 * interrupted. Servers also stop by themselves when this process is gone.
 */
export function killAllServers(): void {
  for (const server of running) {
    try {
      server.child.kill("SIGKILL");
    } catch (error) {
      if (!(error instanceof TypeError)) throw error; // already exited
    }
  }
  running.clear();
}

async function track(
  label: string,
  start: () => Promise<ServerProcess>,
  cleanUp: () => Promise<void>,
): Promise<BenchServer> {
  let server: ServerProcess;
  try {
    server = await start();
  } catch (error) {
    await cleanUp();
    throw error;
  }
  running.add(server);
  let stopped: Promise<Deno.CommandStatus> | undefined;
  const stop = () =>
    stopped ??= server.stop("SIGTERM", 8000).finally(async () => {
      running.delete(server);
      await cleanUp();
    });
  return {
    label,
    wsOrigin: server.wsUrl(""),
    pid: server.child.pid,
    output: () => server.output(),
    stop,
    async [Symbol.asyncDispose]() {
      await stop();
    },
  };
}

/** Options for {@linkcode startChatServer}. */
export interface ChatServerOptions {
  /** Flags of the server, after `main.ts`, e.g. `["--workers", "2"]`. */
  readonly flags?: readonly string[];
  /** Flags of `deno run`, before `main.ts`, e.g. `["--cpu-prof"]`. */
  readonly denoFlags?: readonly string[];
  /** More environment, over {@linkcode BENCH_ENV}. */
  readonly env?: Record<string, string>;
}

/** Starts the chat server with a fresh database in a temporary folder. */
export async function startChatServer(
  label: string,
  options: ChatServerOptions = {},
): Promise<BenchServer> {
  const dir = await Deno.makeTempDir({ prefix: "chat-bench-" });
  return await track(
    label,
    () =>
      startServerProcess({
        args: [
          "run",
          ...taskFlags("start"),
          ...(options.denoFlags ?? []),
          "main.ts",
          ...(options.flags ?? []),
        ],
        env: { ...BENCH_ENV, CHAT_DB: `${dir}/chat.db`, ...options.env },
      }),
    () => Deno.remove(dir, { recursive: true }),
  );
}

/** Starts bench/baseline_server.ts. */
export async function startBaselineServer(
  label = "featureless Deno",
): Promise<BenchServer> {
  return await track(
    label,
    () =>
      startServerProcess({
        args: [
          "run",
          "--allow-net",
          "--allow-env",
          new URL("./baseline_server.ts", import.meta.url).pathname,
        ],
      }),
    () => Promise.resolve(),
  );
}

/** Resident memory of process `pid` in bytes (VmRSS), from /proc. */
export async function residentBytes(pid: number): Promise<number> {
  const status = await Deno.readTextFile(`/proc/${pid}/status`);
  const match = /^VmRSS:\s+(\d+) kB$/m.exec(status);
  if (!match?.[1]) throw new Error(`no VmRSS in /proc/${pid}/status`);
  return Number(match[1]) * 1024;
}
