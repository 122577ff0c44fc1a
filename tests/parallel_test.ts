import assert from "node:assert/strict";
import { SERVER, startServerProcess } from "./helpers/process.ts";
import { type Frame, TestClient, uniqueRoom } from "./helpers/server.ts";

/** Joins `count` clients one by one (each a new TCP connection). */
async function joinMany(url: string, count: number): Promise<TestClient[]> {
  const clients: TestClient[] = [];
  for (let i = 0; i < count; i++) clients.push(await TestClient.join(url));
  return clients;
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
      // per-address limits.
      env: {
        DENO_JOBS: "2",
        LOG_LEVEL: "warn",
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

    await t.step(
      "20 clients in one room receive every message of one sender",
      async () => {
        // Separate connections spread over both isolates (SO_REUSEPORT hashes
        // each connection's source port); 20 land on one isolate with
        // probability 2^-19.
        const clients = await joinMany(
          server.wsUrl(`/ws/chat/${uniqueRoom()}/`),
          20,
        );
        try {
          const sent = Array.from({ length: 10 }, (_, i) => `message ${i}`);
          for (const message of sent) clients[0]?.send({ message });
          for (const [index, client] of clients.entries()) {
            await client.waitForType("message", sent.length, 10_000);
            assert.deepEqual(client.messageTexts(), sent, `client ${index}`);
          }
        } finally {
          await Promise.all(clients.map((client) => client.close()));
        }
      },
    );

    await t.step("presence, join and leave cross isolates", async () => {
      const room = uniqueRoom("presence");
      // Each name is one browser (key), so one name on many sockets is one user.
      const url = (name: string) =>
        server.wsUrl(
          `/ws/chat/${room}/?name=${name}&key=browser-of-${name}-key`,
        );
      const events = (client: TestClient) =>
        client.frames
          .filter((f): f is Frame =>
            typeof f === "object" && f !== null && "type" in f &&
            (f.type === "join" || f.type === "leave")
          )
          .map((f) => `${f.type} ${f.user}`);
      const watcher = await TestClient.join(url("watcher"));
      const named = [];
      const twins = [];
      try {
        for (let i = 0; i < 8; i++) {
          named.push(await TestClient.join(url(`user${i}`)));
        }
        // One name on six sockets, spread over both isolates: one user.
        for (let i = 0; i < 6; i++) {
          twins.push(await TestClient.join(url("twin")));
        }
        await watcher.waitForType("join", 10);
        const last = twins.at(-1);
        assert.ok(last);
        assert.deepEqual(
          last.ofType("presence")[0]?.users,
          [
            { name: "twin", connections: 6, verified: false },
            ...Array.from(
              { length: 8 },
              (_, i) => ({ name: `user${i}`, connections: 1, verified: false }),
            ),
            { name: "watcher", connections: 1, verified: false },
          ],
        );
        await Promise.all(named.map((client) => client.close()));
        await Promise.all(twins.slice(1).map((client) => client.close()));
        await watcher.waitForType("leave", 8);
        await new Promise((resolve) => setTimeout(resolve, 200));
        assert.ok(
          !events(watcher).includes("leave twin"),
          "twin still has a socket",
        );
        await twins[0]?.close();
        await watcher.waitForType("leave", 9);
        const expected = [
          "join watcher",
          ...Array.from({ length: 8 }, (_, i) => `join user${i}`),
          "join twin",
          ...Array.from({ length: 8 }, (_, i) => `leave user${i}`),
          "leave twin",
        ];
        assert.deepEqual([...events(watcher)].sort(), [...expected].sort());
        assert.equal(
          events(watcher).length,
          expected.length,
          "no duplicate events",
        );
      } finally {
        await Promise.all(
          [watcher, ...named, ...twins].map((client) => client.close()),
        );
      }
    });

    await t.step(
      "a burst of 4 senders × 2000 reaches 50 clients exactly once, in id order",
      async () => {
        const senders = 4;
        const perSender = 2000;
        const total = senders * perSender;
        const clients = await joinMany(
          server.wsUrl(`/ws/chat/${uniqueRoom("burst")}/`),
          50,
        );
        try {
          for (let s = 0; s < senders; s++) {
            const sender = clients[s * 12];
            for (let i = 0; i < perSender; i++) {
              sender?.send({ message: `s${s} m${i}` });
            }
          }
          const expectedIds = Array.from({ length: total }, (_, i) => i + 1);
          for (const [index, client] of clients.entries()) {
            const frames = await client.waitForType("message", total, 60_000);
            assert.deepEqual(ids(frames), expectedIds, `client ${index} ids`);
            const texts = new Set(client.messageTexts());
            assert.equal(texts.size, total, `client ${index} distinct texts`);
          }
          // Settle, then make sure nothing arrived twice afterwards.
          await new Promise((resolve) => setTimeout(resolve, 300));
          for (const [index, client] of clients.entries()) {
            assert.equal(
              client.ofType("message").length,
              total,
              `client ${index} total`,
            );
          }
        } finally {
          await Promise.all(clients.map((client) => client.close()));
        }
      },
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
