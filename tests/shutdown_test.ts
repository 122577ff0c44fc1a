import assert from "node:assert/strict";
import {
  FORCING_SIGNAL,
  SIGNAL_COPY_WINDOW_MS,
  StopSignalCount,
} from "../server/shutdown.ts";
import { SERVER, startServerProcess } from "../testkit/process.ts";
import { openSilentSocket } from "../testkit/raw_socket.ts";
import { uniqueRoom } from "../testkit/server.ts";
import { TestClient } from "../testkit/test_client.ts";

const MODES = [
  { name: "1 isolate", args: SERVER.run() },
  { name: "--workers 2", args: SERVER.run("--workers", "2") },
  { name: "deno serve --parallel", args: SERVER.parallel() },
];

for (const mode of MODES) {
  Deno.test(`SIGTERM with ${mode.name}: 1001 to every socket, exit 0 within 5 s, nothing lost`, async () => {
    const dir = await Deno.makeTempDir({ prefix: "chat-shutdown-" });
    try {
      const env = {
        CHAT_DB: `${dir}/chat.db`,
        DENO_JOBS: "2",
        CHAT_RATE_LIMIT: "0",
        CHAT_CONNECT_RATE: "0",
      };
      const { args } = mode;
      const server = await startServerProcess({ args, env });
      const room = uniqueRoom("shutdown");
      const clients: TestClient[] = [];
      for (let i = 0; i < 6; i++) {
        clients.push(
          await TestClient.join(server.wsUrl(`/ws/chat/${room}/?name=c${i}`)),
        );
      }
      const sent = Array.from(
        { length: 30 },
        (_, i) => `before the signal ${i}`,
      );
      sent.forEach((message, index) => clients[index % 6]?.send({ message }));
      for (const client of clients) {
        await client.waitForType("message", sent.length);
      }

      const started = Date.now();
      const status = await server.stop("SIGTERM", 8000);
      const took = Date.now() - started;
      const closes = await Promise.all(clients.map((client) => client.closed));

      assert.deepEqual(closes.map((event) => event.code), Array(6).fill(1001));
      assert.equal(status.code, 0, server.output());
      assert.ok(took < 5000, `exited after ${took} ms`);
      assert.doesNotMatch(
        server.output(),
        /shutdown_forced/,
        "closed everything, not forced",
      );

      await using again = await startServerProcess({ args, env });
      await using reader = await TestClient.join(
        again.wsUrl(`/ws/chat/${room}/`),
      );
      const [history] = reader.ofType("history");
      const texts = Array.isArray(history?.messages)
        ? history.messages.map((m: { message: string }) => m.message)
        : [];
      assert.deepEqual([...texts].sort(), [...sent].sort());
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  });
}

Deno.test("SIGTERM right after 2000 members dropped, and with a peer gone silent: 1001 to the rest, exit 0 within 5 s", async () => {
  const dir = await Deno.makeTempDir({ prefix: "chat-shutdown-drop-" });
  try {
    const server = await startServerProcess({
      args: SERVER.run(),
      env: {
        CHAT_DB: `${dir}/chat.db`,
        CHAT_RATE_LIMIT: "0",
        CHAT_CONNECT_RATE: "0",
        CHAT_MAX_CONNECTIONS_PER_IP: "5000",
        LOG_LEVEL: "warn",
      },
    });
    const port = Number(new URL(server.origin).port);
    const room = uniqueRoom("drop");
    const stayers: TestClient[] = [];
    for (let i = 0; i < 5; i++) {
      stayers.push(
        await TestClient.join(server.wsUrl(`/ws/chat/${room}/?name=s${i}`)),
      );
    }
    // A peer that never reads nor answers the close (its network is gone).
    const silent = await openSilentSocket(port, `/ws/chat/${room}/`);
    const crowd = [];
    for (let i = 0; i < 2000; i++) {
      crowd.push(await openSilentSocket(port, `/ws/chat/${room}/?name=c${i}`));
    }
    // All of them drop at once, without a WebSocket close.
    for (const member of crowd) member.conn.close();

    const started = Date.now();
    const status = await server.stop("SIGTERM", 8000);
    const took = Date.now() - started;
    const closes = await Promise.all(stayers.map((client) => client.closed));
    await silent[Symbol.asyncDispose]();

    assert.deepEqual(closes.map((event) => event.code), Array(5).fill(1001));
    assert.equal(status.code, 0, server.output());
    assert.ok(took < 5000, `exited after ${took} ms`);
    assert.doesNotMatch(server.output(), /shutdown_forced/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("stop signals: copies within the window count once, the third counted forces", () => {
  let now = 1000;
  const count = new StopSignalCount(() => now);
  const take = (afterMs: number) => {
    now += afterMs;
    return count.take();
  };
  assert.equal(take(0), "first");
  // deno task's copy, then the group signal sent a second time at once.
  assert.equal(take(3), "copy");
  assert.equal(take(SIGNAL_COPY_WINDOW_MS - 4), "copy");
  assert.equal(take(SIGNAL_COPY_WINDOW_MS), "again");
  assert.equal(take(2), "copy");
  assert.equal(FORCING_SIGNAL, 3);
  assert.equal(take(400), "forcing");
  assert.equal(take(1), "copy");
  assert.equal(take(SIGNAL_COPY_WINDOW_MS), "later");
});
