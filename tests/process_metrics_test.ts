import assert from "node:assert/strict";
import { parseStat } from "../observability/process_metrics.ts";
import { parseOpenFileLimit } from "../platform/proc.ts";
import { SERVER, startServerProcess, taskFlags } from "../testkit/process.ts";
import { uniqueRoom } from "../testkit/server.ts";
import { TestClient } from "../testkit/test_client.ts";

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
    assert.ok(
      sample(before, "process_virtual_memory_bytes") >
        sample(before, "process_resident_memory_bytes"),
    );
    assert.ok(sample(before, "process_heap_used_bytes") > 1_000_000);
    assert.ok(
      sample(before, "process_heap_total_bytes") >=
        sample(before, "process_heap_used_bytes"),
    );
    assert.ok(sample(before, "process_open_fds") > 0);
    assert.ok(
      sample(before, "process_max_fds") >= sample(before, "process_open_fds"),
    );
  });

  await t.step("CPU time and the start time are the process's", () => {
    const cpu = sample(before, "process_cpu_seconds_total");
    assert.ok(cpu > 0, "starting took some CPU");
    assert.equal(
      Math.round(cpu * 100),
      Math.round(
        (sample(before, "process_cpu_user_seconds_total") +
          sample(before, "process_cpu_system_seconds_total")) * 100,
      ),
    );
    const started = sample(before, "process_start_time_seconds");
    assert.ok(started <= Date.now() / 1000 + 1);
    assert.ok(started > Date.now() / 1000 - 600, "started minutes ago at most");
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
  assert.ok(sample(text, "process_heap_used_bytes") > 0);
  // What only /proc can tell is left out rather than reported as 0.
  assert.doesNotMatch(text, /^process_open_fds /m);
  assert.doesNotMatch(text, /^process_cpu_seconds_total /m);
});

Deno.test("/proc/self/stat and /proc/self/limits are read as Linux writes them", async (t) => {
  await t.step(
    "CPU ticks become seconds, after a name with spaces and parentheses",
    () => {
      // pid (comm) state ppid pgrp session tty tpgid flags minflt cminflt
      // majflt cmajflt utime stime cutime cstime priority nice threads
      // itrealvalue starttime vsize rss …
      const line = "4242 (a) b (c) S 1 4242 4242 0 -1 4194560 2981 0 0 0 " +
        "250 37 0 0 20 0 9 0 123 123456789 14000 18446744073709551615\n";
      const stat = parseStat(line);
      assert.deepEqual(stat, {
        user: 2.5,
        system: 0.37,
        total: 2.87,
        virtual: 123456789,
      });
    },
  );

  await t.step("a stat line cut short reads as nothing", () => {
    assert.equal(parseStat("77 (deno) S 1 2"), undefined);
  });

  await t.step("the soft limit on open files is the maximum", () => {
    const limits = [
      "Limit                     Soft Limit           Hard Limit           Units     ",
      "Max processes             127498               127498               processes ",
      "Max open files            20000                524288               files     ",
    ].join("\n");
    assert.equal(parseOpenFileLimit(limits), 20000);
    assert.equal(
      parseOpenFileLimit(
        "Max open files            unlimited            unlimited            files     ",
      ),
      undefined,
    );
  });
});
