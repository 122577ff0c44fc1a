import assert from "node:assert/strict";
import { startServer, uniqueRoom } from "../testkit/server.ts";
import { TestClient } from "../testkit/test_client.ts";

/** Joins `count` clients named `<prefix><i>`, each its own connection. */
async function joinMany(
  url: (name: string) => string,
  prefix: string,
  count: number,
): Promise<TestClient[]> {
  const clients: TestClient[] = [];
  for (let i = 0; i < count; i++) {
    clients.push(await TestClient.join(url(`${prefix}${i}`)));
  }
  return clients;
}

/** Every name the API lists for `room`, page by page. */
async function allOnline(origin: string, room: string): Promise<string[]> {
  const names: string[] = [];
  let after = "";
  while (true) {
    const response = await fetch(
      `${origin}/api/rooms/${room}/presence?limit=100&after=${
        encodeURIComponent(after)
      }`,
    );
    const page: { users: { name: string }[] } = await response.json();
    names.push(...page.users.map((user) => user.name));
    const last = page.users.at(-1);
    if (!last) return names;
    after = last.name;
  }
}

Deno.test("presence in a big room", async (t) => {
  await using server = await startServer({
    CHAT_CONNECT_RATE: "0",
    CHAT_MAX_CONNECTIONS_PER_IP: "2000",
  });
  const room = uniqueRoom("big");
  const url = (name: string) => server.wsUrl(`/ws/chat/${room}/?name=${name}`);
  const members = await joinMany(url, "member", 300);
  try {
    await t.step(
      "a newcomer's presence frame is bounded and counts everyone",
      async () => {
        await using newcomer = await TestClient.join(url("newcomer"));
        const [presence] = newcomer.ofType("presence");
        assert.ok(Array.isArray(presence?.users));
        assert.equal(presence.users.length, 200, "CHAT_PRESENCE_LIST_MAX");
        assert.equal(presence.count, 301);
        const names = await allOnline(server.origin, room);
        assert.equal(names.length, 301, "the API pages through the rest");
        assert.deepEqual(names, [...names].sort());
      },
    );

    await t.step(
      "a crowd coming and going costs each member a few frames, and lists converge",
      async () => {
        const [watcher] = members;
        assert.ok(watcher);
        const rawBefore = watcher.rawFrames.length;
        const changesBefore = watcher.frames.length;
        const crowd = await joinMany(url, "passer", 100);
        await Promise.all(crowd.map((client) => client.close()));
        // A marker that joins last: presence comes in order.
        await using marker = await TestClient.join(url("marker"));
        await watcher.waitForMatching(
          (f) => f.type === "join" && f.user === "marker",
          1,
          10_000,
        );
        const frames = watcher.rawFrames.length - rawBefore;
        const changes = watcher.frames.length - changesBefore;
        assert.ok(
          frames * 5 <= changes + 5,
          `${frames} frames carried ${changes} changes`,
        );
        // Where each person's last event leaves them, for the watcher.
        const last = new Map<string, string>();
        for (const frame of watcher.frames.slice(changesBefore)) {
          if (
            typeof frame === "object" && frame !== null && "type" in frame &&
            "user" in frame && typeof frame.user === "string" &&
            (frame.type === "join" || frame.type === "leave")
          ) last.set(frame.user, frame.type);
        }
        const passersShownOnline = [...last].filter(([user, event]) =>
          user.startsWith("passer") && event === "join"
        );
        assert.deepEqual(passersShownOnline, [], "everyone who went is gone");
        assert.equal(last.get("marker"), "join");
        assert.equal(
          marker.ofType("presence")[0]?.count,
          301,
          "300 members and the marker",
        );
        const truth = await allOnline(server.origin, room);
        assert.ok(!truth.some((name) => name.startsWith("passer")));
        assert.ok(truth.includes("marker"));
      },
    );
  } finally {
    await Promise.all(members.map((client) => client.close()));
  }
});
