import assert from "node:assert/strict";
import { SERVER, startServerProcess, taskFlags } from "./helpers/process.ts";
import { TestClient, uniqueRoom } from "./helpers/server.ts";

/** Every sample of `series` (no labels) in an exposition text. */
function sample(text: string, series: string): number {
  const line = text.split("\n").find((l) => l.startsWith(`${series} `));
  assert.ok(line, `no ${series} in /metrics`);
  return Number(line.slice(series.length + 1));
}

Deno.test("the process series of /metrics are real and move with connections", async (t) => {
  await using server = await startServerProcess({
    args: SERVER.run(),
    env: { CHAT_DB: ":memory:", CHAT_CONNECT_RATE: "0", LOG_LEVEL: "warn" },
  });
  const scrape = async () =>
    await (await fetch(`${server.origin}/metrics`)).text();
  const before = await scrape();

  await t.step("memory, file descriptors and their limit are not 0", () => {
    assert.ok(sample(before, "process_resident_memory_bytes") > 10_000_000);
    assert.ok(sample(before, "process_open_fds") > 0);
    assert.ok(
      sample(before, "process_max_fds") >= sample(before, "process_open_fds"),
    );
    assert.ok(sample(before, "nodejs_eventloop_lag_p99_seconds") >= 0);
  });

  await t.step("open connections show as open file descriptors", async () => {
    const room = uniqueRoom("fds");
    const clients: TestClient[] = [];
    try {
      for (let i = 0; i < 40; i++) {
        clients.push(await TestClient.join(server.wsUrl(`/ws/chat/${room}/`)));
      }
      const during = await scrape();
      assert.ok(
        sample(during, "process_open_fds") >=
          sample(before, "process_open_fds") + 40,
        "every socket holds a file descriptor",
      );
      assert.equal(sample(during, "chat_connections"), 40);
    } finally {
      await Promise.all(clients.map((client) => client.close()));
    }
  });
});

Deno.test("with the binary's permissions, resident memory is still reported", async () => {
  // A compiled binary gets the compile task's permissions, which do not
  // open /proc; its resident memory then comes from Deno itself.
  await using server = await startServerProcess({
    args: ["run", ...taskFlags("compile"), "main.ts"],
    env: { CHAT_DB: ":memory:", LOG_LEVEL: "warn" },
  });
  const text = await (await fetch(`${server.origin}/metrics`)).text();
  assert.ok(sample(text, "process_resident_memory_bytes") > 10_000_000);
});
