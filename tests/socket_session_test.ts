import assert from "node:assert/strict";
import { CloseCode } from "../client/protocol.js";
import { CHAT_PROTOCOL } from "../chat/frames.ts";
import { SERVER, startServerProcess } from "../testkit/process.ts";
import { maskedTextFrames, RawFrameSocket } from "../testkit/raw_frames.ts";
import { storedMessages, uniqueRoom, waitUntil } from "../testkit/server.ts";

/** What the flood test reads of a frame. */
interface Answer {
  readonly type: string;
  readonly code?: unknown;
  readonly cid?: unknown;
}

function answerOf(text: string): Answer {
  const value: unknown = JSON.parse(text);
  assert.ok(typeof value === "object" && value !== null && "type" in value);
  return {
    type: String(value.type),
    ...("code" in value ? { code: value.code } : {}),
    ...("cid" in value ? { cid: value.cid } : {}),
  };
}

Deno.test("a flood written at once gets its answers, then 1008", async (t) => {
  // A bucket that barely refills while a round runs: the burst goes
  // through, then refusals, then the cut-off.
  const burst = 10;
  const dir = await Deno.makeTempDir({ prefix: "chat-flood-" });
  try {
    // A process with its database in a file, as a user starts it; each
    // round comes from an address of its own (through a trusted proxy), so
    // that no round inherits another's spent budget.
    await using server = await startServerProcess({
      args: SERVER.run(),
      env: {
        CHAT_DB: `${dir}/chat.db`,
        CHAT_RATE_LIMIT: "5",
        CHAT_RATE_BURST: String(burst),
        CHAT_TRUSTED_PROXIES: "127.0.0.1",
      },
    });
    const port = Number(new URL(server.origin).port);
    const rounds = [30, 30, ...Array<number>(12).fill(1000)];
    for (const [round, count] of rounds.entries()) {
      await t.step(
        `round ${round}: ${count} frames in one write: every accepted one echoed, every refused one answered, then 1008`,
        async () => {
          const room = uniqueRoom();
          await using client = await RawFrameSocket.open(
            port,
            `/ws/chat/${room}/`,
            {
              "Sec-WebSocket-Protocol": CHAT_PROTOCOL,
              "X-Forwarded-For": `10.27.${round}.1`,
            },
          );
          // Admitted: history, then the presence list.
          await client.textsUntil((text) => answerOf(text).type === "presence");
          const frames = Array.from(
            { length: count },
            (_, i) =>
              JSON.stringify({
                type: "message",
                message: `m${i}`,
                cid: `${i}`,
              }),
          );
          await client.write(maskedTextFrames(frames));
          const closed = await client.untilClose(30_000);
          assert.equal(closed.code, CloseCode.PolicyViolation);
          assert.match(closed.reason, /Flooding/);

          const answers = closed.texts.map(answerOf);
          const echoed = answers.filter((a) => a.type === "message")
            .map((a) => Number(a.cid));
          const refused = answers.filter((a) => a.type === "error")
            .map((a) => {
              assert.equal(a.code, "rate_limited");
              return Number(a.cid);
            });
          assert.ok(echoed.length >= burst, "the burst goes through");
          // The frame after the last answer closed the socket: every frame
          // before it is answered exactly once, an echo or a refusal, each
          // kind in the order sent; none after it.
          const last = Math.max(...echoed, ...refused);
          assert.deepEqual(
            [...echoed, ...refused].sort((a, b) => a - b),
            Array.from({ length: last + 1 }, (_, i) => i),
          );
          assert.deepEqual(echoed, [...echoed].sort((a, b) => a - b));
          assert.deepEqual(refused, [...refused].sort((a, b) => a - b));
          assert.deepEqual(
            refused.slice(-burst),
            Array.from({ length: burst }, (_, i) => last - burst + 1 + i),
            "cut off at the refusal after `burst` refusals in a row",
          );
          // What was echoed is what was stored, and nothing else.
          const expected = echoed.map((i) => `m${i}`);
          await waitUntil(
            async () =>
              (await storedMessages(server, room)).length >= expected.length,
            "storing the accepted messages",
          );
          assert.deepEqual(
            (await storedMessages(server, room)).map(({ message }) => message),
            expected,
          );
        },
      );
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
