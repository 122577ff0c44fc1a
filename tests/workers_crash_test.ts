/**
 * `--workers 2` end to end: a worker that dies is replaced and the process
 * keeps serving.
 *
 * @module
 */

import assert from "node:assert/strict";
import { type ServerProcess } from "../testkit/process.ts";
import { uniqueRoom, within } from "../testkit/server.ts";
import { TestClient } from "../testkit/test_client.ts";
import {
  assertDeliveredOnce,
  closeAll,
  closePlaced,
  getFresh,
  joinPlaced,
  on,
  Placed,
  waitForLogs,
  withWorkers,
} from "../testkit/workers.ts";

/**
 * Joins `room` until a connection lands on `worker`, closing the others
 * (each after its worker saw it close). Returns that client and how many
 * landed elsewhere first.
 */
async function placeOn(
  server: ServerProcess,
  room: string,
  worker: number,
  nameFor: (attempt: number) => string,
): Promise<{ placed: Placed; misplaced: number }> {
  // Each attempt lands on `worker` with probability 1/2.
  const attempts = 30;
  for (let attempt = 0; attempt < attempts; attempt++) {
    const placed = await joinPlaced(server, room, nameFor(attempt));
    if (placed.worker === worker) return { placed, misplaced: attempt };
    await closePlaced(server, placed);
  }
  throw new Error(`${attempts} connections in a row missed worker ${worker}`);
}

/** The inodes of the IPv4 sockets listening on `port`, from the kernel. */
async function listeningInodes(port: number): Promise<Set<string>> {
  const inodes = new Set<string>();
  const text = await Deno.readTextFile("/proc/net/tcp");
  for (const line of text.split("\n").slice(1)) {
    // sl local rem st tx:rx tr:when retrnsmt uid timeout inode …
    const fields = line.trim().split(/\s+/);
    const [local = "", , state, , , , , , inode] = fields.slice(1);
    if (state !== "0A" || inode === undefined) continue;
    if (parseInt(local.split(":")[1] ?? "", 16) === port) inodes.add(inode);
  }
  return inodes;
}

/** One health check: whether the dead worker still listened, and each try. */
interface Probe {
  readonly deadListening: boolean;
  /** `"200"`, or the error of a try on a new connection. */
  readonly tries: readonly string[];
}

/**
 * Sends health checks one after another, each on a new connection, retried
 * on another connection when one fails, until `stop` is called. Before each,
 * reads whether one of `listeners` (the sockets of both first workers) is
 * gone; `closed` resolves when one is.
 */
function probeHealth(server: ServerProcess, listeners: Set<string>) {
  const port = Number(new URL(server.origin).port);
  const probes: Probe[] = [];
  const closed = Promise.withResolvers<void>();
  let stopped = false;
  const done = (async () => {
    while (!stopped && probes.length < 10_000) {
      const open = await listeningInodes(port);
      const deadListening = [...listeners].every((inode) => open.has(inode));
      if (!deadListening) closed.resolve();
      const tries: string[] = [];
      while (tries.at(-1) !== "200" && tries.length < 20) {
        try {
          tries.push(
            String((await getFresh(`${server.origin}/healthz`)).status),
          );
        } catch (error) {
          if (!(error instanceof TypeError || error instanceof DOMException)) {
            throw error;
          }
          tries.push(`${error.name}: ${error.message}`);
        }
      }
      probes.push({ deadListening, tries });
    }
  })();
  // Reported by `stop`, not as an unhandled rejection.
  done.catch(() => {});
  return {
    probes,
    deadListenerClosed: closed.promise,
    async stop(): Promise<Probe[]> {
      stopped = true;
      await done;
      return probes;
    },
  };
}

Deno.test("--workers 2 replaces a worker that dies and keeps serving", async (t) => {
  await withWorkers(
    "chat-workers-crash-",
    {
      CHAT_TEST_HOOKS: "1",
      // Presence never expires during the test: only the supervisor's
      // forget_node can announce the dead worker's users as gone.
      CHAT_PRESENCE_TTL_MS: "3600000",
      CHAT_MAX_CONNECTIONS_PER_IP: "1000",
    },
    async (server) => {
      const port = Number(new URL(server.origin).port);
      const room = uniqueRoom("crash");
      const clients: Placed[] = [];
      // Joins and leaves of one short window are coalesced (and a quick
      // come-and-go cancels out): what a client can rely on is where the
      // ghost's last event leaves it.
      const ghostState = (client: TestClient, state: "join" | "leave") =>
        client.waitForMatching(
          (frame) =>
            frame ===
              client.frames.findLast((f) =>
                typeof f === "object" && f !== null && "user" in f &&
                f.user === "ghost" && "type" in f &&
                (f.type === "join" || f.type === "leave")
              ) && frame.type === state,
          1,
        );
      try {
        const { placed: watcher } = await placeOn(
          server,
          room,
          1,
          (attempt) => `watcher${attempt}`,
        );
        clients.push(watcher);
        const { placed: ghost } = await placeOn(
          server,
          room,
          0,
          () => "ghost",
        );
        clients.push(ghost);
        // Misplaced ghosts came and went; the last one stays.
        await ghostState(watcher.client, "join");
        const firstListeners = await listeningInodes(port);
        assert.equal(firstListeners.size, 2);

        Deno.kill(server.child.pid, "SIGUSR2");

        await t.step("the supervisor logs that worker 0 died", async () => {
          await waitForLogs(
            server,
            (record) => record.event === "worker.died" && record.worker === 0,
            1,
            "worker.died",
          );
        });

        const health = probeHealth(server, firstListeners);
        try {
          await t.step("the dead worker's socket closes", async () => {
            await within(
              ghost.client.closed,
              10_000,
              "the close of the ghost's socket",
            );
          });

          await t.step(
            "a client of the other worker hears at once that its users left",
            async () => {
              await ghostState(watcher.client, "leave");
            },
          );

          await t.step(
            "the dead worker's listening socket closes",
            async () => {
              await within(
                health.deadListenerClosed,
                10_000,
                "the close of the dead worker's listening socket",
              );
            },
          );

          await t.step("new clients join and chat meanwhile", async () => {
            const during = [
              await joinPlaced(server, room, "during0"),
              await joinPlaced(server, room, "during1"),
            ];
            clients.push(...during);
            await assertDeliveredOnce(during, [watcher, ...during], "during");
          });

          await t.step(
            "the supervisor logs that worker 0 was replaced",
            async () => {
              await waitForLogs(
                server,
                (record) =>
                  record.event === "worker.replaced" && record.worker === 0,
                1,
                "worker.replaced",
              );
            },
          );
        } finally {
          await health.stop();
        }

        await t.step(
          "every health check from the death to the replacement is answered",
          () => {
            const { probes } = health;
            assert.ok(probes.length > 0);
            for (const probe of probes) {
              assert.equal(probe.tries.at(-1), "200", JSON.stringify(probe));
            }
            // Only the dying worker's listening socket, while it lasts, takes
            // connections that it then resets; a new connection gets through.
            const afterClose = probes.filter((probe) => !probe.deadListening);
            assert.ok(afterClose.length > 0);
            for (const probe of afterClose) {
              assert.deepEqual(probe.tries, ["200"]);
            }
          },
        );

        await t.step("new connections land on worker 0 again", async () => {
          const { placed } = await placeOn(
            server,
            room,
            0,
            (attempt) => `after${attempt}`,
          );
          clients.push(placed);
          assert.equal(placed.worker, 0);
        });

        await t.step(
          "messages reach clients on both workers exactly once",
          async () => {
            const live = clients.filter((p) => p !== ghost);
            const senders = [on(live, 0).at(-1), watcher].filter((p) =>
              p !== undefined
            );
            assert.deepEqual(senders.map((p) => p.worker), [0, 1]);
            await assertDeliveredOnce(senders, live, "after");
          },
        );
      } finally {
        await closeAll(clients);
      }
    },
  );
});
