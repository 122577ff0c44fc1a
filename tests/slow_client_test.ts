import assert from "node:assert/strict";
import { CloseCode } from "../client/protocol.js";
import { openSilentSocket } from "../testkit/raw_socket.ts";
import { recordingLogger, startServer, uniqueRoom } from "../testkit/server.ts";
import { TestClient } from "../testkit/test_client.ts";

async function metric(origin: string, name: string): Promise<number> {
  const text = await (await fetch(`${origin}/metrics`)).text();
  const line = text.split("\n").find((l) => l.startsWith(`${name} `));
  return line ? Number(line.split(" ")[1]) : NaN;
}

Deno.test("a client that never reads does not slow the room", async (t) => {
  const maxBuffered = 1024 * 1024;
  const log = recordingLogger();
  await using server = await startServer({
    CHAT_RATE_LIMIT: "0",
    CHAT_MAX_BUFFERED_BYTES: String(maxBuffered),
  }, { log });
  const port = Number(new URL(server.origin).port);
  const room = uniqueRoom("slow");
  await using stuck = await openSilentSocket(
    port,
    `/ws/chat/${room}/?name=stuck`,
  );
  const readers: TestClient[] = [];
  try {
    for (let i = 0; i < 20; i++) {
      readers.push(
        await TestClient.join(server.wsUrl(`/ws/chat/${room}/?name=r${i}`)),
      );
    }
    assert.equal(server.chat.hub.stats().members, 21);

    // About 12 MB for each reader: more than the kernel buffers of a
    // socket nobody reads, so Deno's own queue must grow for it.
    const count = 6000;
    const body = "x".repeat(1990);
    const sender = readers[0];
    assert.ok(sender);
    for (let i = 0; i < count; i++) sender.send({ message: `${i} ${body}` });

    await t.step("the 20 readers receive every message, in order", async () => {
      for (const [index, reader] of readers.entries()) {
        const frames = await reader.waitForType("message", count, 60_000);
        assert.deepEqual(
          frames.map((f) => f.id),
          Array.from({ length: count }, (_, i) => i + 1),
          `reader ${index}`,
        );
      }
    });

    await t.step(
      "the stuck client was cut off once its queue passed the limit",
      async () => {
        assert.equal(
          await metric(server.origin, "chat_slow_client_closes_total"),
          1,
        );
        // It left the room, so nothing more is queued for it.
        assert.equal(server.chat.hub.stats().members, 20);
        const presence = await fetch(`${server.origin}/api/rooms`);
        const rooms = (await presence.json()).rooms;
        assert.deepEqual(rooms.find((r: { name: string }) => r.name === room), {
          name: room,
          online: 20,
        });
      },
    );

    await t.step("a reader that joins now is served at once", async () => {
      await using late = await TestClient.join(
        server.wsUrl(`/ws/chat/${room}/?name=late`),
      );
      sender.send({ message: "after" });
      await late.waitForType("message", 1);
      assert.deepEqual(late.messageTexts(), ["after"]);
    });

    await t.step(
      "the stuck client, reading again, finds the close after what was queued",
      async () => {
        // Until it reads, the close frame waits behind the queue, and so
        // does the server's close of the socket.
        const { code, reason } = await stuck.readUntilClose();
        assert.equal(code, CloseCode.TryAgainLater);
        assert.match(reason, /^Too slow/);
      },
    );
  } finally {
    await Promise.all(readers.map((reader) => reader.close()));
    await stuck[Symbol.asyncDispose]();
    // The server's side of each close ends a moment after the client's:
    // wait for every one before closing the server, or their socket ops
    // outlive the test.
    const isEvent = (name: string) => (event: Record<string, unknown>) =>
      event.event === name;
    await log.waitFor(
      isEvent("socket.close"),
      log.events.filter(isEvent("socket.open")).length,
    );
  }
});

Deno.test("a client that stops answering pings is dropped after CHAT_IDLE_TIMEOUT_S", async () => {
  await using server = await startServer({ CHAT_IDLE_TIMEOUT_S: "1" });
  const port = Number(new URL(server.origin).port);
  const room = uniqueRoom("idle");
  await using alive = await TestClient.join(
    server.wsUrl(`/ws/chat/${room}/?name=alive`),
  );
  await using _silent = await openSilentSocket(
    port,
    `/ws/chat/${room}/?name=silent`,
  );
  await alive.waitForType("join", 2);
  const started = Date.now();
  await alive.waitForType("leave", 1, 10_000);
  const waited = Date.now() - started;
  assert.deepEqual(alive.ofType("leave"), [{ type: "leave", user: "silent" }]);
  assert.ok(
    waited >= 500,
    `dropped after ${waited} ms, before its idle timeout`,
  );
  // The client that answers pings (Deno's WebSocket does) stays.
  assert.equal(alive.socket.readyState, WebSocket.OPEN);
  assert.equal(server.chat.hub.stats().members, 1);
});
