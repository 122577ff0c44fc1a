import assert from "node:assert/strict";
import { readOpenFileLimit } from "../platform/proc.ts";
import {
  SERVER,
  type ServerProcess,
  startServerProcess,
} from "../testkit/process.ts";
import { openSilentSocket } from "../testkit/raw_socket.ts";
import { uniqueRoom } from "../testkit/server.ts";
import { TestClient } from "../testkit/test_client.ts";

/** Room sizes: chats of ten, idle rooms of fifty. */
const CHAT_ROOM = 10;
const IDLE_ROOM = 50;
/** Each chatting client sends about one message a second. */
const CHAT_EVERY_MS = 1000;
/** The server's open-file limit: room for every client, and bounded. */
const SERVER_FILE_LIMIT = 8192;

const ENV = {
  CHAT_RATE_LIMIT: "0",
  CHAT_CONNECT_RATE: "0",
  CHAT_MAX_CONNECTIONS_PER_IP: "10000",
  CHAT_MAX_CONNECTIONS: "10000",
};

/** Opens `count` clients, fifty at a time. */
async function openMany<T>(
  count: number,
  open: (index: number) => Promise<T>,
): Promise<T[]> {
  const opened: T[] = [];
  for (let start = 0; start < count; start += 50) {
    const batch = Array.from(
      { length: Math.min(50, count - start) },
      (_, i) => open(start + i),
    );
    opened.push(...await Promise.all(batch));
  }
  return opened;
}

/**
 * `deno task <task>` exactly as a user types it, in a process group of its
 * own, so that a signal can go to the whole group as a terminal's Ctrl-C
 * and systemd's stop do.
 */
async function startTaskInItsOwnGroup(
  task: readonly string[],
  dir: string,
): Promise<ServerProcess> {
  const deno = Deno.execPath().replaceAll("'", "'\\''");
  const args = task.map((arg) => `'${arg}'`).join(" ");
  return await startServerProcess({
    command: "sh",
    args: [
      "-c",
      `ulimit -n ${SERVER_FILE_LIMIT} && exec setsid '${deno}' task ${args}`,
    ],
    env: { ...ENV, CHAT_DB: `${dir}/chat.db`, LOG_LEVEL: "warn" },
  });
}

/** Rooms of chatting clients, each sending now and then until stopped. */
class Chatter {
  readonly clients: TestClient[];
  readonly #lastSent = new Map<TestClient, string>();
  #timer: ReturnType<typeof setInterval> | undefined;

  constructor(clients: TestClient[]) {
    this.clients = clients;
    // A few clients every few milliseconds: each about once a second.
    const tickMs = 10;
    const perTick = Math.max(1, clients.length * tickMs / CHAT_EVERY_MS);
    let next = 0;
    this.#timer = setInterval(() => {
      for (let i = 0; i < perTick; i++) {
        const client = clients[next++ % clients.length];
        if (!client) return;
        const message = `m${next}`;
        client.send({ message });
        this.#lastSent.set(client, message);
      }
    }, tickMs);
  }

  /**
   * Stops sending and waits until every client has its own last message
   * back, so that no frame of theirs is on its way to the server. A client
   * frame that crosses the server's close frame makes Deno drop that
   * connection without the close frame (its server WebSocket closes at once
   * on a data frame once closing), which no server code can prevent; the
   * server's shutdown is what this test is about.
   */
  async quiet(): Promise<void> {
    clearInterval(this.#timer);
    await Promise.all(
      [...this.#lastSent].map(([client, message]) =>
        client.waitForMatching((frame) => frame.message === message, 1, 10_000)
      ),
    );
  }

  [Symbol.dispose](): void {
    clearInterval(this.#timer);
  }
}

/**
 * Sends SIGTERM until the server logs `event` for it: one that comes within
 * the copy window of the last one counted is taken as its copy, and sent
 * again.
 */
async function signalCounted(
  server: ServerProcess,
  event: string,
): Promise<void> {
  const occurrences = (output: string, name: string) =>
    output.split(`"event":"${name}"`).length - 1;
  while (true) {
    const before = server.output();
    const counted = occurrences(before, event);
    const copies = occurrences(before, "server.shutdown_signal_copy");
    server.child.kill("SIGTERM");
    const after = await server.waitForOutput((output) =>
      occurrences(output, event) > counted ||
      occurrences(output, "server.shutdown_signal_copy") > copies
    );
    if (occurrences(after, event) > counted) return;
  }
}

/** One round: clients, a group signal sent `times` times, the outcome. */
async function groupSignalRound(
  task: readonly string[],
  chatting: number,
  idle: number,
  times: number,
): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "chat-signal-" });
  await using _removeDir = {
    [Symbol.asyncDispose]: () => Deno.remove(dir, { recursive: true }),
  };
  await using server = await startTaskInItsOwnGroup(task, dir);
  const room = uniqueRoom("signal");
  const talkers = await openMany(
    chatting,
    (i) =>
      TestClient.join(
        server.wsUrl(`/ws/chat/${room}_c${Math.floor(i / CHAT_ROOM)}/`),
      ),
  );
  const idlers = await openMany(
    idle,
    (i) =>
      TestClient.connect(
        server.wsUrl(`/ws/chat/${room}_i${Math.floor(i / IDLE_ROOM)}/`),
      ),
  );
  {
    using chatter = new Chatter(talkers);
    await talkers[0]?.waitForType("message", 3);
    await chatter.quiet();
  }

  // setsid made the shell's pid the group's id; `deno task` passes each
  // signal on to the server, which also gets the group's own copy.
  // The exit is awaited without a signal of the test's own, which would be
  // one more than the round says.
  for (let i = 0; i < times; i++) Deno.kill(-server.child.pid, "SIGTERM");
  const status = await server.exited(10_000);
  const codes = await Promise.all(
    [...talkers, ...idlers].map(async (client) => (await client.closed).code),
  );

  const notGoingAway = codes.filter((code) => code !== 1001).length;
  assert.equal(
    notGoingAway,
    0,
    `${notGoingAway} of ${codes.length} clients closed otherwise than with 1001 (exit ${status.code}):\n${server.output()}`,
  );
  assert.equal(status.code, 0, server.output());
  // The copies count once: the shutdown ran its course, unforced.
  assert.doesNotMatch(server.output(), /server\.shutdown_forced/);
}

const GROUP_MODES = [
  { name: "deno task start", task: ["start"], rounds: 10 },
  {
    name: "deno task start --workers 2",
    task: ["start", "--workers", "2"],
    rounds: 6,
  },
  { name: "deno task start:parallel", task: ["start:parallel"], rounds: 2 },
];

for (const mode of GROUP_MODES) {
  Deno.test(`${mode.name}: a group signal, sent once or twice, closes every socket with 1001 and exits 0`, async (t) => {
    for (let round = 1; round <= mode.rounds; round++) {
      const times = round % 2 === 1 ? 1 : 2;
      await t.step(
        `round ${round}: 100 chatting and 400 idle clients, the signal sent ${
          times === 1 ? "once" : "twice"
        }`,
        () => groupSignalRound(mode.task, 100, 400, times),
      );
    }
  });
}

Deno.test("deno task start: 500 chatting and 2 000 idle clients, a group signal sent twice: 1001 to all, exit 0", async () => {
  const limit = readOpenFileLimit();
  assert.ok(
    limit === undefined || limit >= 3000,
    `this test holds 2 500 sockets: raise the open-file limit (ulimit -n 3000), now ${limit}`,
  );
  await groupSignalRound(["start"], 500, 2000, 2);
});

const FORCE_MODES = [
  { name: "1 isolate", args: SERVER.run() },
  { name: "--workers 2", args: SERVER.run("--workers", "2") },
];

for (const mode of FORCE_MODES) {
  Deno.test(`a third signal (${mode.name}) ends the shutdown at once, after 1001 to every socket`, async () => {
    const dir = await Deno.makeTempDir({ prefix: "chat-signal-force-" });
    await using _removeDir = {
      [Symbol.asyncDispose]: () => Deno.remove(dir, { recursive: true }),
    };
    await using server = await startServerProcess({
      args: mode.args,
      env: { ...ENV, CHAT_DB: `${dir}/chat.db`, LOG_LEVEL: "info" },
    });
    const port = Number(new URL(server.origin).port);
    const room = uniqueRoom("force");
    const clients = await openMany(
      6,
      (i) => TestClient.join(server.wsUrl(`/ws/chat/${room}/?name=c${i}`)),
    );
    // A peer that never answers the close holds the shutdown for its
    // handshake wait, so the third signal comes while it is under way.
    await using silent = await openSilentSocket(port, `/ws/chat/${room}/`);

    await signalCounted(server, "server.shutdown");
    await signalCounted(server, "server.shutdown_signal_again");
    await signalCounted(server, "server.shutdown_forced");
    const status = await server.exited(10_000);

    assert.equal(status.code, 0, server.output());
    assert.match(
      server.output(),
      /"event":"server\.shutdown_forced","signal":"SIGTERM","signals":3/,
    );
    const codes = await Promise.all(
      clients.map(async (client) => (await client.closed).code),
    );
    assert.deepEqual(codes, Array(clients.length).fill(1001));
    assert.equal((await silent.readUntilClose()).code, 1001);
  });
}
