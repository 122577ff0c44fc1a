import assert from "node:assert/strict";
import {
  SERVER,
  type ServerProcess,
  startServerProcess,
} from "../testkit/process.ts";
import { uniqueRoom, waitUntil } from "../testkit/server.ts";
import { TestClient } from "../testkit/test_client.ts";
import { mayskipWithoutRoot, mountTmpfs } from "../testkit/tmpfs.ts";

/** Each message is this many characters, so that 2 MB fill in a few dozen. */
const MESSAGE_CHARS = 40_000;

interface Health {
  readonly status: number;
  readonly body: Record<string, unknown>;
}

async function health(server: ServerProcess): Promise<Health> {
  const response = await fetch(`${server.origin}/healthz`);
  return { status: response.status, body: await response.json() };
}

/** Polls /healthz until `accept` holds, for at most `timeoutMs`. */
async function healthUntil(
  server: ServerProcess,
  accept: (answer: Health) => boolean,
  timeoutMs: number,
): Promise<Health> {
  let answer = await health(server);
  await waitUntil(
    async () => accept(answer = await health(server)),
    "/healthz changing",
    timeoutMs,
  ).catch((error) => {
    throw new Error(`${error}; it last said ${JSON.stringify(answer)}`);
  });
  return answer;
}

/** Ids of the stored messages of `room`, through the API. */
async function storedIds(server: ServerProcess, room: string) {
  const response = await fetch(
    `${server.origin}/api/rooms/${room}/messages?limit=200`,
  );
  assert.equal(response.status, 200, "history can be read on a full disk");
  const body: { messages: { id: number }[] } = await response.json();
  return body.messages.map(({ id }) => id);
}

/**
 * Sends one message and waits for the answer to it: its own message frame
 * (stored, with its id) or an `unavailable` error.
 */
async function sendOne(
  client: TestClient,
  text: string,
): Promise<{ id: number } | { error: string }> {
  const before = client.frames.length;
  client.send({ type: "message", message: text });
  const [answer] = await client.waitForMatching(
    (frame) =>
      client.frames.indexOf(frame) >= before &&
      ((frame.type === "message" && frame.message === text) ||
        frame.type === "error"),
    1,
    10_000,
    "the answer to the message",
  );
  assert.ok(answer);
  if (answer.type === "error") {
    assert.equal(answer.code, "unavailable", JSON.stringify(answer));
    return { error: String(answer.error) };
  }
  return { id: Number(answer.id) };
}

const mount = await mountTmpfs("2m");

Deno.test({
  name:
    "a full disk: /healthz names it, reads go on, nothing acknowledged is lost, sends resume with contiguous ids",
  ignore: typeof mount === "string" && mayskipWithoutRoot,
}, async (t) => {
  if (typeof mount === "string") throw new Error(mount);
  await using disk = mount;
  const filler = `${disk.dir}/filler`;
  // Space the test can give back later, to show recovery.
  await Deno.writeFile(filler, new Uint8Array(512 * 1024));
  const env = {
    CHAT_DB: `${disk.dir}/chat.db`,
    CHAT_RATE_LIMIT: "0",
    CHAT_MAX_MESSAGE_CHARS: String(MESSAGE_CHARS),
    CHAT_MAX_FRAME_BYTES: String(4 * MESSAGE_CHARS),
  };
  const room = uniqueRoom("full");
  const acknowledged: number[] = [];
  {
    await using server = await startServerProcess({ args: SERVER.run(), env });
    await using client = await TestClient.join(
      server.wsUrl(`/ws/chat/${room}/`),
    );

    let refusal = "";
    await t.step(
      "sends are refused with a reason once the disk is full",
      async () => {
        for (let i = 0; i < 200 && !refusal; i++) {
          const answer = await sendOne(
            client,
            `${i} `.padEnd(MESSAGE_CHARS, "x"),
          );
          if ("id" in answer) acknowledged.push(answer.id);
          else refusal = answer.error;
        }
        assert.ok(acknowledged.length > 0, "some messages fitted");
        assert.match(refusal, /storage is full/);
      },
    );

    await t.step("/healthz answers 503 naming the full disk", async () => {
      const answer = await healthUntil(server, (h) => h.status === 503, 5000);
      assert.equal(answer.body.store, "full");
      assert.match(String(answer.body.reason), /disk is full/i);
    });

    await t.step(
      "the log and the metrics carry the real SQLite error",
      async () => {
        await server.waitForOutput(/message\.store_failed.*disk is full/);
        assert.doesNotMatch(server.output(), /cannot rollback/);
        const metrics = await (await fetch(`${server.origin}/metrics`)).text();
        assert.match(
          metrics,
          /chat_store_errors_total\{operation="append",kind="full"\} [1-9]/,
        );
      },
    );

    await t.step("every acknowledged message can still be read", async () => {
      assert.deepEqual(
        (await storedIds(server, room)).slice(-acknowledged.length),
        acknowledged,
      );
    });

    await t.step(
      "when space returns, health and sends recover by themselves",
      async () => {
        await Deno.remove(filler);
        await healthUntil(server, (h) => h.status === 200, 10_000);
        const answer = await sendOne(client, "after the disk was freed");
        assert.ok("id" in answer, JSON.stringify(answer));
        assert.equal(
          answer.id,
          (acknowledged.at(-1) ?? 0) + 1,
          "no id skipped",
        );
        acknowledged.push(answer.id);
      },
    );
  }

  await t.step(
    "after a restart every acknowledged message is there, ids contiguous",
    async () => {
      await using again = await startServerProcess({ args: SERVER.run(), env });
      const ids = await storedIds(again, room);
      assert.deepEqual(ids, acknowledged);
      assert.deepEqual(
        ids,
        Array.from({ length: ids.length }, (_, i) => i + 1),
      );
    },
  );
});
