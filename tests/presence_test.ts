import assert from "node:assert/strict";
import { CloseCode } from "../client/protocol.js";
import { SERVER, startServerProcess } from "../testkit/process.ts";
import {
  recordingLogger,
  startServer,
  uniqueRoom,
  waitUntil,
} from "../testkit/server.ts";
import { TestClient } from "../testkit/test_client.ts";

function changes(client: TestClient): string[] {
  return client.frames
    .filter((f): f is { type: string; user: string } =>
      typeof f === "object" && f !== null && "type" in f &&
      (f.type === "join" || f.type === "leave")
    )
    .map((f) => `${f.type} ${f.user}`);
}

/** A browser key of its own for each name (FNV-1a of the name). */
function browserKey(name: string): string {
  let hash = 0x811c9dc5;
  for (const unit of new TextEncoder().encode(name)) {
    hash = Math.imul(hash ^ unit, 0x01000193) >>> 0;
  }
  return `browser-key-${hash.toString(16).padStart(8, "0")}`;
}

Deno.test("presence and names", async (t) => {
  const log = recordingLogger();
  await using server = await startServer({}, { log });
  /** Waits until the server has logged `count` closes of sockets of `room`. */
  const closedOnServer = (room: string, count: number) =>
    log.waitFor(
      (event) => event.event === "socket.close" && event.room === room,
      count,
    );
  // Each name comes from its own browser (key), unless a test says so.
  const url = (room: string, name?: string, key = browserKey(name ?? "")) =>
    server.wsUrl(
      `/ws/chat/${room}/${
        name === undefined
          ? ""
          : `?name=${encodeURIComponent(name)}&key=${encodeURIComponent(key)}`
      }`,
    );

  await t.step("join and leave with two names", async () => {
    const room = uniqueRoom();
    await using alice = await TestClient.join(url(room, "alice"));
    assert.deepEqual(alice.ofType("presence")[0], {
      type: "presence",
      users: [{ name: "alice", connections: 1, verified: false }],
      count: 1,
      you: "alice",
    });
    const bob = await TestClient.join(url(room, "bob"));
    assert.deepEqual(bob.ofType("presence")[0]?.users, [
      { name: "alice", connections: 1, verified: false },
      { name: "bob", connections: 1, verified: false },
    ]);
    await alice.waitForType("join", 2);
    assert.deepEqual(changes(alice), ["join alice", "join bob"]);
    await bob.close();
    await alice.waitForType("leave", 1);
    assert.deepEqual(changes(alice), ["join alice", "join bob", "leave bob"]);
  });

  await t.step(
    "an online name cannot be taken from another browser: 4009, and the holder stays",
    async () => {
      const room = uniqueRoom();
      await using alice = await TestClient.join(url(room, "alice"));
      const impostors = [
        url(room, "alice", "another-browser-key"),
        server.wsUrl(`/ws/chat/${room}/?name=alice`), // no key at all
        url(room, "ａｌｉｃｅ", "full-width-browser"), // NFKC makes it alice
        // Names that look like it: other cases, look-alike letters and
        // digits, punctuation.
        url(room, "ALICE", "yet-another-browser"),
        url(room, "Alice", "a-capital-browser-key"),
        url(room, "al1ce", "a-digit-browser-key"),
        url(room, "alice.", "a-full-stop-browser-key"),
      ];
      for (const impostor of impostors) {
        const client = await TestClient.connect(impostor);
        const closed = await client.closed;
        assert.equal(closed.code, CloseCode.NameTaken, impostor);
        assert.match(closed.reason, /, or one that looks like it, is in use/);
        assert.deepEqual(client.ofType("history"), [], "saw nothing");
      }
      await using observer = await TestClient.join(url(room, "observer"));
      assert.deepEqual(observer.ofType("presence")[0]?.users, [
        { name: "alice", connections: 1, verified: false },
        { name: "observer", connections: 1, verified: false },
      ]);
      // Presence comes in order: once the observer's join is in, any
      // impostor's would be too.
      await alice.waitForMatching(
        (f) => f.type === "join" && f.user === "observer",
        1,
      );
      assert.deepEqual(
        changes(alice),
        ["join alice", "join observer"],
        "no impostor joined",
      );
    },
  );

  await t.step(
    "spoofing names are refused before the upgrade",
    async () => {
      const room = uniqueRoom();
      const spoofs: [string, RegExp][] = [
        ["ali\u200Bce", /invisible/],
        ["\u202Eecila", /invisible/],
        ["\u200B", /invisible/],
        ["\u0430lice", /mixes Latin and Cyrillic|mixes Cyrillic and Latin/],
        ["system", /reserved/],
        ["Server", /reserved/],
        // Look-alikes of reserved words: dotless i, a trailing full stop,
        // spaces, all-Cyrillic letters, capitals of those.
        ["adm\u0131n", /looks like "admin", which is reserved/],
        ["moderator.", /looks like "moderator", which is reserved/],
        ["mod erator", /looks like "moderator", which is reserved/],
        ["\u0455\u0443\u0455\u0442\u0435\u043C", /looks like "system"/],
        ["\u0405\u0423\u0405\u0422\u0415\u041C", /looks like "system"/],
        // The verified badge is the server's to draw.
        ["Alice \u2713", /imitates the mark of a verified user/],
        ["Alice \u2714\uFE0F", /imitates the mark of a verified user/],
        ["\u2705 Alice", /imitates the mark of a verified user/],
        ["\u0301\u0301", /no visible/],
      ];
      for (const [spoof, reason] of spoofs) {
        const name = JSON.parse(`"${spoof}"`);
        const response = await fetch(
          url(room, name).replace("ws:", "http:"),
          {
            headers: {
              Upgrade: "websocket",
              Connection: "Upgrade",
              "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==",
              "Sec-WebSocket-Version": "13",
            },
          },
        );
        assert.equal(response.status, 400, spoof);
        assert.match((await response.json()).error, reason);
      }
    },
  );

  await t.step(
    "one name on two sockets of one browser is one user",
    async () => {
      const room = uniqueRoom();
      await using watcher = await TestClient.join(url(room, "watcher"));
      const tab1 = await TestClient.join(url(room, "dana"));
      const tab2 = await TestClient.join(url(room, "dana"));
      assert.deepEqual(tab2.ofType("presence")[0]?.users, [
        { name: "dana", connections: 2, verified: false },
        { name: "watcher", connections: 1, verified: false },
      ]);
      await tab1.close();
      // Once the server has seen the close, a later join as the marker:
      // presence comes in order, so a leave of dana would be in by the
      // time the marker's join is.
      await closedOnServer(room, 1);
      await using marker = await TestClient.join(url(room, "marker"));
      await watcher.waitForMatching(
        (f) => f.type === "join" && f.user === "marker",
        1,
      );
      assert.deepEqual(marker.ofType("presence")[0]?.users, [
        { name: "dana", connections: 1, verified: false },
        { name: "marker", connections: 1, verified: false },
        { name: "watcher", connections: 1, verified: false },
      ]);
      assert.deepEqual(changes(watcher), [
        "join watcher",
        "join dana",
        "join marker",
      ]);
      await tab2.close();
      await watcher.waitForType("leave", 1);
      assert.deepEqual(changes(watcher), [
        "join watcher",
        "join dana",
        "join marker",
        "leave dana",
      ]);
    },
  );

  await t.step(
    "a client without a name is a guest, and messages carry the name",
    async () => {
      const room = uniqueRoom();
      await using guest = await TestClient.join(url(room));
      const you = String(guest.ofType("presence")[0]?.you);
      assert.match(you, /^guest-[0-9a-f]{4}$/);
      guest.send({ message: "hi" });
      const [message] = await guest.waitForType("message", 1);
      assert.equal(message?.user, you);
      await using blank = await TestClient.join(url(room, "   "));
      assert.match(String(blank.ofType("presence")[0]?.you), /^guest-/);
    },
  );

  await t.step(
    "a guest whose server-picked name is online is given another, not refused",
    async () => {
      // The first two picks collide, as two random ones can.
      const picks = ["guest-0000", "guest-0000", "guest-0001"];
      await using clashing = await startServer({}, {
        guestNames: () => picks.shift() ?? "guest-ffff",
      });
      const room = uniqueRoom();
      const guestUrl = (key: string) =>
        clashing.wsUrl(`/ws/chat/${encodeURIComponent(room)}/?key=${key}`);
      await using first = await TestClient.join(guestUrl(browserKey("one")));
      await using second = await TestClient.join(guestUrl(browserKey("two")));
      assert.equal(first.ofType("presence")[0]?.you, "guest-0000");
      assert.equal(second.ofType("presence")[0]?.you, "guest-0001");
      second.send({ message: "still here" });
      const [message] = await first.waitForType("message", 1);
      assert.equal(message?.user, "guest-0001");
      // A name the client chose is still refused when it is taken.
      const taken = await TestClient.connect(
        `${guestUrl(browserKey("three"))}&name=guest-0000`,
      );
      const closed = await taken.closed;
      assert.equal(closed.code, CloseCode.NameTaken);
    },
  );

  await t.step("names are trimmed and NFC normalised", async () => {
    const room = uniqueRoom();
    await using zoe = await TestClient.join(url(room, "  Zoe\u0301  "));
    assert.equal(zoe.ofType("presence")[0]?.you, "Zoé");
  });

  await t.step("GET /api/rooms lists rooms with someone online", async () => {
    const room = uniqueRoom("online");
    const a = await TestClient.join(url(room, "a"));
    const b1 = await TestClient.join(url(room, "b"));
    const b2 = await TestClient.join(url(room, "b"));
    const list = async () =>
      (await (await fetch(`${server.origin}/api/rooms`)).json()).rooms;
    assert.deepEqual(
      (await list()).find((r: { name: string }) => r.name === room),
      { name: room, online: 2 },
    );
    await Promise.all([a.close(), b1.close(), b2.close()]);
    // The list answers from the presence store, which the leaves reach a
    // moment after the closes; nothing tells when, so ask until then.
    await waitUntil(
      async () =>
        !(await list()).some((r: { name: string }) => r.name === room),
      `${room} leaving the list`,
    );
  });
});

Deno.test("presence forgets the users of a process that was killed", async () => {
  const dir = await Deno.makeTempDir({ prefix: "chat-presence-" });
  try {
    const env = {
      LOG_LEVEL: "warn",
      CHAT_DB: `${dir}/chat.db`,
      CHAT_PRESENCE_HEARTBEAT_MS: "100",
      CHAT_PRESENCE_TTL_MS: "400",
    };
    const args = SERVER.run();
    await using survivor = await startServerProcess({ args, env });
    const doomed = await startServerProcess({ args, env });
    const room = uniqueRoom();
    await using watcher = await TestClient.join(
      survivor.wsUrl(`/ws/chat/${room}/?name=watcher`),
    );
    const ghost = await TestClient.join(
      doomed.wsUrl(`/ws/chat/${room}/?name=ghost`),
    );
    // Two processes share the SQLite file but no BroadcastChannel: the
    // presence list is shared; live join events need a shared bus (Redis).
    const online = async () =>
      (await (await fetch(`${survivor.origin}/api/rooms`)).json()).rooms
        .find((r: { name: string }) => r.name === room);
    assert.deepEqual(await online(), { name: room, online: 2 });

    // No goodbye: the process dies with the socket open.
    const status = await doomed.stop("SIGKILL");
    assert.equal(status.signal, "SIGKILL");
    await ghost.closed;

    // The survivor's sweep finds the dead node's entries stale and
    // announces the departure.
    await watcher.waitForType("leave", 1, 10_000);
    assert.deepEqual(changes(watcher), ["join watcher", "leave ghost"]);
    assert.deepEqual(await online(), { name: room, online: 1 });
    await using late = await TestClient.join(
      survivor.wsUrl(`/ws/chat/${room}/?name=late`),
    );
    assert.deepEqual(late.ofType("presence")[0]?.users, [
      { name: "late", connections: 1, verified: false },
      { name: "watcher", connections: 1, verified: false },
    ]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
