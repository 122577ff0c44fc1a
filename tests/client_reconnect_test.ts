/**
 * The client library across connections: a server restarted while a
 * client sends (every message stored and delivered exactly once, in id
 * order), a history that is not recovered, a token refreshed on 4001, and
 * the closes after which it must not reconnect (4010, 4009, 1008).
 *
 * @module
 */

import assert from "node:assert/strict";
import { SignJWT } from "jose";
import {
  ChatClient,
  type ChatClientEventMap,
  type ChatClientOptions,
  ChatError,
  type ChatMessage,
} from "../client/chat_client.js";
import { EventLog } from "../testkit/event_log.ts";
import { freePort } from "../testkit/process.ts";
import { RestartableServer } from "../testkit/restartable_server.ts";
import {
  startServer,
  storedMessages,
  uniqueRoom,
  within,
} from "../testkit/server.ts";

const EVENTS = [
  "message",
  "history",
  "presence",
  "state",
  "error",
] as const;

/** Quick retries, so that a restart costs the test little. */
const BACKOFF = { baseMs: 50, capMs: 300 };

const ENV = {
  CHAT_RATE_LIMIT: "0",
  CHAT_CONNECT_RATE: "0",
  LOG_LEVEL: "warn",
};

/** A client with the log of its events; disposing closes both. */
interface Opened extends Disposable {
  readonly client: ChatClient;
  readonly log: EventLog<ChatClientEventMap>;
}

/** A client of `url` and its event log, not waiting for anything. */
function client(url: string, options: ChatClientOptions): Opened {
  const chat = new ChatClient(url, { backoff: BACKOFF, ...options });
  const log = new EventLog<ChatClientEventMap>(chat, EVENTS);
  return {
    client: chat,
    log,
    [Symbol.dispose]() {
      chat.close();
      log[Symbol.dispose]();
    },
  };
}

/** A client of `url` that has caught up (state `open`). */
async function open(url: string, options: ChatClientOptions) {
  const opened = client(url, options);
  await opened.log.waitFor("state", (d) => d.state === "open");
  return opened;
}

/** How many `open` states `log` has recorded. */
function opens(log: EventLog<ChatClientEventMap>): number {
  return log.of("state").filter((d) => d.state === "open").length;
}

/** Asserts that `messages` hold `texts` each once, in strictly rising ids. */
function assertExactlyOnce(
  messages: readonly { id: number; message: string }[],
  texts: readonly string[],
  who: string,
) {
  assert.deepEqual(
    messages.map((m) => m.message).sort(),
    [...texts].sort(),
    `${who}: every message exactly once`,
  );
  for (const [index, message] of messages.entries()) {
    const before = messages[index - 1];
    if (before) assert.ok(message.id > before.id, `${who}: ids rise`);
  }
}

Deno.test("a server restarted while a client sends 50 messages loses and repeats none", async () => {
  const dir = await Deno.makeTempDir({ prefix: "chat-client-restart-" });
  try {
    await using server = new RestartableServer({
      port: freePort(),
      env: { ...ENV, CHAT_DB: `${dir}/chat.db` },
    });
    await server.start();
    const room = uniqueRoom("restart");
    using sender = await open(server.origin, { room, name: "sender" });
    using watcher1 = await open(server.origin, { room, name: "watcher-1" });
    using watcher2 = await open(server.origin, { room, name: "watcher-2" });
    const watchers = [watcher1, watcher2];
    const texts = Array.from({ length: 50 }, (_, n) => `m${n + 1}`);
    const sends = new Map<string, Promise<ChatMessage>>();
    const send = (text: string) => {
      const sent = sender.client.send(text);
      // A failure below would leave these to the closing client to reject.
      sent.catch(() => {});
      sends.set(text, sent);
      return sent;
    };
    // The first 20 go out as a busy app's would, each as an earlier one is
    // stored, so that two are always in flight when the server dies.
    let issued = 0;
    let confirmed = 0;
    const chain = () => {
      const text = texts[issued];
      if (issued >= 20 || text === undefined) return;
      issued += 1;
      send(text).then(() => (confirmed++, chain()), () => {});
    };
    chain();
    chain();
    let stopped: Promise<void> | undefined;
    let confirmedAtKill = 0;
    const kill = (event: ChatClientEventMap["message"]) => {
      if (event.detail.message !== "m10" || stopped) return;
      confirmedAtKill = confirmed;
      stopped = server.stop("SIGKILL");
    };
    watcher1.client.addEventListener("message", kill);
    await watcher1.log.waitFor("message", (m) => m.message === "m10");
    watcher1.client.removeEventListener("message", kill);
    await stopped;
    await sender.log.waitFor("state", (d) => d.state === "reconnecting");
    for (const text of texts.slice(20)) send(text);
    assert.ok(sender.client.pending >= 30, "the sends wait in the outbox");
    await server.start();

    // The chain goes on after the restart, up to m20.
    const all = () => new Set(sender.log.of("message").map((m) => m.message));
    await sender.log.waitFor("message", () => all().size === 50, 1, 30_000);
    assert.equal(sends.size, 50);
    const stored = await Promise.all(sends.values());
    assert.deepEqual(stored.map((m) => m.message).sort(), [...texts].sort());
    assert.equal(sender.client.pending, 0);
    const held = await storedMessages(server, room);
    assertExactlyOnce(held, texts, "the store");
    for (const [index, each] of [sender, ...watchers].entries()) {
      // Caught up: the history's messages come before the state says so.
      await each.log.waitFor("state", (d) => d.state === "open", 2, 30_000);
      await each.log.waitFor("message", (m) => m.message === "m50");
      assertExactlyOnce(each.log.of("message"), texts, `client ${index}`);
      assert.deepEqual(
        each.log.of("message").map((m) => m.id),
        held.map((m) => m.id),
      );
      assert.ok(each.log.of("history").at(-1)?.recovered, "with since=");
    }
    console.log(`${confirmedAtKill} sends were confirmed at the kill`);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a history that is not recovered resets what the client holds", async (t) => {
  await t.step("the server came back with another log", async () => {
    const dir = await Deno.makeTempDir({ prefix: "chat-client-forgot-" });
    try {
      await using server = new RestartableServer({
        port: freePort(),
        env: { ...ENV, CHAT_DB: `${dir}/chat.db` },
      });
      await server.start();
      const room = uniqueRoom("forgot");
      using alice = await open(server.origin, { room, name: "alice" });
      for (const text of ["old 1", "old 2", "old 3"]) {
        await alice.client.send(text);
      }
      const oldEpoch = alice.client.epoch;
      assert.ok(alice.client.lastId >= 3);

      await server.stop();
      for (const suffix of ["", "-wal", "-shm"]) {
        await Deno.remove(`${dir}/chat.db${suffix}`).catch((error) => {
          if (!(error instanceof Deno.errors.NotFound)) throw error;
        });
      }
      await server.start();

      const [history] = await alice.log.waitFor(
        "history",
        (h) => !h.recovered,
        2,
        30_000,
      ).then((found) => found.slice(1));
      assert.ok(history);
      assert.equal(history.missed, true, "it held messages: some are missed");
      assert.notEqual(history.epoch, oldEpoch);
      await alice.log.waitFor("state", (d) => d.state === "open", 2, 30_000);
      assert.equal(alice.client.epoch, history.epoch);
      assert.equal(alice.client.lastId, 0, "the new log is empty");

      // Id 1 of the new log is below what the client had seen: delivered.
      const fresh = await alice.client.send("new 1");
      assert.equal(fresh.id, 1);
      await alice.log.waitFor("message", (m) => m.message === "new 1");
      assert.equal(alice.client.lastId, 1);
      assert.deepEqual(
        alice.log.of("message").map((m) => m.message),
        ["old 1", "old 2", "old 3", "new 1"],
      );
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  });

  await t.step("since= from another epoch, or the same", async () => {
    await using server = await startServer(ENV);
    const room = uniqueRoom("epoch");
    const { epoch } = await (async () => {
      using writer = await open(server.origin, { room, name: "writer" });
      for (const text of ["a", "b", "c"]) await writer.client.send(text);
      return { epoch: writer.client.epoch };
    })();
    using other = await open(server.origin, {
      room,
      since: 2,
      epoch: "another-log-0000",
    });
    assert.equal(other.log.of("history")[0]?.recovered, false);
    assert.deepEqual(other.log.of("message").map((m) => m.message), [
      "a",
      "b",
      "c",
    ]);
    assert.equal(other.client.epoch, epoch);
    using same = await open(server.origin, { room, since: 2, epoch });
    assert.equal(same.log.of("history")[0]?.recovered, true);
    assert.deepEqual(same.log.of("message").map((m) => m.message), ["c"]);
    assert.equal(same.client.lastId, other.client.lastId);
  });
});

const SECRET = "site-and-chat-share-this-32-byte-secret";

/** A token for alice that expires in `seconds` (1 to 2 s for 2). */
let minted = 0;
function aliceToken(seconds: number): Promise<string> {
  minted += 1;
  return new SignJWT({ name: "alice", jti: `t-${minted}` })
    .setProtectedHeader({ alg: "HS256" })
    .setSubject("u-alice")
    .setExpirationTime(Math.floor(Date.now() / 1000) + seconds)
    .sign(new TextEncoder().encode(SECRET));
}

Deno.test("a token refreshed on 4001 resumes without loss", async (t) => {
  await using server = await startServer({
    ...ENV,
    CHAT_AUTH: "optional",
    CHAT_AUTH_SECRET: SECRET,
  });
  const room = uniqueRoom("token");
  using bob = await open(server.origin, { room, name: "bob" });

  await t.step("a fresh token from the function reconnects", async () => {
    let calls = 0;
    const ref: { alice?: Opened } = {};
    let queued: Promise<ChatMessage> | undefined;
    const statesWhileFetching: string[] = [];
    const token = async () => {
      calls += 1;
      if (calls === 1) return await aliceToken(2);
      if (calls === 2) {
        // Asked again after the 4001: the room goes on meanwhile.
        statesWhileFetching.push(ref.alice?.client.state ?? "none");
        for (const n of [1, 2, 3]) await bob.client.send(`while away ${n}`);
        queued = ref.alice?.client.send("queued by alice");
      }
      return await aliceToken(3600);
    };
    using alice = await open(server.origin, { room, token });
    ref.alice = alice;
    await alice.client.send("before");
    await alice.log.waitFor("state", (d) => d.state === "open", 2, 15_000);
    assert.equal((await queued)?.message, "queued by alice");
    assert.equal(calls, 2, "the token function is asked once per 4001");
    assert.deepEqual(
      alice.log.of("state").filter((d) => d.state !== "connecting"),
      [{ state: "open" }, { state: "reconnecting", code: 4001 }, {
        state: "open",
      }],
    );
    assert.deepEqual(statesWhileFetching, ["reconnecting"]);
    assert.deepEqual(alice.log.of("message").map((m) => m.message), [
      "before",
      "while away 1",
      "while away 2",
      "while away 3",
      "queued by alice",
    ]);
    assert.equal(alice.log.of("history").at(-1)?.recovered, true);
    assert.equal(alice.log.of("message").at(-1)?.verified, true);
  });

  await t.step("the same token again closes for good; sends wait", async () => {
    const once = await aliceToken(2);
    using alice = await open(server.origin, { room, token: once });
    const [closed] = await alice.log.waitFor(
      "state",
      (d) => d.state === "closed",
      1,
      15_000,
    );
    assert.equal(closed?.code, 4001);
    assert.equal(alice.client.state, "closed");
    const waiting = alice.client.send("after expiry");
    assert.equal(alice.client.pending, 1, "a send survives a 4001 close");
    alice.client.close();
    await assert.rejects(waiting, ChatError);
  });
});

Deno.test("closes that a retry cannot change stop the client", async (t) => {
  const KEY = "backend-key-0123456789abcdef0123";
  await using server = await startServer({
    ...ENV,
    CHAT_API_KEY: KEY,
    CHAT_RATE_LIMIT: "1",
    CHAT_RATE_BURST: "2",
  });

  await t.step("4010: removed by the site", async () => {
    const room = uniqueRoom("kick");
    using watcher = await open(server.origin, { room, name: "watcher" });
    using troll = await open(server.origin, { room, name: "troll" });
    const response = await fetch(
      `${server.origin}/api/rooms/${room}/disconnect`,
      {
        method: "POST",
        headers: {
          Authorization: `Bearer ${KEY}`,
          "Content-Type": "application/json",
        },
        body: JSON.stringify({ user: "troll" }),
      },
    );
    assert.equal(response.status, 204);
    await response.body?.cancel();
    const [closed] = await troll.log.waitFor(
      "state",
      (d) => d.state === "closed",
    );
    assert.equal(closed?.code, 4010);
    assert.ok(closed?.reason, "it says why");
    await watcher.log.waitFor("presence", (p) => p.left.includes("troll"));
    await assert.rejects(
      within(troll.client.send("back?"), 5000, "a send after a 4010"),
      (error: unknown) => error instanceof ChatError && error.code === "closed",
    );
    // A reconnect would show up to someone who joins now.
    using late = await open(server.origin, { room, name: "late" });
    assert.deepEqual([...late.client.online.keys()].sort(), [
      "late",
      "watcher",
    ]);
    assert.equal(opens(troll.log), 1);
    // The sanitizers fail the test if a reconnect timer is left behind.
  });

  await t.step("4009: the name is taken; a rename goes on", async () => {
    const room = uniqueRoom("taken");
    using holder = await open(server.origin, { room, name: "alice" });
    using second = client(server.origin, { room, name: "alice" });
    const waiting = second.client.send("from the second alice");
    const [closed] = await second.log.waitFor(
      "state",
      (d) => d.state === "closed",
    );
    assert.equal(closed?.code, 4009);
    assert.equal(second.client.pending, 1, "the send survives");
    assert.equal(await second.client.rename("alice two"), "alice two");
    const stored = await waiting;
    assert.equal(stored.user, "alice two");
    await holder.log.waitFor("message", (m) => m.id === stored.id);
  });

  await t.step("1008: flooding past the rate limit", async () => {
    const room = uniqueRoom("flood");
    using flooder = await open(server.origin, { room, name: "flooder" });
    const sends = Array.from(
      { length: 20 },
      (_, n) =>
        flooder.client.send(`flood ${n}`).then(
          () => "stored",
          (e) => e instanceof ChatError ? e.code : String(e),
        ),
    );
    const outcomes = await Promise.all(sends);
    const [closed] = await flooder.log.waitFor(
      "state",
      (d) => d.state === "closed",
    );
    assert.equal(closed?.code, 1008);
    assert.ok(outcomes.includes("rate_limited"), outcomes.join());
    assert.ok(outcomes.includes("closed"), outcomes.join());
    assert.equal(opens(flooder.log), 1);
  });
});
