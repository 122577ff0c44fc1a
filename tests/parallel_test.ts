/**
 * `deno serve --parallel` with 2 isolates, end to end. The isolates share
 * one listening socket and the kernel gives each new connection to
 * whichever accepts it first, so the tests do not assume a spread: deno
 * serve prefixes each line an isolate prints with `[serve-worker-N ]`, the
 * `socket.open` log lines then tell which isolate holds which connection,
 * and every step checks that both isolates hold some of its clients.
 *
 * @module
 */

import assert from "node:assert/strict";
import {
  SERVER,
  type ServerProcess,
  startServerProcess,
} from "../testkit/process.ts";
import { uniqueRoom } from "../testkit/server.ts";
import { type Frame, TestClient } from "../testkit/test_client.ts";

/** A client and the isolate that holds its connection. */
interface Placed {
  readonly name: string;
  readonly client: TestClient;
  readonly isolate: number;
}

/** One JSON log line and the isolate that printed it. */
interface LogLine {
  readonly isolate: number;
  readonly record: Record<string, unknown>;
}

const ISOLATE_LINE = /^\[serve-worker-(\d+)\s*\] (\{.*\})$/;

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** The JSON log lines the isolates printed so far. */
function logLines(output: string): LogLine[] {
  const lines: LogLine[] = [];
  for (const line of output.split("\n")) {
    const [, isolate, json] = ISOLATE_LINE.exec(line) ?? [];
    if (isolate === undefined || json === undefined) continue;
    try {
      const record: unknown = JSON.parse(json);
      if (isRecord(record)) lines.push({ isolate: Number(isolate), record });
    } catch (error) {
      // A line still being printed.
      if (!(error instanceof SyntaxError)) throw error;
    }
  }
  return lines;
}

/** The log lines of `event` in `room`, with `user` if given. */
function eventsIn(
  output: string,
  event: string,
  room: string,
  user?: string,
): LogLine[] {
  return logLines(output).filter(({ record }) =>
    record.event === event && record.room === room &&
    (user === undefined || record.user === user)
  );
}

/**
 * Joins `room` as `name` on a new connection and reads from its
 * `socket.open` line which isolate holds it. `key` makes sockets of one
 * name one user.
 */
async function joinPlaced(
  server: ServerProcess,
  room: string,
  name: string,
  key?: string,
): Promise<Placed> {
  // Earlier sockets of the same name were placed already: their lines are in.
  const before = eventsIn(server.output(), "socket.open", room, name).length;
  const client = await TestClient.join(
    server.wsUrl(
      `/ws/chat/${room}/?name=${name}${key === undefined ? "" : `&key=${key}`}`,
    ),
  );
  try {
    const output = await server.waitForOutput((output) =>
      eventsIn(output, "socket.open", room, name).length > before
    ).catch((error) => {
      throw new Error(
        `No socket.open line of ${name} in ${room} from an isolate (a line starting [serve-worker-N ])`,
        { cause: error },
      );
    });
    const line = eventsIn(output, "socket.open", room, name)[before];
    assert.ok(line);
    return { name, client, isolate: line.isolate };
  } catch (error) {
    await client.close();
    throw error;
  }
}

/** The isolates holding `placed`. */
function isolatesOf(placed: readonly Placed[]): Set<number> {
  return new Set(placed.map((p) => p.isolate));
}

/**
 * Joins `count` clients with `join`, then more until both isolates hold
 * some. Both isolates take connections by then (the first step waits for
 * that), so 30 more in a row on one isolate would be a fault.
 */
async function joinSpread(
  count: number,
  join: (index: number) => Promise<Placed>,
): Promise<Placed[]> {
  const placed: Placed[] = [];
  try {
    for (let i = 0; i < count + 30; i++) {
      if (i >= count && isolatesOf(placed).size === 2) return placed;
      placed.push(await join(i));
    }
    assert.fail(`${placed.length} connections all landed on one isolate`);
  } catch (error) {
    await closeAll(placed);
    throw error;
  }
}

async function closeAll(placed: readonly Placed[]): Promise<void> {
  await Promise.all(placed.map((p) => p.client.close()));
}

function ids(frames: Frame[]): number[] {
  return frames.map((frame) => Number(frame.id));
}

Deno.test("deno serve --parallel with 2 isolates", async (t) => {
  const dir = await Deno.makeTempDir({ prefix: "chat-parallel-" });
  try {
    await using server = await startServerProcess({
      args: SERVER.parallel(),
      // Bursts as fast as possible from one address: no rate or
      // per-address limits. Each socket's open and close are logged.
      env: {
        DENO_JOBS: "2",
        LOG_LEVEL: "info",
        CHAT_DB: `${dir}/chat.db`,
        CHAT_RATE_LIMIT: "0",
        CHAT_CONNECT_RATE: "0",
        CHAT_MAX_CONNECTIONS_PER_IP: "1000",
      },
    });

    await t.step("listens on PORT and HOST with 2 threads", async () => {
      const port = new URL(server.origin).port;
      await server.waitForOutput(
        new RegExp(
          `Listening on http://127\\.0\\.0\\.1:${port}/ with 2 threads`,
        ),
      );
    });

    await t.step("both isolates take connections", async () => {
      // The port answers once the first isolate listens; the second may
      // still be starting. Until it takes one, every connection lands on
      // the first.
      const room = uniqueRoom("probe");
      const seen = new Set<number>();
      const deadline = Date.now() + 30_000;
      for (let i = 0; seen.size < 2; i++) {
        assert.ok(
          Date.now() < deadline,
          `${i} connections in 30 s all landed on isolate ${[...seen]}`,
        );
        const probe = await joinPlaced(server, room, `probe${i}`);
        seen.add(probe.isolate);
        await probe.client.close();
      }
    });

    await t.step(
      "20 clients on both isolates receive every message of one sender",
      async () => {
        const room = uniqueRoom();
        const clients = await joinSpread(
          20,
          (i) => joinPlaced(server, room, `c${i}`),
        );
        try {
          const sender = clients[0];
          assert.ok(sender);
          assert.ok(
            clients.some((c) => c.isolate !== sender.isolate),
            "some receive on the other isolate than the sender's",
          );
          const sent = Array.from({ length: 10 }, (_, i) => `message ${i}`);
          for (const message of sent) sender.client.send({ message });
          for (const { name, client, isolate } of clients) {
            await client.waitForType("message", sent.length, 10_000);
            assert.deepEqual(
              client.messageTexts(),
              sent,
              `${name} on isolate ${isolate}`,
            );
          }
        } finally {
          await closeAll(clients);
        }
      },
    );

    await t.step("presence, join and leave cross isolates", async () => {
      const room = uniqueRoom("presence");
      // Each name is one browser (key), so one name on many sockets is one user.
      const join = (name: string) =>
        joinPlaced(server, room, name, `browser-of-${name}-key`);
      const events = (client: TestClient) =>
        client.frames
          .filter((f): f is Frame =>
            typeof f === "object" && f !== null && "type" in f &&
            (f.type === "join" || f.type === "leave")
          )
          .map((f) => `${f.type} ${f.user}`);
      const watcher = await join("watcher");
      const named: Placed[] = [];
      let twins: Placed[] = [];
      let markers: Placed[] = [];
      try {
        for (let i = 0; i < 8; i++) named.push(await join(`user${i}`));
        // One name on six sockets or more, spread over both isolates: one
        // user.
        twins = await joinSpread(6, () => join("twin"));
        await watcher.client.waitForType("join", 10);
        const last = twins.at(-1);
        assert.ok(last);
        assert.deepEqual(
          last.client.ofType("presence")[0]?.users,
          [
            { name: "twin", connections: twins.length, verified: false },
            ...Array.from(
              { length: 8 },
              (_, i) => ({ name: `user${i}`, connections: 1, verified: false }),
            ),
            { name: "watcher", connections: 1, verified: false },
          ],
        );
        await closeAll(named);
        await closeAll(twins.slice(1));
        await watcher.client.waitForType("leave", 8);
        // Once both isolates logged those closes, a marker joins on each:
        // what an isolate announces comes in order, so a leave of twin
        // would be in before the marker joins are.
        const closed = named.length + twins.length - 1;
        await server.waitForOutput((output) =>
          eventsIn(output, "socket.close", room).length >= closed
        );
        markers = await joinSpread(1, (i) => join(`marker${i}`));
        await watcher.client.waitForMatching(
          (f) => f.type === "join" && String(f.user).startsWith("marker"),
          markers.length,
        );
        assert.ok(
          !events(watcher.client).includes("leave twin"),
          "twin still has a socket",
        );
        await twins[0]?.client.close();
        await watcher.client.waitForType("leave", 9);
        const expected = [
          "join watcher",
          ...Array.from({ length: 8 }, (_, i) => `join user${i}`),
          "join twin",
          ...markers.map((marker) => `join ${marker.name}`),
          ...Array.from({ length: 8 }, (_, i) => `leave user${i}`),
          "leave twin",
        ];
        assert.deepEqual(
          [...events(watcher.client)].sort(),
          [...expected].sort(),
        );
        assert.equal(
          events(watcher.client).length,
          expected.length,
          "no duplicate events",
        );
      } finally {
        await closeAll([watcher, ...named, ...twins, ...markers]);
      }
    });

    await t.step(
      "a burst of 4 senders × 2000 reaches 50 clients exactly once, in id order",
      async () => {
        const senders = 4;
        const perSender = 2000;
        const total = senders * perSender;
        const room = uniqueRoom("burst");
        const clients = await joinSpread(
          50,
          (i) => joinPlaced(server, room, `b${i}`),
        );
        try {
          for (let s = 0; s < senders; s++) {
            const sender = clients[s * 12];
            for (let i = 0; i < perSender; i++) {
              sender?.client.send({ message: `s${s} m${i}` });
            }
          }
          const expectedIds = Array.from({ length: total }, (_, i) => i + 1);
          for (const { name, client, isolate } of clients) {
            const frames = await client.waitForType("message", total, 60_000);
            const label = `${name} on isolate ${isolate}`;
            assert.deepEqual(ids(frames), expectedIds, `${label}: ids`);
            const texts = new Set(client.messageTexts());
            assert.equal(texts.size, total, `${label}: distinct texts`);
          }
          // Then a marker from each isolate, one after the other: anything
          // still coming twice is in before the marker of the isolate that
          // would send it.
          for (const isolate of isolatesOf(clients)) {
            const marker = `marker from isolate ${isolate}`;
            clients.find((c) => c.isolate === isolate)?.client.send({
              message: marker,
            });
            for (const { client } of clients) {
              await client.waitForMatching(
                (f) => f.type === "message" && f.message === marker,
                1,
              );
            }
          }
          for (const { name, client, isolate } of clients) {
            assert.deepEqual(
              ids(client.ofType("message")),
              Array.from({ length: total + 2 }, (_, i) => i + 1),
              `${name} on isolate ${isolate}: each message once`,
            );
          }
        } finally {
          await closeAll(clients);
        }
      },
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
