/**
 * Scale-out cost: the same rooms and traffic through one server process on
 * SQLite (the baseline), one process on Redis, two processes on one Redis
 * (clients split between them), and one process with `--workers 2` on
 * Redis (each worker holds its own Redis connections). Each setup gets a
 * burst (every sender sends all its messages at once: deliveries per
 * second) and a paced run (a few messages per second per sender: latency
 * from send to delivery, p50 and p99). Results are ratios to the baseline
 * of the same run, so they survive a noisy machine.
 *
 *     deno run -A bench/scale_out.ts [--quick]
 *
 * Needs `redis-server` on the PATH (Debian: `apt-get install redis-server`).
 *
 * @module
 */

import {
  SERVER,
  type ServerProcess,
  startServerProcess,
} from "../testkit/process.ts";
import {
  CollectingSocket,
  type ReceivedMessage,
} from "../testkit/message_collector.ts";
import { startRedis } from "../testkit/redis.ts";
import { DeadlineError, within } from "../platform/deadline.ts";

const quick = Deno.args.includes("--quick");
const ROOMS = quick ? 5 : 10;
const CLIENTS_PER_ROOM = quick ? 10 : 20;
const SENDERS_PER_ROOM = 2;
const BURST_MESSAGES = quick ? 100 : 300;
const PACED_MESSAGES = quick ? 30 : 100;
const PACED_PER_SECOND = 20;

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const index = Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1);
  return sorted[Math.max(0, index)] ?? NaN;
}

interface RunResult {
  readonly deliveriesPerSecond: number;
  readonly p50: number;
  readonly p99: number;
}

/** Connects the rooms over `servers` (round robin), runs both phases. */
async function measure(servers: ServerProcess[]): Promise<RunResult> {
  let delivered = 0;
  let wanted = 0;
  let reached = Promise.withResolvers<void>();
  let latencies: number[] = [];
  // Each message's text starts with the time it was sent.
  const onMessage = ({ text, at }: ReceivedMessage) => {
    latencies.push(at - Number(text.split(" ")[0]));
    delivered += 1;
    if (delivered === wanted) reached.resolve();
  };
  const rooms: CollectingSocket[][] = [];
  let next = 0;
  for (let r = 0; r < ROOMS; r++) {
    const room = `bench-${crypto.randomUUID().slice(0, 8)}`;
    const members: CollectingSocket[] = [];
    for (let c = 0; c < CLIENTS_PER_ROOM; c++) {
      const server = servers[next++ % servers.length];
      if (!server) throw new Error("no server");
      members.push(
        new CollectingSocket(server.wsUrl(`/ws/chat/${room}/?name=m${c}`), {
          onMessage,
        }),
      );
    }
    rooms.push(members);
  }
  const everyone = rooms.flat();
  await Promise.all(everyone.map((member) => member.admitted));

  const phase = async (messages: number, perSecond: number | undefined) => {
    delivered = 0;
    wanted = ROOMS * SENDERS_PER_ROOM * messages * CLIENTS_PER_ROOM;
    reached = Promise.withResolvers<void>();
    latencies = [];
    const started = performance.now();
    for (let index = 0; index < messages; index++) {
      for (const members of rooms) {
        for (const sender of members.slice(0, SENDERS_PER_ROOM)) {
          sender.send(`${performance.now()} #${index}`);
        }
      }
      if (perSecond !== undefined) {
        // Pacing is the point of this phase: the sender waits on purpose.
        await new Promise((resolve) => setTimeout(resolve, 1000 / perSecond));
      }
    }
    await within(reached.promise, 120_000, "delivery").catch((error) => {
      if (!(error instanceof DeadlineError)) throw error;
      throw new Error(`${delivered} of ${wanted} delivered`, { cause: error });
    });
    const seconds = (performance.now() - started) / 1000;
    return { seconds, latencies: latencies.sort((a, b) => a - b) };
  };

  const burst = await phase(BURST_MESSAGES, undefined);
  const paced = await phase(PACED_MESSAGES, PACED_PER_SECOND);
  await Promise.all(everyone.map((member) => member.close()));
  return {
    deliveriesPerSecond: wanted === 0 ? 0 : Math.round(
      (ROOMS * SENDERS_PER_ROOM * BURST_MESSAGES * CLIENTS_PER_ROOM) /
        burst.seconds,
    ),
    p50: percentile(paced.latencies, 0.5),
    p99: percentile(paced.latencies, 0.99),
  };
}

const SERVER_ENV = {
  CHAT_RATE_LIMIT: "0",
  CHAT_CONNECT_RATE: "0",
  CHAT_MAX_CONNECTIONS_PER_IP: "10000",
  LOG_LEVEL: "warn",
};

async function withServers<T>(
  count: number,
  env: Record<string, string>,
  flags: string[],
  work: (servers: ServerProcess[]) => Promise<T>,
): Promise<T> {
  const servers: ServerProcess[] = [];
  try {
    for (let index = 0; index < count; index++) {
      servers.push(
        await startServerProcess({
          args: SERVER.run(...flags),
          env: { ...SERVER_ENV, ...env },
        }),
      );
    }
    return await work(servers);
  } finally {
    await Promise.all(servers.map((server) => server.stop()));
  }
}

const dir = await Deno.makeTempDir({ prefix: "chat-bench-" });
const results: [string, RunResult][] = [];
try {
  results.push([
    "1 process, SQLite (baseline)",
    await withServers(1, { CHAT_DB: `${dir}/chat.db` }, [], measure),
  ]);
  for (
    const [label, count, flags] of [
      ["1 process, Redis", 1, []],
      ["2 processes, one Redis", 2, []],
      ["1 process × 2 workers, Redis", 1, ["--workers", "2"]],
    ] as const
  ) {
    await using redis = await startRedis();
    results.push([
      label,
      await withServers(count, { REDIS_URL: redis.url }, [...flags], measure),
    ]);
  }
} finally {
  await Deno.remove(dir, { recursive: true });
}

const [, baseline] = results[0] ?? [];
const ms = (value: number) => `${value.toFixed(1)} ms`;
console.log(
  `\n${ROOMS} rooms × ${CLIENTS_PER_ROOM} clients, ${SENDERS_PER_ROOM} senders per room; burst ${BURST_MESSAGES} messages per sender, paced ${PACED_MESSAGES} at ${PACED_PER_SECOND}/s\n`,
);
console.log(
  "| setup | burst deliveries/s | ratio | paced p50 | paced p99 | p99 ratio |",
);
console.log("|---|---|---|---|---|---|");
for (const [label, result] of results) {
  const ratio = baseline
    ? (result.deliveriesPerSecond / baseline.deliveriesPerSecond).toFixed(2)
    : "-";
  const p99Ratio = baseline ? (result.p99 / baseline.p99).toFixed(2) : "-";
  console.log(
    `| ${label} | ${result.deliveriesPerSecond} | ${ratio}× | ${
      ms(result.p50)
    } | ${ms(result.p99)} | ${p99Ratio}× |`,
  );
}
