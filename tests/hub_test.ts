import assert from "node:assert/strict";
import { createBroadcastChannelBus } from "../adapters/broadcast_channel/bus.ts";
import { ChatHub, type ChatHubOptions, type Member } from "../chat/hub.ts";
import { CloseCode } from "../client/protocol.js";
import { parseRoomName, type RoomName } from "../chat/room_name.ts";
import { openSqliteStore } from "../adapters/sqlite/store.ts";
import type { Store } from "../chat/store.ts";
import { HUB_DEFAULTS, sqliteOptions } from "../testkit/defaults.ts";
import { waitUntil } from "../testkit/server.ts";

function room(name: string): RoomName {
  const parsed = parseRoomName(name);
  if (!parsed.ok) throw new Error(parsed.error);
  return parsed.name;
}

function freshRoom(): RoomName {
  return room(`hub_${crypto.randomUUID().slice(0, 8)}`);
}

interface Recorder extends Member {
  readonly texts: string[];
  frames(type?: string): Record<string, unknown>[];
}

function recorder(id: string): Recorder {
  const texts: string[] = [];
  return {
    id,
    format: "typed",
    texts,
    deliver: (text) => texts.push(text),
    close: (code, reason) =>
      texts.push(JSON.stringify({ close: code, reason })),
    frames: (type) =>
      texts.map((text) => JSON.parse(text)).filter((f) =>
        !type || f.type === type
      ),
  };
}

const fixedClock = () => new Date("2026-11-24T12:00:00.000Z");

/** Hubs over one SQLite file, like the isolates of one `deno serve --parallel`. */
async function isolates(
  count: number,
  options: Partial<ChatHubOptions> = {},
): Promise<{ hubs: ChatHub[]; stores: Store[] } & AsyncDisposable> {
  const dir = await Deno.makeTempDir({ prefix: "chat-hub-" });
  const stores = Array.from(
    { length: count },
    () => openSqliteStore(sqliteOptions(`${dir}/chat.db`)),
  );
  const buses = stores.map(() => createBroadcastChannelBus());
  const hubs = stores.map((store, index) =>
    new ChatHub({
      bus: buses[index] ?? createBroadcastChannelBus(),
      store,
      now: fixedClock,
      ...HUB_DEFAULTS,
      repairIntervalMs: 3_600_000,
      ...options,
    })
  );
  return {
    hubs,
    stores,
    async [Symbol.asyncDispose]() {
      for (const hub of hubs) await hub.close();
      // The hub leaves its bus and store to whoever built it.
      for (const bus of buses) await bus.close();
      for (const store of stores) store.close();
      await Deno.remove(dir, { recursive: true });
    },
  };
}

Deno.test("hub", async (t) => {
  await t.step(
    "stores a message, serialises it once and delivers the same text to all",
    async () => {
      await using world = await isolates(1);
      const [hub] = world.hubs;
      assert.ok(hub);
      const lobby = freshRoom();
      const a = recorder("a");
      const b = recorder("b");
      await hub.connect({ room: lobby, user: "alice", member: a }).ready;
      await hub.connect({ room: lobby, user: "bob", member: b }).ready;
      const { message: stored } = await hub.send({
        room: lobby,
        user: "alice",
        message: "hi",
      });
      assert.deepEqual(stored, {
        id: 1,
        room: lobby,
        user: "alice",
        message: "hi",
        ts: "2026-11-24T12:00:00.000Z",
      });
      const textA = a.texts.find((text) => text.includes('"message","id"'));
      const textB = b.texts.find((text) => text.includes('"message","id"'));
      assert.equal(
        textA,
        JSON.stringify({ type: "message", ...stored, verified: false }),
      );
      assert.equal(textA, textB);
    },
  );

  await t.step(
    "a connection gets history, then presence, then live messages",
    async () => {
      await using world = await isolates(1);
      const [hub] = world.hubs;
      assert.ok(hub);
      const lobby = freshRoom();
      await hub.send({ room: lobby, user: "early", message: "before anyone" });
      const member = recorder("m");
      await hub.connect({ room: lobby, user: "carol", member }).ready;
      await hub.send({ room: lobby, user: "carol", message: "live" });
      // Joins and leaves come in their own rhythm (presence_batch.ts).
      assert.deepEqual(
        member.frames().map((f) => f.type).filter((type) => type !== "join"),
        ["history", "presence", "message"],
      );
      const [history] = member.frames("history");
      assert.deepEqual(history?.recovered, false);
      assert.deepEqual(
        (history?.messages as { message: string }[]).map((m) => m.message),
        ["before anyone"],
      );
      assert.deepEqual(member.frames("presence")[0], {
        type: "presence",
        users: [{ name: "carol", connections: 1, verified: false }],
        count: 1,
        you: "carol",
      });
    },
  );

  await t.step(
    "two hubs (two isolates) share a room over BroadcastChannel",
    async () => {
      await using world = await isolates(2);
      const [first, second] = world.hubs;
      assert.ok(first && second);
      const lobby = freshRoom();
      const here = recorder("here");
      const there = recorder("there");
      const elsewhere = recorder("elsewhere");
      await first.connect({ room: lobby, user: "h", member: here }).ready;
      await second.connect({ room: lobby, user: "t", member: there }).ready;
      await second.connect({
        room: room(`${lobby}_other`),
        user: "e",
        member: elsewhere,
      }).ready;
      await first.send({ room: lobby, user: "h", message: "across" });
      await waitUntil(
        () => there.frames("message").length === 1,
        "delivery across hubs",
      );
      // Then a marker in the other room, from the same hub: a leak of the
      // first message would have come before it.
      await first.send({
        room: room(`${lobby}_other`),
        user: "h",
        message: "marker",
      });
      await waitUntil(
        () => elsewhere.frames("message").length > 0,
        "the marker in the other room",
      );
      assert.equal(
        here.frames("message").length,
        1,
        "no echo from its own channel",
      );
      assert.equal(there.frames("message")[0]?.message, "across");
      assert.deepEqual(
        elsewhere.frames("message").map((f) => f.message),
        ["marker"],
      );
    },
  );

  await t.step(
    "repairs a gap from the store, in order and exactly once",
    async () => {
      await using world = await isolates(2);
      const [first, second] = world.hubs;
      const [store] = world.stores;
      assert.ok(first && second && store);
      const lobby = freshRoom();
      const member = recorder("m");
      await second.connect({ room: lobby, user: "m", member }).ready;
      // Two messages whose bus posts were lost: only the store has them.
      for (const text of ["lost 1", "lost 2"]) {
        await store.messages.append(lobby, {
          user: "x",
          message: text,
          ts: "t",
        });
      }
      await first.send({ room: lobby, user: "x", message: "arrives 3" });
      // A later message as the marker: once it is in, nothing before it
      // can still come, twice or otherwise.
      await first.send({ room: lobby, user: "x", message: "marker 4" });
      await waitUntil(
        () => member.frames("message").some((f) => f.message === "marker 4"),
        "the repaired gap and the marker",
      );
      assert.deepEqual(
        member.frames("message").map((f) => [f.id, f.message]),
        [[1, "lost 1"], [2, "lost 2"], [3, "arrives 3"], [4, "marker 4"]],
      );
    },
  );

  await t.step(
    "the periodic check delivers what the store has beyond the last id",
    async () => {
      await using world = await isolates(1);
      const [hub] = world.hubs;
      const [store] = world.stores;
      assert.ok(hub && store);
      const lobby = freshRoom();
      const member = recorder("m");
      await hub.connect({ room: lobby, user: "m", member }).ready;
      await store.messages.append(lobby, {
        user: "x",
        message: "silent",
        ts: "t",
      });
      assert.equal(member.frames("message").length, 0);
      await hub.repair();
      assert.deepEqual(member.frames("message").map((f) => f.message), [
        "silent",
      ]);
      await hub.repair();
      assert.equal(member.frames("message").length, 1, "not twice");
    },
  );

  await t.step("drops malformed data arriving from the channel", async () => {
    await using world = await isolates(1);
    const [hub] = world.hubs;
    assert.ok(hub);
    const lobby = freshRoom();
    const member = recorder("m");
    await hub.connect({ room: lobby, user: "m", member }).ready;
    const joins = () =>
      member.frames().flatMap((f) =>
        f.type === "join"
          ? [f.user]
          : f.type === "presence_change" && Array.isArray(f.joined)
          ? f.joined
          : []
      );
    await waitUntil(() => joins().includes("m"), "the member's own join");
    const before = member.texts.length;
    const intruder = new BroadcastChannel(`chat-room:${lobby}`);
    intruder.postMessage("not json");
    intruder.postMessage({ type: "message" });
    intruder.postMessage(
      JSON.stringify({
        type: "message",
        id: 1,
        room: "other",
        user: "u",
        message: "x",
        ts: "t",
      }),
    );
    intruder.postMessage(JSON.stringify({ type: "join", user: "zed" }));
    // A valid frame after the bad ones: once it is in, all of them are.
    intruder.postMessage(JSON.stringify({ type: "join", user: "marker" }));
    await waitUntil(() => joins().includes("marker"), "the marker");
    assert.deepEqual(joins(), ["m", "zed", "marker"]);
    assert.ok(
      member.frames().slice(before).every((f) =>
        f.type === "join" || f.type === "presence_change"
      ),
      "only the valid frames got through",
    );
    intruder.close();
  });

  await t.step(
    "a room closes with its last member, and leave is idempotent",
    async () => {
      await using world = await isolates(1);
      const [hub] = world.hubs;
      assert.ok(hub);
      const lobby = freshRoom();
      const one = hub.connect({
        room: lobby,
        user: "a",
        member: recorder("1"),
      });
      const two = hub.connect({
        room: lobby,
        user: "b",
        member: recorder("2"),
      });
      await Promise.all([one.ready, two.ready]);
      assert.deepEqual(hub.stats(), { rooms: 1, members: 2 });
      one.leave();
      one.leave();
      assert.deepEqual(hub.stats(), { rooms: 1, members: 1 });
      two.leave();
      assert.deepEqual(hub.stats(), { rooms: 0, members: 0 });
    },
  );

  await t.step(
    "a guest whose picked name is online gets another name, not a refusal",
    async () => {
      await using world = await isolates(1);
      const [hub] = world.hubs;
      assert.ok(hub);
      const lobby = freshRoom();
      const first = recorder("first");
      await hub.connect({
        room: lobby,
        user: "guest-0001",
        member: first,
        owner: "browser:a",
      })
        .ready;
      // The second guest's server-picked name clashes with the first's,
      // and so does the next one picked; the third pick is free.
      const picks = ["guest-0001", "guest-0002"];
      const second = recorder("second");
      const membership = hub.connect({
        room: lobby,
        user: "guest-0001",
        member: second,
        owner: "browser:b",
        pickName: () => picks.shift() ?? "guest-0003",
      });
      await membership.ready;
      assert.equal(membership.user, "guest-0002");
      assert.equal(second.frames("presence")[0]?.you, "guest-0002");
      assert.deepEqual(second.texts.filter((t) => t.includes('"close"')), []);
      assert.deepEqual(hub.stats(), { rooms: 1, members: 2 });
    },
  );

  await t.step(
    "a chosen name that is online is refused, and so is a guest after eight clashes",
    async () => {
      await using world = await isolates(1);
      const [hub] = world.hubs;
      assert.ok(hub);
      const lobby = freshRoom();
      await hub.connect({
        room: lobby,
        user: "alice",
        member: recorder("a"),
        owner: "browser:a",
      })
        .ready;
      const chooser = recorder("chooser");
      await hub.connect({
        room: lobby,
        user: "alice",
        member: chooser,
        owner: "browser:b",
      }).ready;
      assert.equal(chooser.frames()[0]?.close, CloseCode.NameTaken);
      let picks = 0;
      const unlucky = recorder("unlucky");
      await hub.connect({
        room: lobby,
        user: "alice",
        member: unlucky,
        owner: "browser:c",
        pickName: () => {
          picks++;
          return "alice";
        },
      }).ready;
      assert.equal(picks, 7, "the first name and seven more picks");
      assert.equal(unlucky.frames()[0]?.close, CloseCode.NameTaken);
      assert.deepEqual(hub.stats(), { rooms: 1, members: 1 });
    },
  );

  await t.step(
    "each admission waits for its turn from the pacer, one after another",
    async () => {
      const turns: (() => void)[] = [];
      await using world = await isolates(1, {
        paceAdmission: () => new Promise((resolve) => turns.push(resolve)),
      });
      const [hub] = world.hubs;
      assert.ok(hub);
      const lobby = freshRoom();
      const ann = recorder("ann");
      const ben = recorder("ben");
      const first =
        hub.connect({ room: lobby, user: "ann", member: ann }).ready;
      const second =
        hub.connect({ room: lobby, user: "ben", member: ben }).ready;
      await waitUntil(() => turns.length === 1, "ann's admission asks");
      assert.deepEqual(ann.texts, [], "nothing before its turn");
      turns.shift()?.();
      await first;
      assert.deepEqual(ann.frames().map((f) => f.type), [
        "history",
        "presence",
      ]);
      await waitUntil(() => turns.length === 1, "ben's admission asks");
      assert.deepEqual(ben.texts, [], "the next waits for a turn of its own");
      turns.shift()?.();
      await second;
      assert.deepEqual(ben.frames("presence")[0]?.count, 2);
    },
  );
});
