import assert from "node:assert/strict";
import { SERVER, startServerProcess } from "../testkit/process.ts";
import {
  startServer,
  storedMessages,
  uniqueRoom,
  UPGRADE_HEADERS,
} from "../testkit/server.ts";
import { TestClient } from "../testkit/test_client.ts";

const UPGRADE = UPGRADE_HEADERS;

Deno.test("limits follow the client address, not the socket", async (t) => {
  await t.step(
    "reconnecting does not refill the message budget",
    async () => {
      // A rate that cannot refill a token while the test runs.
      await using server = await startServer({
        CHAT_RATE_LIMIT: "1",
        CHAT_RATE_BURST: "5",
      });
      const room = uniqueRoom("budget");
      const url = server.wsUrl(`/ws/chat/${room}/`);
      {
        await using first = await TestClient.join(url);
        for (let i = 0; i < 5; i++) first.send({ message: `first ${i}` });
        await first.waitForType("message", 5);
      }
      await using second = await TestClient.join(url);
      second.send({ message: "after reconnecting" });
      const [refusal] = await second.waitForType("error", 1);
      assert.equal(refusal?.code, "rate_limited");
      assert.match(String(refusal?.error), /from your address/);
      assert.equal(second.ofType("message").length, 0);
      assert.equal((await storedMessages(server, room)).length, 5);
    },
  );

  await t.step(
    "two sockets from one address share one budget",
    async () => {
      await using server = await startServer({
        CHAT_RATE_LIMIT: "1",
        CHAT_RATE_BURST: "4",
      });
      const url = server.wsUrl(`/ws/chat/${uniqueRoom("shared")}/`);
      await using a = await TestClient.join(url);
      await using b = await TestClient.join(url);
      for (let i = 0; i < 3; i++) {
        a.send({ message: `a${i}` });
        b.send({ message: `b${i}` });
      }
      const refused = [
        ...await a.waitForType("error", 1),
        ...await b.waitForType("error", 1),
      ];
      assert.ok(refused.every((frame) => frame.code === "rate_limited"));
      // A marker: once the last refusal is in, every answer is.
      await a.waitForMatching(
        (f) => f.type === "error" || f.type === "message",
        3,
      );
      await b.waitForMatching(
        (f) => f.type === "error" || f.type === "message",
        3,
      );
      const accepted = new Set(
        [...a.ofType("message"), ...b.ofType("message")].map((f) => f.id),
      );
      assert.equal(accepted.size, 4, "four in all, not four each");
    },
  );

  await t.step(
    "opening and closing sockets in a loop is held to the connect rate",
    async () => {
      await using server = await startServer({
        CHAT_CONNECT_RATE: "1",
        CHAT_CONNECT_BURST: "5",
      });
      const room = uniqueRoom("cycling");
      await using watcher = await TestClient.join(
        server.wsUrl(`/ws/chat/${room}/?name=watcher`),
      );
      const statuses: number[] = [];
      for (let i = 0; i < 8; i++) {
        const response = await fetch(
          `${server.origin}/ws/chat/${room}/?name=cycler${i}`,
          { headers: UPGRADE },
        );
        statuses.push(response.status);
        if (response.status !== 101) {
          const body = await response.json();
          assert.match(body.error, /Too many new connections/);
        } else {
          await response.body?.cancel();
        }
      }
      // The watcher's own socket was the first of the burst of 5.
      assert.deepEqual(statuses, [101, 101, 101, 101, 429, 429, 429, 429]);
      assert.equal(
        watcher.socket.readyState,
        WebSocket.OPEN,
        "sockets already open are not touched",
      );
    },
  );
});

Deno.test("under --workers 2 the connect rate counts for the whole process", async () => {
  const dir = await Deno.makeTempDir({ prefix: "chat-connect-rate-" });
  try {
    await using server = await startServerProcess({
      args: SERVER.run("--workers", "2"),
      env: {
        CHAT_DB: `${dir}/chat.db`,
        CHAT_CONNECT_RATE: "1",
        CHAT_CONNECT_BURST: "4",
        LOG_LEVEL: "info",
      },
    });
    await server.waitForOutput(/"event":"server\.start"/);
    const room = uniqueRoom("workers");
    const statuses: number[] = [];
    // Each a new TCP connection: the kernel spreads them over both workers.
    for (let i = 0; i < 8; i++) {
      const response = await fetch(`${server.origin}/ws/chat/${room}/`, {
        headers: UPGRADE,
      });
      statuses.push(response.status);
      await response.body?.cancel();
    }
    assert.deepEqual(statuses, [101, 101, 101, 101, 429, 429, 429, 429]);
    const refusedBy = new Set(
      server.output().split("\n")
        .filter((line) =>
          line.includes('"event":"upgrade.refused"') &&
          line.includes("Too many new connections")
        )
        .map((line) => JSON.parse(line).worker),
    );
    assert.ok(refusedBy.size >= 1, "refusals were logged by the workers");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
