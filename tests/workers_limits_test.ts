/**
 * `--workers 2` end to end: the connection limits and the message rate hold
 * for the whole process, whichever worker has the sockets.
 *
 * @module
 */

import { upgradeRequest } from "../testkit/raw_socket.ts";
import assert from "node:assert/strict";
import { uniqueRoom, within } from "../testkit/server.ts";
import { TestClient } from "../testkit/test_client.ts";
import {
  closeAll,
  closePlaced,
  joinPlaced,
  LogRecord,
  logRecords,
  Placed,
  waitForLogs,
  withWorkers,
  workerOf,
} from "../testkit/workers.ts";

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
