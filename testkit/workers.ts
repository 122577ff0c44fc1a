/** Helpers for `--workers 2` tests against a real process: the JSON log lines that say which worker holds a connection, members placed on a chosen worker, and delivery checks across workers. @module */

import assert from "node:assert/strict";
import { SERVER, type ServerProcess, startServerProcess } from "./process.ts";
import { type Frame, TestClient } from "./test_client.ts";

/** One parsed JSON log line of the server. */
export type LogRecord = Record<string, unknown>;

export function isRecord(value: unknown): value is LogRecord {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** The JSON log lines printed so far (the start line is plain text). */
export function logRecords(output: string): LogRecord[] {
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
export function longerThan(length: number): RegExp {
  return new RegExp(`^[\\s\\S]{${length + 1}}`);
}

/**
 * Waits until at least `count` log lines satisfy `accept`; returns them, in
 * the order they were printed.
 */
export async function waitForLogs(
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
export function workerOf(record: LogRecord | undefined): number {
  const worker = record?.worker;
  assert.ok(
    typeof worker === "number",
    `no worker in ${JSON.stringify(record)}`,
  );
  return worker;
}

/** A client whose socket the logs place on a worker. */
export interface Placed {
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
export async function joinPlaced(
  server: ServerProcess,
  room: string,
  name: string,
  /** More of the query, as `&key=…`. */
  query = "",
): Promise<Placed> {
  const isOpen = (record: LogRecord) =>
    record.event === "socket.open" && record.room === room &&
    record.user === name;
  // Earlier sockets of the same name were placed already: their lines are in.
  const before = logRecords(server.output()).filter(isOpen).length;
  const client = await TestClient.join(
    server.wsUrl(`/ws/chat/${room}/?name=${encodeURIComponent(name)}${query}`),
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
export async function closePlaced(
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

/** The worker-`index` clients of `placed`. */
export function on(placed: readonly Placed[], index: number): Placed[] {
  return placed.filter((p) => p.worker === index);
}

export function ids(frames: readonly Frame[]): number[] {
  return frames.map((frame) => Number(frame.id));
}

/**
 * Each sender sends `perSender` messages, then the first a marker; asserts
 * that every receiver gets each of them exactly once, contiguous ids in
 * increasing order, and each sender's messages in the order sent.
 */
export async function assertDeliveredOnce(
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
export async function getFresh(
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

/** Runs `body` against a `--workers 2` server with `env`, then cleans up. */
export async function withWorkers(
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

export async function closeAll(placed: readonly Placed[]): Promise<void> {
  await Promise.all(placed.map((p) => p.client.close()));
}
