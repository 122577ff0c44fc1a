import assert from "node:assert/strict";
import { CloseCode } from "../client/protocol.js";
import { recordingLogger, startServer, uniqueRoom } from "../testkit/server.ts";
import { TestClient } from "../testkit/test_client.ts";

Deno.test("chat over WebSocket", async (t) => {
  // The protocol, not the address limits (limits_test.ts): every step's
  // sockets come from 127.0.0.1 and would share one budget.
  const log = recordingLogger();
  await using server = await startServer({
    CHAT_RATE_LIMIT: "0",
    CHAT_CONNECT_RATE: "0",
  }, { log });
  const url = (room: string, query = "") =>
    server.wsUrl(`/ws/chat/${room}/${query}`);

  await t.step(
    "two clients in a room both receive a message, sender included",
    async () => {
      const room = uniqueRoom();
      await using alice = await TestClient.join(url(room, "?name=alice"));
      await using bob = await TestClient.join(url(room, "?name=bob"));
      alice.send({ type: "message", message: "hello bob" });
      for (const client of [alice, bob]) {
        const [frame] = await client.waitForType("message", 1);
        assert.ok(frame);
        assert.equal(frame.message, "hello bob");
        assert.equal(frame.room, room);
        assert.equal(frame.user, "alice");
        assert.equal(frame.id, 1);
        assert.match(
          String(frame.ts),
          /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/,
        );
      }
    },
  );

  await t.step("a client in another room receives nothing", async () => {
    const room = uniqueRoom();
    await using sender = await TestClient.join(url(room));
    await using outsider = await TestClient.join(url(`${room}x`));
    sender.send({ message: "only for my room" });
    await sender.waitForType("message", 1);
    // Then a marker in the outsider's room: the sender's message was
    // delivered before the marker was sent, so a leak would be in first.
    outsider.send({ message: "marker" });
    await outsider.waitForType("message", 1);
    assert.deepEqual(outsider.messageTexts(), ["marker"]);
  });

  await t.step("a Unicode room name works end to end", async () => {
    const room = `잡담_${crypto.randomUUID().slice(0, 4)}`;
    await using client = await TestClient.join(url(encodeURIComponent(room)));
    client.send({ message: "안녕하세요 👋" });
    const [frame] = await client.waitForType("message", 1);
    assert.equal(frame?.room, room);
    assert.equal(frame?.message, "안녕하세요 👋");
  });

  await t.step("both URL forms reach the same room", async () => {
    const room = uniqueRoom();
    await using slash = await TestClient.join(
      server.wsUrl(`/ws/chat/${room}/`),
    );
    await using bare = await TestClient.join(server.wsUrl(`/ws/chat/${room}`));
    bare.send({ message: "from the bare form" });
    await slash.waitForType("message", 1);
    assert.deepEqual(slash.messageTexts(), ["from the bare form"]);
  });

  await t.step(
    "the Django Channels tutorial's client works unchanged",
    async () => {
      const room = uniqueRoom();
      await using typed = await TestClient.join(url(room, "?name=typed"));
      assert.equal(typed.socket.protocol, "chat.v1");
      typed.send({ message: "before you came" });
      await typed.waitForType("message", 1);

      // The tutorial's room.html offers no subprotocol, sends
      // {"message": …} and appends data.message + "\n" of every frame it
      // receives to its log.
      await using tutorial = await TestClient.connect(url(room), []);
      assert.equal(tutorial.socket.protocol, "");
      const tutorialLog = () =>
        tutorial.frames
          .map((data) =>
            typeof data === "object" && data !== null && "message" in data
              ? `${data.message}\n`
              : "undefined\n"
          )
          .join("");
      await tutorial.waitForFrames(1);

      tutorial.send(JSON.stringify({ message: "tutorial style" }));
      await tutorial.waitForFrames(2);
      tutorial.send(JSON.stringify({ message: "" }));
      await tutorial.waitForFrames(3);

      // Others see the tutorial client as a guest; its own log gets no
      // presence frames, even as people come and go.
      const [, guestJoin] = await typed.waitForType("join", 2);
      assert.match(String(guestJoin?.user), /^guest-[0-9a-f]{4}$/);
      const [, echoed] = await typed.waitForType("message", 2);
      assert.equal(echoed?.message, "tutorial style");
      assert.equal(echoed?.user, guestJoin?.user);
      const late = await TestClient.join(url(room, "?name=late"));
      // Seen to come before it goes: a come-and-go within one presence
      // window would rightly be announced to nobody.
      await typed.waitForMatching(
        (f) => f.type === "join" && f.user === "late",
        1,
      );
      await late.close();
      await typed.waitForType("leave", 1);

      typed.send({ message: "reply" });
      await tutorial.waitForFrames(4);
      assert.equal(
        tutorialLog(),
        "before you came\ntutorial style\nMessage is empty\nreply\n",
      );
    },
  );

  await t.step(
    "bad input gets an error frame and the socket stays usable",
    async () => {
      const room = uniqueRoom();
      await using client = await TestClient.join(url(room));
      client.send("not json");
      client.send({ type: "dance" });
      client.send({ message: "  " });
      client.send({ message: "still here" });
      const errors = await client.waitForType("error", 3);
      assert.deepEqual(errors.map((f) => f.code), [
        "invalid_json",
        "bad_frame",
        "empty",
      ]);
      await client.waitForType("message", 1);
      assert.deepEqual(client.messageTexts(), ["still here"]);
    },
  );

  await t.step("a binary frame closes the socket with 1003", async () => {
    const client = await TestClient.join(url(uniqueRoom()));
    client.socket.send(new Uint8Array([1, 2, 3]));
    const event = await client.closed;
    assert.equal(event.code, CloseCode.UnsupportedData);
  });

  await t.step(
    "an invalid room, name or since is refused with 400 before any upgrade",
    async () => {
      const upgrade = {
        Upgrade: "websocket",
        Connection: "Upgrade",
        "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==",
        "Sec-WebSocket-Version": "13",
      };
      const cases: [string, RegExp][] = [
        ["/ws/chat/a%20b/", /Cannot join room: Room name/],
        [`/ws/chat/ok/?name=${"x".repeat(33)}`, /longer than 32 characters/],
        ["/ws/chat/ok/?name=a%07b", /control characters/],
        ["/ws/chat/ok/?since=-1", /since must be a whole number/],
        ["/ws/chat/ok/?since=abc", /since must be a whole number/],
      ];
      for (const [path, message] of cases) {
        const response = await fetch(`${server.origin}${path}`, {
          headers: upgrade,
        });
        assert.equal(response.status, 400, path);
        assert.match((await response.json()).error, message, path);
      }
    },
  );

  await t.step(
    "rooms are forgotten when their last member leaves",
    async () => {
      // Counted once the server has seen every earlier step's sockets
      // close, as the client saw them.
      const isEvent = (name: string) => (event: Record<string, unknown>) =>
        event.event === name;
      await log.waitFor(
        isEvent("socket.close"),
        log.events.filter(isEvent("socket.open")).length,
      );
      const before = server.chat.hub.stats();
      const room = uniqueRoom();
      const a = await TestClient.join(url(room));
      const b = await TestClient.join(url(room));
      assert.equal(server.chat.hub.stats().rooms, before.rooms + 1);
      assert.equal(server.chat.hub.stats().members, before.members + 2);
      await a.close();
      await b.close();
      // The server sees each close a moment after the client does; it
      // logs it once the socket has left its room.
      await log.waitFor(
        (event) => isEvent("socket.close")(event) && event.room === room,
        2,
      );
      assert.deepEqual(server.chat.hub.stats(), before);
    },
  );
});
