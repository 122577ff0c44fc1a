/**
 * A flood of idle TCP connections past the open-file limit, against the
 * server started as a user starts it (`deno task start`, and the command it
 * runs), alone and with `--workers 2`: while no descriptor is free, a
 * Prometheus-style scrape on a connection opened before the flood, the
 * launcher watch and a chat message all run, and the process survives
 * round after round.
 *
 * @module
 */

import assert from "node:assert/strict";
import { RESERVED_DESCRIPTORS } from "../platform/descriptors.ts";
import { LAUNCHER_LOOK_MS } from "../server/launcher_watch.ts";
import {
  SERVER,
  type ServerProcess,
  startServerProcess,
} from "../testkit/process.ts";
import {
  type KeepAliveConnection,
  openKeepAlive,
} from "../testkit/raw_socket.ts";
import { uniqueRoom, waitUntil } from "../testkit/server.ts";
import { TestClient } from "../testkit/test_client.ts";

/** The server's open-file limit in these tests. */
const FILE_LIMIT = 2048;
/** Connections per flood: well past the limit. */
const FLOOD = 2500;
/** Floods per server: each finds the process in the state the last left. */
const ROUNDS = 3;

/** Request bytes a slow client sends, and then nothing. */
const PARTIAL_REQUEST = new TextEncoder().encode(
  "GET /chat/ HTTP/1.1\r\nHost: 127",
);

/** Whether `error` is a connection the server refused or dropped. */
function isDropped(error: unknown): boolean {
  return error instanceof Deno.errors.ConnectionRefused ||
    error instanceof Deno.errors.ConnectionReset ||
    error instanceof Deno.errors.NotConnected ||
    error instanceof Deno.errors.BrokenPipe;
}

/**
 * Opens `count` TCP connections: two in three send nothing, one in three a
 * request line and half a header. Connections refused, or dropped while
 * the server binds its port again, are not tried again.
 */
async function flood(port: number, count: number): Promise<Deno.TcpConn[]> {
  const conns: Deno.TcpConn[] = [];
  try {
    for (let i = 0; i < count; i++) {
      let conn: Deno.TcpConn;
      try {
        conn = await Deno.connect({ hostname: "127.0.0.1", port });
      } catch (error) {
        if (!isDropped(error)) throw error;
        continue;
      }
      conns.push(conn);
      if (i % 3 !== 0) continue;
      try {
        await conn.write(PARTIAL_REQUEST);
      } catch (error) {
        if (!isDropped(error)) throw error;
      }
    }
  } catch (error) {
    for (const conn of conns) conn.close();
    throw error;
  }
  return conns;
}

/** How many times the server logged `server.accept_failed`. */
function acceptFailures(output: string): number {
  return output.match(/"event":"server\.accept_failed"/g)?.length ?? 0;
}

/** The last accept event of each worker. */
function acceptStates(output: string): Map<number, string> {
  const states = new Map<number, string>();
  for (const line of output.split("\n")) {
    const found = line.match(
      /"event":"server\.(accept_failed|accept_resumed)"/,
    );
    if (!found?.[1]) continue;
    const worker = Number(line.match(/"worker":(\d+)/)?.[1] ?? 0);
    states.set(worker, found[1]);
  }
  return states;
}

/** The value of an unlabelled series in a Prometheus exposition. */
function sample(text: string, series: string): number | undefined {
  const line = text.split("\n").find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

/** Polls /healthz until it answers 200, for at most `timeoutMs`. */
async function healthyWithin(origin: string, timeoutMs: number) {
  await waitUntil(
    async () => {
      try {
        const response = await fetch(`${origin}/healthz`);
        await response.body?.cancel();
        return response.status === 200;
      } catch (error) {
        // Refused or reset while the listener is away: not yet.
        if (!(error instanceof TypeError)) throw error;
        return false;
      }
    },
    "/healthz answering 200",
    timeoutMs,
  );
}

/** Runs `check`; a failure carries what the server printed. */
async function showingOutput(
  server: ServerProcess,
  check: () => Promise<void>,
): Promise<void> {
  try {
    await check();
  } catch (error) {
    throw new Error(
      `${
        error instanceof Error ? error.message : error
      }\nThe server printed:\n${
        server.output().split("\n").filter((line) =>
          !line.includes('"event":"socket.')
        ).join("\n")
      }`,
      { cause: error },
    );
  }
}

/**
 * Scrapes /metrics over `scrape` until the launcher watch has looked at
 * least once (it looks every {@linkcode LAUNCHER_LOOK_MS}), each scrape
 * answered in full; returns the most open descriptors a scrape reported.
 */
async function scrapeThroughALook(scrape: KeepAliveConnection) {
  const since = Date.now();
  let mostOpen = 0;
  do {
    const answer = await scrape.get("/metrics");
    assert.equal(answer.status, 200, answer.body);
    assert.equal(sample(answer.body, "process_max_fds"), FILE_LIMIT);
    mostOpen = Math.max(mostOpen, sample(answer.body, "process_open_fds") ?? 0);
  } while (Date.now() - since < LAUNCHER_LOOK_MS * 1.5);
  return mostOpen;
}

const deno = `'${Deno.execPath().replaceAll("'", "'\\''")}'`;
const quoted = (args: readonly string[]) =>
  args.map((arg) => `'${arg}'`).join(" ");

/** The commands a user starts the server with, and what they are called. */
const STARTS = [
  { name: "deno run main.ts", command: `${deno} ${quoted(SERVER.run())}` },
  {
    name: "deno run main.ts --workers 2",
    command: `${deno} ${quoted(SERVER.run("--workers", "2"))}`,
  },
  { name: "deno task start", command: `${deno} task start` },
  {
    name: "deno task start --workers 2",
    command: `${deno} task start --workers 2`,
  },
];

for (const start of STARTS) {
  Deno.test(
    `floods of idle connections past the open-file limit do not kill the server (${start.name})`,
    async (t) => {
      const dir = await Deno.makeTempDir({ prefix: "chat-flood-" });
      await using _removeDir = {
        [Symbol.asyncDispose]: () => Deno.remove(dir, { recursive: true }),
      };
      // A file store: workers share it, and its files are descriptors too.
      await using server = await startServerProcess({
        command: "sh",
        args: ["-c", `ulimit -n ${FILE_LIMIT} && exec ${start.command}`],
        env: {
          CHAT_DB: `${dir}/chat.db`,
          CHAT_RATE_LIMIT: "0",
          LOG_LEVEL: "info",
        },
      });
      let exited: Deno.CommandStatus | undefined;
      void server.child.status.then((status) => (exited = status));
      const port = Number(new URL(server.origin).port);
      // Every worker listens.
      await server.waitForOutput(/"event":"server\.start"/);
      const room = uniqueRoom("flood");
      await using before = await TestClient.join(
        server.wsUrl(`/ws/chat/${room}/?name=before`),
      );
      // As Prometheus does: one connection, opened once, scraped again.
      using scrape = await openKeepAlive(port);
      assert.equal((await scrape.get("/metrics")).status, 200);

      for (let round = 1; round <= ROUNDS; round++) {
        await t.step(
          `flood ${round}: with no descriptor free, it answers scrapes and keeps its chats`,
          () =>
            showingOutput(server, async () => {
              const failed = acceptFailures(server.output());
              const conns = await flood(port, FLOOD);
              try {
                // Out of descriptors: its accept loop gave up.
                await server.waitForOutput((output) =>
                  acceptFailures(output) > failed
                );
                // A store write, and whatever it sets going.
                before.send({ message: `during flood ${round}` });
                const mostOpen = await scrapeThroughALook(scrape);
                assert.ok(
                  mostOpen >= FILE_LIMIT - 4 * RESERVED_DESCRIPTORS,
                  `a scrape found the process at its limit (at most ${mostOpen} open)`,
                );
                assert.equal(exited, undefined, "the process is running");
                assert.equal(before.socket.readyState, WebSocket.OPEN);
              } finally {
                for (const conn of conns) conn.close();
              }
            }),
        );

        await t.step(
          `flood ${round}: it listens again and serves new users`,
          () =>
            showingOutput(server, async () => {
              // Every listener that failed has logged that it listens again.
              await server.waitForOutput(
                (output) =>
                  ![...acceptStates(output).values()].includes(
                    "accept_failed",
                  ),
              );
              await healthyWithin(server.origin, 10_000);
              await using after = await TestClient.join(
                server.wsUrl(`/ws/chat/${room}/?name=after${round}`),
              );
              // The chat that was open through the flood goes on, both ways.
              before.send({ message: `from before ${round}` });
              await after.waitForMatching(
                (f) => f.message === `from before ${round}`,
                1,
              );
              after.send({ message: `after flood ${round}` });
              await before.waitForMatching(
                (f) => f.message === `after flood ${round}`,
                1,
              );
              assert.equal(exited, undefined, "the process is running");
            }),
        );
      }

      await t.step("nothing panicked and nothing went uncaught", () => {
        assert.doesNotMatch(server.output(), /panicked|Uncaught/);
      });
    },
  );
}
