import assert from "node:assert/strict";
import { SERVER, startServerProcess } from "../testkit/process.ts";
import { startServer, uniqueRoom, UPGRADE_HEADERS } from "../testkit/server.ts";
import { TestClient } from "../testkit/test_client.ts";

/** People in the office, all behind one address (127.0.0.1 here). */
const PEOPLE = 1000;
/** Rooms they spread over. */
const ROOMS = 20;
/** Sockets opened at once: what a listen backlog takes without retries. */
const OPENING_AT_ONCE = 100;

/** Each person's page: a name and a browser key of their own. */
function pageUrl(server: { wsUrl(path: string): string }, rooms: string[]) {
  return (person: number) => {
    const room = rooms[person % rooms.length] ?? "lobby";
    const key = `office-browser-key-${String(person).padStart(6, "0")}`;
    return server.wsUrl(
      `/ws/chat/${room}/?name=person-${person}&key=${key}`,
    );
  };
}

/** Joins everyone, `OPENING_AT_ONCE` at a time; fails on any refusal. */
async function joinAll(url: (person: number) => string) {
  const clients: TestClient[] = [];
  for (let first = 0; first < PEOPLE; first += OPENING_AT_ONCE) {
    const batch = Array.from(
      { length: Math.min(OPENING_AT_ONCE, PEOPLE - first) },
      (_, i) => TestClient.join(url(first + i)),
    );
    clients.push(...await Promise.all(batch));
  }
  return clients;
}

Deno.test({
  name:
    "with the defaults, 1 000 people behind one address join, chat and come back after a reconnect storm",
  // Each of the 1 000 sockets holds a descriptor here and one in the server.
  ignore: Deno.build.os !== "linux",
}, async (t) => {
  const dir = await Deno.makeTempDir({ prefix: "chat-office-" });
  const clients: TestClient[] = [];
  try {
    // Exactly as a user starts it: no limit set.
    await using server = await startServerProcess({
      args: SERVER.run(),
      env: { CHAT_DB: `${dir}/chat.db` },
    });
    const rooms = Array.from({ length: ROOMS }, () => uniqueRoom("office"));
    const url = pageUrl(server, rooms);

    await t.step("every one of them is admitted", async () => {
      clients.push(...await joinAll(url));
      assert.equal(clients.length, PEOPLE);
    });

    await t.step(
      "each sends a message at once and every one is stored and echoed",
      async () => {
        clients.forEach((client, person) =>
          client.send({ message: `hello from ${person}`, cid: `p${person}` })
        );
        await Promise.all(
          clients.map((client, person) =>
            client.waitForMatching(
              (frame) =>
                (frame.type === "message" || frame.type === "error") &&
                frame.cid === `p${person}`,
              1,
              30_000,
              `the answer to person ${person}`,
            )
          ),
        );
        const refused = clients.flatMap((client) => client.ofType("error"));
        assert.deepEqual(refused, [], "no message refused");
      },
    );

    await t.step(
      "all of them dropping and reconnecting at once are admitted again",
      async () => {
        await Promise.all(clients.splice(0).map((client) => client.close()));
        clients.push(...await joinAll(url));
        assert.equal(clients.length, PEOPLE);
      },
    );
  } finally {
    await Promise.all(clients.map((client) => client.close()));
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("one address holds at most a fifth of the connections by default", async () => {
  // A small server, so that its fifth is small: 50 connections, 10 each.
  await using server = await startServer({
    CHAT_MAX_CONNECTIONS: "50",
    CHAT_TRUSTED_PROXIES: "127.0.0.1",
  });
  const room = uniqueRoom("share");
  const clients: TestClient[] = [];
  try {
    for (let i = 0; i < 10; i++) {
      clients.push(
        await TestClient.join(
          server.wsUrl(
            `/ws/chat/${room}/?name=p${i}&key=share-browser-key-${i}0000`,
          ),
        ),
      );
    }
    const over = await fetch(`${server.origin}/ws/chat/${room}/`, {
      headers: UPGRADE_HEADERS,
    });
    assert.equal(over.status, 429);
    assert.match(
      String((await over.json()).error),
      /Too many connections from your address \(limit 10\)/,
    );
    // Another address still gets in.
    const other = await fetch(`${server.origin}/ws/chat/${room}/`, {
      headers: { ...UPGRADE_HEADERS, "X-Forwarded-For": "192.0.2.7" },
    });
    await other.body?.cancel();
    assert.equal(other.status, 101);
  } finally {
    await Promise.all(clients.map((client) => client.close()));
  }
});
