import assert from "node:assert/strict";
import { startServerProcess } from "./helpers/process.ts";
import { TestClient, uniqueRoom } from "./helpers/server.ts";

const PERMISSIONS = [
  "--allow-net",
  "--allow-env",
  "--allow-read",
  "--allow-write",
];

Deno.test("deno serve --parallel with 2 isolates", async (t) => {
  await using server = await startServerProcess({
    args: ["serve", "--parallel", ...PERMISSIONS, "main.ts"],
    env: { DENO_JOBS: "2", LOG_LEVEL: "warn" },
  });

  await t.step("listens on PORT and HOST with 2 threads", () => {
    const port = new URL(server.origin).port;
    assert.match(
      server.output(),
      new RegExp(`Listening on http://127\\.0\\.0\\.1:${port}/ with 2 threads`),
    );
  });

  await t.step(
    "20 clients in one room receive every message of one sender",
    async () => {
      const room = uniqueRoom("parallel");
      const clients: TestClient[] = [];
      try {
        // Separate connections spread over both isolates (SO_REUSEPORT hashes
        // each connection's source port); 20 land on one isolate with
        // probability 2^-19.
        for (let i = 0; i < 20; i++) {
          clients.push(
            await TestClient.connect(server.wsUrl(`/ws/chat/${room}/`)),
          );
        }
        const sender = clients[0];
        assert.ok(sender);
        const sent = Array.from({ length: 10 }, (_, i) => `message ${i}`);
        for (const message of sent) sender.send({ message });
        for (const [index, client] of clients.entries()) {
          const frames = await client.waitForFrames(sent.length, 10_000);
          const texts = frames.map((f) =>
            typeof f === "object" && f !== null && "message" in f
              ? f.message
              : f
          );
          assert.deepEqual(texts, sent, `client ${index}`);
        }
      } finally {
        await Promise.all(clients.map((client) => client.close()));
      }
    },
  );
});
