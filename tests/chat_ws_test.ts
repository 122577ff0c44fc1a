import assert from "node:assert/strict";
import {
  delay,
  startServer,
  TestClient,
  uniqueRoom,
} from "./helpers/server.ts";

interface MessageFrame {
  type: "message";
  room: string;
  message: string;
  ts: string;
}

function isMessage(frame: unknown): frame is MessageFrame {
  return typeof frame === "object" && frame !== null &&
    "type" in frame && frame.type === "message";
}

Deno.test("chat over WebSocket", async (t) => {
  await using server = await startServer();

  await t.step(
    "two clients in a room both receive a message, sender included",
    async () => {
      const room = uniqueRoom();
      await using alice = await TestClient.connect(
        server.wsUrl(`/ws/chat/${room}/`),
      );
      await using bob = await TestClient.connect(
        server.wsUrl(`/ws/chat/${room}/`),
      );
      alice.send({ type: "message", message: "hello bob" });
      for (const client of [alice, bob]) {
        const frame = await client.frame(0);
        assert.ok(isMessage(frame));
        assert.equal(frame.message, "hello bob");
        assert.equal(frame.room, room);
        assert.ok(!Number.isNaN(Date.parse(frame.ts)), frame.ts);
        assert.match(frame.ts, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
      }
    },
  );

  await t.step("a client in another room receives nothing", async () => {
    const room = uniqueRoom();
    await using sender = await TestClient.connect(
      server.wsUrl(`/ws/chat/${room}/`),
    );
    await using outsider = await TestClient.connect(
      server.wsUrl(`/ws/chat/${room}x/`),
    );
    sender.send({ message: "only for my room" });
    await sender.frame(0);
    // Then a marker in the outsider's room, so we know delivery has settled.
    outsider.send({ message: "marker" });
    const first = await outsider.frame(0);
    assert.ok(isMessage(first));
    assert.equal(first.message, "marker");
    await delay(50);
    assert.equal(outsider.frames.length, 1);
  });

  await t.step("a Unicode room name works end to end", async () => {
    const room = `잡담_${crypto.randomUUID().slice(0, 4)}`;
    await using client = await TestClient.connect(
      server.wsUrl(`/ws/chat/${encodeURIComponent(room)}/`),
    );
    client.send({ message: "안녕하세요 👋" });
    const frame = await client.frame(0);
    assert.ok(isMessage(frame));
    assert.equal(frame.room, room);
    assert.equal(frame.message, "안녕하세요 👋");
  });

  await t.step("both URL forms reach the same room", async () => {
    const room = uniqueRoom();
    await using slash = await TestClient.connect(
      server.wsUrl(`/ws/chat/${room}/`),
    );
    await using bare = await TestClient.connect(
      server.wsUrl(`/ws/chat/${room}`),
    );
    bare.send({ message: "from the bare form" });
    const frame = await slash.frame(0);
    assert.ok(isMessage(frame));
    assert.equal(frame.message, "from the bare form");
  });

  await t.step(
    "a client speaking only the tutorial format works unchanged",
    async () => {
      const room = uniqueRoom();
      await using client = await TestClient.connect(
        server.wsUrl(`/ws/chat/${room}/`),
      );
      // The tutorial's room.html: send {"message": …}, read data.message.
      client.send(JSON.stringify({ "message": "tutorial style" }));
      const data = await client.frame(0);
      assert.ok(typeof data === "object" && data !== null && "message" in data);
      assert.equal(data.message, "tutorial style");
    },
  );

  await t.step(
    "bad input gets an error frame and the socket stays usable",
    async () => {
      const room = uniqueRoom();
      await using client = await TestClient.connect(
        server.wsUrl(`/ws/chat/${room}/`),
      );
      client.send("not json");
      client.send({ type: "dance" });
      client.send({ message: "  " });
      client.send({ message: "still here" });
      const frames = await client.waitForFrames(4);
      assert.deepEqual(
        frames.slice(0, 3).map((f) =>
          typeof f === "object" && f !== null && "code" in f ? f.code : f
        ),
        ["invalid_json", "bad_frame", "empty"],
      );
      const last = frames[3];
      assert.ok(isMessage(last));
      assert.equal(last.message, "still here");
    },
  );

  await t.step("a binary frame closes the socket with 1003", async () => {
    const room = uniqueRoom();
    const client = await TestClient.connect(server.wsUrl(`/ws/chat/${room}/`));
    client.socket.send(new Uint8Array([1, 2, 3]));
    const event = await client.closed;
    assert.equal(event.code, 1003);
  });

  await t.step(
    "an invalid room is refused with 400 before any upgrade",
    async () => {
      const response = await fetch(`${server.origin}/ws/chat/a%20b/`, {
        headers: {
          Upgrade: "websocket",
          Connection: "Upgrade",
          "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==",
          "Sec-WebSocket-Version": "13",
        },
      });
      assert.equal(response.status, 400);
      assert.match((await response.json()).error, /Cannot join room/);
    },
  );

  await t.step(
    "rooms are forgotten when their last member leaves",
    async () => {
      const before = server.chat.hub.stats();
      const room = uniqueRoom();
      const a = await TestClient.connect(server.wsUrl(`/ws/chat/${room}/`));
      const b = await TestClient.connect(server.wsUrl(`/ws/chat/${room}/`));
      assert.equal(server.chat.hub.stats().rooms, before.rooms + 1);
      assert.equal(server.chat.hub.stats().members, before.members + 2);
      await a.close();
      await b.close();
      // The server sees the close a moment after the client does.
      for (
        let i = 0;
        i < 50 && server.chat.hub.stats().rooms > before.rooms;
        i++
      ) {
        await delay(10);
      }
      assert.deepEqual(server.chat.hub.stats(), before);
    },
  );
});
