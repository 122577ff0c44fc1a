/**
 * The benchmark's floors (bench/baseline_server.ts), run as the benchmark
 * runs them: the featureless one echoes a message to its room and stores
 * nothing; the storing one has the message in its SQLite file before any
 * socket receives it, which is what its row in the table stands for.
 *
 * @module
 */

import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { startServerProcess } from "../testkit/process.ts";
import { uniqueRoom } from "../testkit/server.ts";
import { TestClient } from "../testkit/test_client.ts";

const BASELINE = new URL("../bench/baseline_server.ts", import.meta.url)
  .pathname;

/** The rows of the storing floor's file, read through a connection of its own. */
function storedRows(path: string): { room: string; message: string }[] {
  const db = new DatabaseSync(path, { readOnly: true });
  try {
    return db.prepare("SELECT room, message FROM messages ORDER BY rowid")
      .all().map((row) => ({
        room: String(row.room),
        message: String(row.message),
      }));
  } finally {
    db.close();
  }
}

Deno.test("the benchmark's floors", async (t) => {
  await t.step(
    "the featureless floor echoes a message to its room and no other",
    async () => {
      await using server = await startServerProcess({
        args: ["run", "--allow-net", "--allow-env", BASELINE],
      });
      const room = uniqueRoom();
      await using sender = await TestClient.join(
        server.wsUrl(`/ws/chat/${room}/`),
      );
      await using elsewhere = await TestClient.join(
        server.wsUrl(`/ws/chat/${uniqueRoom()}/`),
      );
      sender.send({ message: "only here" });
      elsewhere.send({ message: "marker" });
      const [echo] = await sender.waitForType("message", 1);
      assert.deepEqual(echo, { type: "message", message: "only here" });
      // The marker, sent after, is in: the other room's message would be too.
      const [marker] = await elsewhere.waitForType("message", 1);
      assert.equal(marker?.message, "marker");
      assert.equal(elsewhere.ofType("message").length, 1);
    },
  );

  await t.step(
    "the storing floor has each message in its file before anyone receives it",
    async () => {
      const dir = await Deno.makeTempDir({ prefix: "baseline-test-" });
      try {
        const path = `${dir}/floor.db`;
        await using server = await startServerProcess({
          args: [
            "run",
            "--allow-net",
            "--allow-env",
            `--allow-read=${dir}`,
            `--allow-write=${dir}`,
            BASELINE,
          ],
          env: { BASELINE_DB: path },
        });
        const room = uniqueRoom();
        await using client = await TestClient.join(
          server.wsUrl(`/ws/chat/${room}/`),
        );
        client.send({ message: "first" });
        await client.waitForType("message", 1);
        assert.deepEqual(storedRows(path), [{ room, message: "first" }]);
        client.send({ message: "second, 두 번째" });
        await client.waitForType("message", 2);
        assert.deepEqual(storedRows(path), [
          { room, message: "first" },
          { room, message: "second, 두 번째" },
        ]);
      } finally {
        await Deno.remove(dir, { recursive: true });
      }
    },
  );
});
