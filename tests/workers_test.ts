/**
 * `--workers 2` end to end, against a real process: one listening socket per
 * worker, rooms across workers, connection limits and `/metrics` for the
 * whole process, and a worker that dies. The kernel, not the test, spreads
 * connections over the two listeners; the JSON log lines (`"worker": 0 | 1`)
 * tell which worker holds which connection.
 *
 * @module
 */

import { upgradeRequest } from "../testkit/raw_socket.ts";
import assert from "node:assert/strict";
import { listenersOn } from "../testkit/listeners.ts";
import {
  SERVER,
  type ServerProcess,
  startServerProcess,
} from "../testkit/process.ts";
import {
  type Frame,
  TestClient,
  uniqueRoom,
  within,
} from "../testkit/server.ts";

/** One parsed JSON log line of the server. */
type LogRecord = Record<string, unknown>;

function isRecord(value: unknown): value is LogRecord {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** The JSON log lines printed so far (the start line is plain text). */
function logRecords(output: string): LogRecord[] {
  const records: LogRecord[] = [];
  for (const line of output.split("\n")) {
    if (!line.startsWith("{")) continue;
    try {
      const value: unknown = JSON.parse(line);
      if (isRecord(value)) records.push(value);
    } catch (error) {
      // A line still being printed.
      if (!(error instanceof SyntaxError)) throw error;
    }
  }
  return records;
}

/** Matches once the output is longer than `length` characters. */
function longerThan(length: number): RegExp {
  return new RegExp(`^[\\s\\S]{${length + 1}}`);
}

/**
 * Waits until at least `count` log lines satisfy `accept`; returns them, in
 * the order they were printed.
 */
async function waitForLogs(
  server: ServerProcess,
  accept: (record: LogRecord) => boolean,
  count: number,
  what: string,
  timeoutMs = 10_000,
): Promise<LogRecord[]> {
  const deadline = Date.now() + timeoutMs;
  while (true) {
    const output = server.output();
    const found = logRecords(output).filter(accept);
    if (found.length >= count) return found;
    try {
      await server.waitForOutput(
        longerThan(output.length),
        Math.max(1, deadline - Date.now()),
      );
    } catch (error) {
      if (!(error instanceof Error)) throw error;
      throw new Error(
        `Expected ${count} log lines of ${what}, found ${found.length}:\n${server.output()}`,
        { cause: error },
      );
    }
  }
}

/** The worker index of a log line. */
function workerOf(record: LogRecord | undefined): number {
  const worker = record?.worker;
  assert.ok(
    typeof worker === "number",
    `no worker in ${JSON.stringify(record)}`,
  );
  return worker;
}

/** A client whose socket the logs place on a worker. */
interface Placed {
  readonly name: string;
  readonly client: TestClient;
  readonly worker: number;
  /** The server's id for the socket, which its `socket.close` line carries. */
  readonly connection: string;
}

/**
 * Joins `room` as `name` on a new connection and reads from its
 * `socket.open` line which worker holds it.
 */
async function joinPlaced(
  server: ServerProcess,
  room: string,
  name: string,
): Promise<Placed> {
  const isOpen = (record: LogRecord) =>
    record.event === "socket.open" && record.room === room &&
    record.user === name;
  // Earlier sockets of the same name were placed already: their lines are in.
  const before = logRecords(server.output()).filter(isOpen).length;
  const client = await TestClient.join(
    server.wsUrl(`/ws/chat/${room}/?name=${encodeURIComponent(name)}`),
  );
  try {
    const opened = await waitForLogs(
      server,
      isOpen,
      before + 1,
      `socket.open of ${name}`,
    );
    const record = opened[before];
    const connection = record?.connection;
    assert.ok(typeof connection === "string", JSON.stringify(record));
    return { name, client, worker: workerOf(record), connection };
  } catch (error) {
    await client.close();
    throw error;
  }
}

/** Closes a placed client and waits until its worker logs the close. */
async function closePlaced(
  server: ServerProcess,
  placed: Placed,
): Promise<void> {
  await placed.client.close();
  await waitForLogs(
    server,
    (record) =>
      record.event === "socket.close" &&
      record.connection === placed.connection,
    1,
    `socket.close of ${placed.name}`,
  );
}

/**
 * Joins `room` until a connection lands on `worker`, closing the others
 * (each after its worker saw it close). Returns that client and how many
 * landed elsewhere first.
 */
async function placeOn(
  server: ServerProcess,
  room: string,
  worker: number,
  nameFor: (attempt: number) => string,
): Promise<{ placed: Placed; misplaced: number }> {
  // Each attempt lands on `worker` with probability 1/2.
  const attempts = 30;
  for (let attempt = 0; attempt < attempts; attempt++) {
    const placed = await joinPlaced(server, room, nameFor(attempt));
    if (placed.worker === worker) return { placed, misplaced: attempt };
    await closePlaced(server, placed);
  }
  throw new Error(`${attempts} connections in a row missed worker ${worker}`);
}

/**
 * Joins `count` clients, one connection each, then more until both
 * workers hold some.
 */
async function joinSpread(
  server: ServerProcess,
  room: string,
  count: number,
  into: Placed[],
): Promise<void> {
  const workers = () => new Set(into.map((placed) => placed.worker));
  for (let i = 0; i < count + 30; i++) {
    if (i >= count && workers().size === 2) return;
    into.push(await joinPlaced(server, room, `${room}-c${i}`));
  }
  assert.equal(workers().size, 2, "every connection landed on one worker");
}

/** The worker-`index` clients of `placed`. */
function on(placed: readonly Placed[], index: number): Placed[] {
  return placed.filter((p) => p.worker === index);
}

function ids(frames: readonly Frame[]): number[] {
  return frames.map((frame) => Number(frame.id));
}

/**
 * Each sender sends `perSender` messages, then the first a marker; asserts
 * that every receiver gets each of them exactly once, contiguous ids in
 * increasing order, and each sender's messages in the order sent.
 */
async function assertDeliveredOnce(
  senders: readonly Placed[],
  receivers: readonly Placed[],
  tag: string,
  perSender = 10,
): Promise<void> {
  const before = receivers.map((r) => r.client.ofType("message").length);
  const sent = senders.map((_, s) =>
    Array.from({ length: perSender }, (_, i) => `${tag} s${s} m${i}`)
  );
  for (let i = 0; i < perSender; i++) {
    for (const [s, sender] of senders.entries()) {
      sender.client.send({ message: sent[s]?.[i] });
    }
  }
  const total = perSender * senders.length;
  for (const [r, receiver] of receivers.entries()) {
    await receiver.client.waitForType("message", (before[r] ?? 0) + total);
  }
  // Sent after everything else arrived: once it is in, nothing else is
  // coming, and whatever came twice has shown itself.
  const marker = `${tag} marker`;
  senders[0]?.client.send({ message: marker });
  for (const [r, receiver] of receivers.entries()) {
    const label = `${receiver.name} on worker ${receiver.worker}`;
    await receiver.client.waitForMatching(
      (frame) => frame.type === "message" && frame.message === marker,
      1,
    );
    const all = receiver.client.ofType("message");
    const fresh = all.slice(before[r]);
    assert.equal(fresh.length, total + 1, `${label}: each message once`);
    const first = Number(fresh[0]?.id);
    assert.deepEqual(
      ids(fresh),
      Array.from({ length: total + 1 }, (_, i) => first + i),
      `${label}: contiguous ids in increasing order`,
    );
    const texts = fresh.map((frame) => String(frame.message));
    assert.equal(texts.at(-1), marker, `${label}: the marker last`);
    for (const [s, mine] of sent.entries()) {
      assert.deepEqual(
        texts.filter((text) => text.startsWith(`${tag} s${s} `)),
        mine,
        `${label}: sender ${s}'s messages, in order`,
      );
    }
    const everId = ids(all);
    assert.ok(
      everId.every((id, i) => i === 0 || id > (everId[i - 1] ?? 0)),
      `${label}: ids only ever increase`,
    );
  }
}

/** GET on a new TCP connection, so the kernel picks a worker afresh. */
async function getFresh(
  url: string,
  timeoutMs = 10_000,
): Promise<{ status: number; text: string }> {
  const client = Deno.createHttpClient({ poolMaxIdlePerHost: 0 });
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), timeoutMs);
  try {
    const response = await fetch(url, { client, signal: abort.signal });
    return { status: response.status, text: await response.text() };
  } finally {
    clearTimeout(timer);
    client.close();
  }
}

/** The value of one series in Prometheus text. */
function sample(text: string, series: string): number {
  const lines = text.split("\n").filter((l) => l.startsWith(`${series} `));
  assert.equal(lines.length, 1, `${series} once in /metrics`);
  return Number(lines[0]?.slice(series.length + 1));
}

/**
 * Sends a WebSocket upgrade for `path` on a new TCP connection and returns
 * the status of the answer (the connection stays open for writing: a
 * half-closed upgrade is dropped without one).
 */
async function upgradeStatus(port: number, path: string): Promise<number> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  try {
    await conn.write(upgradeRequest(port, path));
    const decoder = new TextDecoder();
    const chunk = new Uint8Array(4096);
    let head = "";
    while (!head.includes("\r\n")) {
      const read = await within(
        conn.read(chunk),
        10_000,
        "an answer to the upgrade",
      );
      if (read === null) break;
      head += decoder.decode(chunk.subarray(0, read), { stream: true });
    }
    const status = /^HTTP\/1\.1 (\d{3})/.exec(head)?.[1];
    assert.ok(status, `not an HTTP answer: ${JSON.stringify(head)}`);
    return Number(status);
  } finally {
    conn.close();
  }
}

/** Runs `body` against a `--workers 2` server with `env`, then cleans up. */
async function withWorkers(
  prefix: string,
  env: Record<string, string>,
  body: (server: ServerProcess) => Promise<void>,
): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix });
  try {
    await using server = await startServerProcess({
      args: SERVER.run("--workers", "2"),
      env: {
        CHAT_DB: `${dir}/chat.db`,
        CHAT_RATE_LIMIT: "0",
        LOG_LEVEL: "info",
        ...env,
      },
    });
    // The port answers as soon as worker 0 listens; the start line comes
    // once every worker does.
    await waitForLogs(
      server,
      (record) => record.event === "server.start",
      1,
      "server.start",
    );
    await body(server);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

async function closeAll(placed: readonly Placed[]): Promise<void> {
  await Promise.all(placed.map((p) => p.client.close()));
}

Deno.test("--workers 2 serves one room from two workers", async (t) => {
  await withWorkers(
    "chat-workers-",
    { CHAT_MAX_CONNECTIONS_PER_IP: "1000" },
    async (server) => {
      await t.step("each worker has its own listening socket", async () => {
        const port = Number(new URL(server.origin).port);
        const listeners = await listenersOn(port);
        assert.deepEqual(listeners, [
          { address: "127.0.0.1", port, family: "ipv4" },
          { address: "127.0.0.1", port, family: "ipv4" },
        ]);
      });

      const room = uniqueRoom("workers");
      const otherRoom = uniqueRoom("elsewhere");
      const clients: Placed[] = [];
      const others: Placed[] = [];
      try {
        await joinSpread(server, room, 20, clients);
        others.push(await joinPlaced(server, otherRoom, "outsider"));

        await t.step("connections land on both workers", () => {
          assert.ok(on(clients, 0).length > 0, "worker 0 holds none");
          assert.ok(on(clients, 1).length > 0, "worker 1 holds none");
          assert.equal(
            on(clients, 0).length + on(clients, 1).length,
            clients.length,
          );
        });

        await t.step(
          "two senders on different workers reach every client once, in id order",
          async () => {
            const senders = [on(clients, 0)[0], on(clients, 1)[0]].filter(
              (p) => p !== undefined,
            );
            assert.equal(senders.length, 2);
            await assertDeliveredOnce(senders, clients, "both");
          },
        );

        await t.step(
          "a client in another room receives none of them",
          async () => {
            const [outsider] = others;
            assert.ok(outsider);
            const marker = "only in the other room";
            outsider.client.send({ message: marker });
            await outsider.client.waitForMatching(
              (frame) => frame.type === "message" && frame.message === marker,
              1,
            );
            assert.deepEqual(outsider.client.messageTexts(), [marker]);
          },
        );

        await t.step(
          "/metrics counts the connections of both workers on every scrape",
          async () => {
            const open = clients.length + others.length;
            // Each scrape on a new connection: 10 all answered by one worker
            // with probability 2^-9.
            for (let scrape = 0; scrape < 10; scrape++) {
              const { status, text } = await getFresh(
                `${server.origin}/metrics`,
              );
              assert.equal(status, 200);
              assert.equal(
                sample(text, "chat_connections"),
                open,
                `scrape ${scrape}`,
              );
              assert.equal(
                sample(text, "chat_room_members"),
                open,
                `scrape ${scrape}`,
              );
              // The process series come from the main thread alone (and
              // read /proc, which the start task's --allow-all permits).
              assert.ok(sample(text, "process_resident_memory_bytes") > 0);
              assert.equal(
                text.match(/^# TYPE process_resident_memory_bytes /gm)?.length,
                1,
              );
            }
          },
        );

        await t.step(
          "/healthz counts the connections of both workers",
          async () => {
            for (let check = 0; check < 10; check++) {
              const { status, text } = await getFresh(
                `${server.origin}/healthz`,
              );
              assert.equal(status, 200);
              const body: unknown = JSON.parse(text);
              assert.ok(isRecord(body));
              assert.equal(body.connections, clients.length + others.length);
            }
          },
        );
      } finally {
        await closeAll([...clients, ...others]);
      }
    },
  );
});

Deno.test("--workers 2 applies the connection limits to the whole process", async (t) => {
  await withWorkers(
    "chat-workers-limits-",
    { CHAT_MAX_CONNECTIONS_PER_IP: "4" },
    async (server) => {
      const port = Number(new URL(server.origin).port);
      const room = uniqueRoom("limits");
      const path = `/ws/chat/${room}/`;
      const open: Placed[] = [];
      try {
        for (let i = 0; i < 4; i++) {
          open.push(await joinPlaced(server, room, `c${i}`));
        }
        // Four on one worker (1 in 8): replace one until both hold some.
        for (
          let i = 4;
          i < 34 && new Set(open.map((p) => p.worker)).size < 2;
          i++
        ) {
          const last = open.pop();
          assert.ok(last);
          await closePlaced(server, last);
          open.push(await joinPlaced(server, room, `c${i}`));
        }

        await t.step(
          "four sockets from one address open, on both workers",
          () => {
            assert.equal(open.length, 4);
            assert.deepEqual([...new Set(open.map((p) => p.worker))].sort(), [
              0,
              1,
            ]);
          },
        );

        const isRefusal = (record: LogRecord) =>
          record.event === "upgrade.refused" && record.room === room;

        await t.step(
          "a fifth is refused with 429, whichever worker answers",
          async () => {
            const refusedBy = new Set<number>();
            for (
              let attempt = 0;
              attempt < 30 && refusedBy.size < 2;
              attempt++
            ) {
              const before =
                logRecords(server.output()).filter(isRefusal).length;
              assert.equal(
                await upgradeStatus(port, path),
                429,
              );
              const refusals = await waitForLogs(
                server,
                isRefusal,
                before + 1,
                "upgrade.refused",
              );
              refusedBy.add(workerOf(refusals[before]));
            }
            assert.deepEqual([...refusedBy].sort(), [0, 1]);
          },
        );

        await t.step(
          "closing one frees its place for a new socket",
          async () => {
            const first = open.shift();
            assert.ok(first);
            await closePlaced(server, first);
            open.push(await joinPlaced(server, room, "after-close"));
            assert.equal(
              await upgradeStatus(port, path),
              429,
            );
          },
        );
      } finally {
        await closeAll(open);
      }
    },
  );
});

/** The inodes of the IPv4 sockets listening on `port`, from the kernel. */
async function listeningInodes(port: number): Promise<Set<string>> {
  const inodes = new Set<string>();
  const text = await Deno.readTextFile("/proc/net/tcp");
  for (const line of text.split("\n").slice(1)) {
    // sl local rem st tx:rx tr:when retrnsmt uid timeout inode …
    const fields = line.trim().split(/\s+/);
    const [local = "", , state, , , , , , inode] = fields.slice(1);
    if (state !== "0A" || inode === undefined) continue;
    if (parseInt(local.split(":")[1] ?? "", 16) === port) inodes.add(inode);
  }
  return inodes;
}

/** One health check: whether the dead worker still listened, and each try. */
interface Probe {
  readonly deadListening: boolean;
  /** `"200"`, or the error of a try on a new connection. */
  readonly tries: readonly string[];
}

/**
 * Sends health checks one after another, each on a new connection, retried
 * on another connection when one fails, until `stop` is called. Before each,
 * reads whether one of `listeners` (the sockets of both first workers) is
 * gone; `closed` resolves when one is.
 */
function probeHealth(server: ServerProcess, listeners: Set<string>) {
  const port = Number(new URL(server.origin).port);
  const probes: Probe[] = [];
  const closed = Promise.withResolvers<void>();
  let stopped = false;
  const done = (async () => {
    while (!stopped && probes.length < 10_000) {
      const open = await listeningInodes(port);
      const deadListening = [...listeners].every((inode) => open.has(inode));
      if (!deadListening) closed.resolve();
      const tries: string[] = [];
      while (tries.at(-1) !== "200" && tries.length < 20) {
        try {
          tries.push(
            String((await getFresh(`${server.origin}/healthz`)).status),
          );
        } catch (error) {
          if (!(error instanceof TypeError || error instanceof DOMException)) {
            throw error;
          }
          tries.push(`${error.name}: ${error.message}`);
        }
      }
      probes.push({ deadListening, tries });
    }
  })();
  // Reported by `stop`, not as an unhandled rejection.
  done.catch(() => {});
  return {
    probes,
    deadListenerClosed: closed.promise,
    async stop(): Promise<Probe[]> {
      stopped = true;
      await done;
      return probes;
    },
  };
}

Deno.test("--workers 2 replaces a worker that dies and keeps serving", async (t) => {
  await withWorkers(
    "chat-workers-crash-",
    {
      CHAT_TEST_HOOKS: "1",
      // Presence never expires during the test: only the supervisor's
      // forget_node can announce the dead worker's users as gone.
      CHAT_PRESENCE_TTL_MS: "3600000",
      CHAT_MAX_CONNECTIONS_PER_IP: "1000",
    },
    async (server) => {
      const port = Number(new URL(server.origin).port);
      const room = uniqueRoom("crash");
      const clients: Placed[] = [];
      // Joins and leaves of one short window are coalesced (and a quick
      // come-and-go cancels out): what a client can rely on is where the
      // ghost's last event leaves it.
      const ghostState = (client: TestClient, state: "join" | "leave") =>
        client.waitForMatching(
          (frame) =>
            frame ===
              client.frames.findLast((f) =>
                typeof f === "object" && f !== null && "user" in f &&
                f.user === "ghost" && "type" in f &&
                (f.type === "join" || f.type === "leave")
              ) && frame.type === state,
          1,
        );
      try {
        const { placed: watcher } = await placeOn(
          server,
          room,
          1,
          (attempt) => `watcher${attempt}`,
        );
        clients.push(watcher);
        const { placed: ghost } = await placeOn(
          server,
          room,
          0,
          () => "ghost",
        );
        clients.push(ghost);
        // Misplaced ghosts came and went; the last one stays.
        await ghostState(watcher.client, "join");
        const firstListeners = await listeningInodes(port);
        assert.equal(firstListeners.size, 2);

        Deno.kill(server.child.pid, "SIGUSR2");

        await t.step("the supervisor logs that worker 0 died", async () => {
          await waitForLogs(
            server,
            (record) => record.event === "worker.died" && record.worker === 0,
            1,
            "worker.died",
          );
        });

        const health = probeHealth(server, firstListeners);
        try {
          await t.step("the dead worker's socket closes", async () => {
            await within(
              ghost.client.closed,
              10_000,
              "the close of the ghost's socket",
            );
          });

          await t.step(
            "a client of the other worker hears at once that its users left",
            async () => {
              await ghostState(watcher.client, "leave");
            },
          );

          await t.step(
            "the dead worker's listening socket closes",
            async () => {
              await within(
                health.deadListenerClosed,
                10_000,
                "the close of the dead worker's listening socket",
              );
            },
          );

          await t.step("new clients join and chat meanwhile", async () => {
            const during = [
              await joinPlaced(server, room, "during0"),
              await joinPlaced(server, room, "during1"),
            ];
            clients.push(...during);
            await assertDeliveredOnce(during, [watcher, ...during], "during");
          });

          await t.step(
            "the supervisor logs that worker 0 was replaced",
            async () => {
              await waitForLogs(
                server,
                (record) =>
                  record.event === "worker.replaced" && record.worker === 0,
                1,
                "worker.replaced",
              );
            },
          );
        } finally {
          await health.stop();
        }

        await t.step(
          "every health check from the death to the replacement is answered",
          () => {
            const { probes } = health;
            assert.ok(probes.length > 0);
            for (const probe of probes) {
              assert.equal(probe.tries.at(-1), "200", JSON.stringify(probe));
            }
            // Only the dying worker's listening socket, while it lasts, takes
            // connections that it then resets; a new connection gets through.
            const afterClose = probes.filter((probe) => !probe.deadListening);
            assert.ok(afterClose.length > 0);
            for (const probe of afterClose) {
              assert.deepEqual(probe.tries, ["200"]);
            }
          },
        );

        await t.step("new connections land on worker 0 again", async () => {
          const { placed } = await placeOn(
            server,
            room,
            0,
            (attempt) => `after${attempt}`,
          );
          clients.push(placed);
          assert.equal(placed.worker, 0);
        });

        await t.step(
          "messages reach clients on both workers exactly once",
          async () => {
            const live = clients.filter((p) => p !== ghost);
            const senders = [on(live, 0).at(-1), watcher].filter((p) =>
              p !== undefined
            );
            assert.deepEqual(senders.map((p) => p.worker), [0, 1]);
            await assertDeliveredOnce(senders, live, "after");
          },
        );
      } finally {
        await closeAll(clients);
      }
    },
  );
});

Deno.test("--workers 2 holds one address to one message rate, whichever worker has its sockets", async (t) => {
  // A slow rate and a burst of 4: the budget of one address for the test.
  const rate = 1;
  const burst = 4;
  await withWorkers(
    "chat-workers-rate-",
    {
      CHAT_MAX_CONNECTIONS_PER_IP: "1000",
      CHAT_RATE_LIMIT: String(rate),
      CHAT_RATE_BURST: String(burst),
    },
    async (server) => {
      const room = uniqueRoom("rate");
      const open: Placed[] = [];
      try {
        for (
          let i = 0;
          i < 40 && new Set(open.map((p) => p.worker)).size < 2;
          i++
        ) {
          open.push(await joinPlaced(server, room, `s${i}`));
        }
        const first = open.find((p) => p.worker === 0);
        const second = open.find((p) => p.worker === 1);
        assert.ok(first && second, "sockets on both workers");

        await t.step(
          "a burst sent through both workers is held to the one budget",
          async () => {
            const started = performance.now();
            const sent = 2 * burst;
            for (let i = 0; i < burst; i++) {
              first.client.send({ message: `a${i}`, cid: `a${i}` });
              second.client.send({ message: `b${i}`, cid: `b${i}` });
            }
            // Every frame gets an answer on its own socket: its echo, or a
            // refusal naming it by its cid.
            const answersTo = (client: TestClient, prefix: string) =>
              client.waitForMatching(
                (f) =>
                  (f.type === "message" || f.type === "error") &&
                  typeof f.cid === "string" && f.cid.startsWith(prefix),
                burst,
                10_000,
              );
            const answers = [
              ...await answersTo(first.client, "a"),
              ...await answersTo(second.client, "b"),
            ];
            const elapsedS = (performance.now() - started) / 1000;
            const accepted = answers.filter((f) => f.type === "message");
            const refused = answers.filter((f) =>
              f.type === "error" && f.code === "rate_limited"
            );
            assert.equal(accepted.length + refused.length, sent);
            // Whatever the timing: at most the burst plus what refilled.
            const ceiling = burst + Math.ceil(elapsedS * rate);
            assert.ok(
              accepted.length <= ceiling,
              `${accepted.length} accepted of ${sent} in ${
                elapsedS.toFixed(2)
              } s; at most ${ceiling} may be`,
            );
            assert.ok(refused.length > 0, "some were refused");
          },
        );
      } finally {
        await closeAll(open);
      }
    },
  );
});
