/**
 * Memory with a client that never reads. Runs the server three times as a
 * subprocess and pushes the same traffic through one room (one sender, one
 * reader): with no stuck client (the baseline), with a stuck client and the
 * default cut-off, and with a stuck client and the cut-off disabled. Prints
 * the server's resident memory after each run as a ratio to the baseline.
 *
 *     deno run -A bench/slow_client_memory.ts [megabytes]
 *
 * @module
 */

import { startServerProcess } from "../testkit/process.ts";
import { openSilentSocket } from "../testkit/raw_socket.ts";
import { TestClient } from "../testkit/test_client.ts";

const megabytes = Number(Deno.args[0] ?? "32");
const body = "x".repeat(1990);
const count = Math.ceil((megabytes * 1024 * 1024) / 2048);

async function residentBytes(origin: string): Promise<number> {
  const text = await (await fetch(`${origin}/metrics`)).text();
  const line = text.split("\n").find((l) =>
    l.startsWith("process_resident_memory_bytes ")
  );
  return Number(line?.split(" ")[1]);
}

async function run(
  label: string,
  stuck: boolean,
  env: Record<string, string>,
): Promise<number> {
  const dir = await Deno.makeTempDir({ prefix: "chat-bench-" });
  try {
    await using server = await startServerProcess({
      args: ["run", "-A", "main.ts"],
      env: {
        CHAT_DB: `${dir}/chat.db`,
        CHAT_RATE_LIMIT: "0",
        LOG_LEVEL: "error",
        ...env,
      },
    });
    const port = Number(new URL(server.origin).port);
    const silent = stuck
      ? await openSilentSocket(port, "/ws/chat/bench/?name=stuck")
      : undefined;
    await using reader = await TestClient.join(
      server.wsUrl("/ws/chat/bench/?name=reader"),
    );
    // In batches, so the sender (who also receives every message) keeps
    // reading and is not itself cut off as a slow client.
    for (let sent = 0; sent < count;) {
      const batch = Math.min(256, count - sent);
      for (let i = 0; i < batch; i++) {
        reader.send({ message: `${sent + i} ${body}` });
      }
      sent += batch;
      await reader.waitForType("message", batch, 60_000);
      reader.frames.length = 0; // keep the client's own memory flat
    }
    const rss = await residentBytes(server.origin);
    console.log(
      `${label.padEnd(36)} ${(rss / 1024 / 1024).toFixed(1).padStart(7)} MiB`,
    );
    await silent?.[Symbol.asyncDispose]();
    return rss;
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

console.log(
  `${count} messages of ~2 KiB (${megabytes} MiB) through one room\n`,
);
const baseline = await run("no stuck client (baseline)", false, {});
const cutOff = await run("stuck client, cut off at 1 MiB", true, {});
const unbounded = await run("stuck client, cut-off disabled", true, {
  CHAT_MAX_BUFFERED_BYTES: String(1024 * 1024 * 1024),
});
console.log(`
resident memory relative to the baseline:
  stuck client, cut off at 1 MiB   ${(cutOff / baseline).toFixed(2)}×
  stuck client, cut-off disabled   ${(unbounded / baseline).toFixed(2)}×`);
