/**
 * `--workers 2` end to end: one room served from two workers, each message
 * delivered once. The JSON log lines (`"worker": 0 | 1`) tell which worker
 * holds which connection.
 *
 * @module
 */

import assert from "node:assert/strict";
import { listenersOn } from "../testkit/listeners.ts";
import { type ServerProcess } from "../testkit/process.ts";
import { uniqueRoom } from "../testkit/server.ts";
import {
  assertDeliveredOnce,
  closeAll,
  getFresh,
  isRecord,
  joinPlaced,
  on,
  Placed,
  withWorkers,
} from "../testkit/workers.ts";

/**
 * Joins `count` clients, one connection each, then more until both
 * workers hold some.
 */
async function joinSpread(
  server: ServerProcess,
  room: string,
  count: number,
  into: Placed[],
): Promise<void> {
  const workers = () => new Set(into.map((placed) => placed.worker));
  for (let i = 0; i < count + 30; i++) {
    if (i >= count && workers().size === 2) return;
    into.push(await joinPlaced(server, room, `${room}-c${i}`));
  }
  assert.equal(workers().size, 2, "every connection landed on one worker");
}

/** The value of one series in Prometheus text. */
function sample(text: string, series: string): number {
  const lines = text.split("\n").filter((l) => l.startsWith(`${series} `));
  assert.equal(lines.length, 1, `${series} once in /metrics`);
  return Number(lines[0]?.slice(series.length + 1));
}

Deno.test("--workers 2 serves one room from two workers", async (t) => {
  await withWorkers(
    "chat-workers-",
    { CHAT_MAX_CONNECTIONS_PER_IP: "1000" },
    async (server) => {
      await t.step("each worker has its own listening socket", async () => {
        const port = Number(new URL(server.origin).port);
        const listeners = await listenersOn(port);
        assert.deepEqual(listeners, [
          { address: "127.0.0.1", port, family: "ipv4" },
          { address: "127.0.0.1", port, family: "ipv4" },
        ]);
      });

      const room = uniqueRoom("workers");
      const otherRoom = uniqueRoom("elsewhere");
      const clients: Placed[] = [];
      const others: Placed[] = [];
      try {
        await joinSpread(server, room, 20, clients);
        others.push(await joinPlaced(server, otherRoom, "outsider"));

        await t.step("connections land on both workers", () => {
          assert.ok(on(clients, 0).length > 0, "worker 0 holds none");
          assert.ok(on(clients, 1).length > 0, "worker 1 holds none");
          assert.equal(
            on(clients, 0).length + on(clients, 1).length,
            clients.length,
          );
        });

        await t.step(
          "two senders on different workers reach every client once, in id order",
          async () => {
            const senders = [on(clients, 0)[0], on(clients, 1)[0]].filter(
              (p) => p !== undefined,
            );
            assert.equal(senders.length, 2);
            await assertDeliveredOnce(senders, clients, "both");
          },
        );

        await t.step(
          "a client in another room receives none of them",
          async () => {
            const [outsider] = others;
            assert.ok(outsider);
            const marker = "only in the other room";
            outsider.client.send({ message: marker });
            await outsider.client.waitForMatching(
              (frame) => frame.type === "message" && frame.message === marker,
              1,
            );
            assert.deepEqual(outsider.client.messageTexts(), [marker]);
          },
        );

        await t.step(
          "/metrics counts the connections of both workers on every scrape",
          async () => {
            const open = clients.length + others.length;
            // Each scrape on a new connection: 10 all answered by one worker
            // with probability 2^-9.
            for (let scrape = 0; scrape < 10; scrape++) {
              const { status, text } = await getFresh(
                `${server.origin}/metrics`,
              );
              assert.equal(status, 200);
              assert.equal(
                sample(text, "chat_connections"),
                open,
                `scrape ${scrape}`,
              );
              assert.equal(
                sample(text, "chat_room_members"),
                open,
                `scrape ${scrape}`,
              );
              // The process series come from the main thread alone (and
              // read /proc, which the start task's --allow-all permits).
              assert.ok(sample(text, "process_resident_memory_bytes") > 0);
              assert.equal(
                text.match(/^# TYPE process_resident_memory_bytes /gm)?.length,
                1,
              );
            }
          },
        );

        await t.step(
          "/healthz counts the connections of both workers",
          async () => {
            for (let check = 0; check < 10; check++) {
              const { status, text } = await getFresh(
                `${server.origin}/healthz`,
              );
              assert.equal(status, 200);
              const body: unknown = JSON.parse(text);
              assert.ok(isRecord(body));
              assert.equal(body.connections, clients.length + others.length);
            }
          },
        );
      } finally {
        await closeAll([...clients, ...others]);
      }
    },
  );
});
