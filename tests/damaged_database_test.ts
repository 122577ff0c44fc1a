/**
 * A database with 8 KiB of garbage in the middle: the server starts and
 * says so in one line, `/healthz` answers 503 `corrupt`, and what reads the
 * damage answers a clear 503, never a 500 with a stack. Damage that the
 * check at open did not look for is reported the same once a call meets it.
 *
 * @module
 */

import assert from "node:assert/strict";
import { createChatServer } from "../server/app.ts";
import { openSqliteStore } from "../adapters/sqlite/store.ts";
import { StoreError } from "../chat/store.ts";
import { writeDamagedDatabase } from "../testkit/damaged_db.ts";
import { sqliteOptions } from "../testkit/defaults.ts";
import { SERVER, startServerProcess } from "../testkit/process.ts";
import { recordingLogger, testConfig } from "../testkit/server.ts";

/** Runs `work` with a fresh folder, removed afterwards. */
async function withDir(work: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "chat-damaged-" });
  try {
    await work(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** The statuses of each room's history page. */
async function historyStatuses(
  get: (path: string) => Promise<Response>,
  rooms: readonly string[],
): Promise<{ statuses: number[]; bodies: unknown[] }> {
  const statuses: number[] = [];
  const bodies: unknown[] = [];
  for (const room of rooms) {
    const response = await get(`/api/rooms/${room}/messages?limit=200`);
    statuses.push(response.status);
    bodies.push(await response.json());
  }
  return { statuses, bodies };
}

for (const workers of ["1", "2"]) {
  Deno.test(`a server started on a damaged database, --workers ${workers}`, async (t) => {
    await withDir(async (dir) => {
      const path = `${dir}/chat.db`;
      const rooms = await writeDamagedDatabase(path);
      await using server = await startServerProcess({
        args: SERVER.run("--workers", workers),
        env: { CHAT_DB: path, LOG_LEVEL: "warn" },
      });

      await t.step(
        "says in one line at start that the file is damaged",
        async () => {
          const output = await server.waitForOutput(/is damaged/);
          const lines = output.split("\n").filter((line) =>
            line.startsWith(`The database ${path} is damaged (`)
          );
          assert.equal(lines.length, 1, output);
          assert.match(
            lines[0] ?? "",
            /\(.*Tree \d+ page \d+.*\)\. Serving what can be read; \/healthz answers 503 "corrupt"\. Stop the server and restore the data from a backup\.$/,
          );
        },
      );

      await t.step("/healthz answers 503 corrupt", async () => {
        const response = await fetch(`${server.origin}/healthz`);
        assert.equal(response.status, 503);
        const body = await response.json();
        assert.equal(body.status, "corrupt");
        assert.equal(body.store, "corrupt");
        assert.match(body.reason, /is damaged/);
      });

      await t.step(
        "history pages that read the damage answer 503, never 500, without a stack in the log",
        async () => {
          const { statuses, bodies } = await historyStatuses(
            (p) => fetch(`${server.origin}${p}`),
            rooms,
          );
          assert.ok(!statuses.includes(500), `statuses ${statuses}`);
          assert.ok(statuses.includes(503), `statuses ${statuses}`);
          assert.ok(statuses.every((s) => s === 200 || s === 503));
          const refused = bodies[statuses.indexOf(503)];
          assert.deepEqual(refused, {
            error:
              "The server's storage is damaged where this is kept; it cannot be read",
          });
          const output = server.output();
          assert.match(output, /"event":"request\.store_failed"/);
          assert.doesNotMatch(output, /"event":"request\.failed"/);
          assert.doesNotMatch(output, /"stack"/);
        },
      );
    });
  });
}

Deno.test(
  "damage that the check at open did not look for flips health once a call meets it",
  async () => {
    await withDir(async (dir) => {
      const path = `${dir}/chat.db`;
      const rooms = await writeDamagedDatabase(path);
      const log = recordingLogger();
      // A bound of 0 bytes: as a file too large to check at open.
      const store = openSqliteStore(
        sqliteOptions(path, { log, integrityMaxBytes: 0 }),
      );
      const chat = await createChatServer({
        config: testConfig({ CHAT_DB: path }),
        store,
        log,
      });
      try {
        assert.ok(
          log.events.some((e) => e.event === "store.integrity_unchecked"),
        );
        assert.equal((await chat.app.request("/healthz")).status, 200);
        const { statuses } = await historyStatuses(
          (p) => Promise.resolve(chat.app.request(p)),
          rooms,
        );
        assert.ok(statuses.includes(503), `statuses ${statuses}`);
        assert.ok(!statuses.includes(500), `statuses ${statuses}`);
        const health = await chat.app.request("/healthz");
        assert.equal(health.status, 503);
        assert.equal((await health.json()).status, "corrupt");
        await assert.rejects(
          store.ping(),
          (error) => error instanceof StoreError && error.kind === "corrupt",
        );
        const [corrupt] = await log.waitFor((e) => e.event === "store.corrupt");
        assert.equal(corrupt?.path, path);
      } finally {
        await chat.close();
      }
    });
  },
);
