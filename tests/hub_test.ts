import assert from "node:assert/strict";
import { createBroadcastChannelBus } from "../chat/broadcast_channel_bus.ts";
import { ChatHub, type Member } from "../chat/hub.ts";
import { parseRoomName, type RoomName } from "../chat/room_name.ts";
import { delay } from "./helpers/server.ts";

function room(name: string): RoomName {
  const parsed = parseRoomName(name);
  if (!parsed.ok) throw new Error(parsed.error);
  return parsed.name;
}

function recorder(id: string): Member & { received: string[] } {
  const received: string[] = [];
  return { id, received, deliver: (text) => received.push(text) };
}

async function until(check: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (check()) return;
    await delay(5);
  }
  throw new Error(`Timed out waiting for ${what}`);
}

const fixedClock = () => new Date("2026-11-24T12:00:00.000Z");

Deno.test("hub", async (t) => {
  await t.step(
    "serialises a message once and delivers the same text to all",
    () => {
      const hub = new ChatHub({
        bus: createBroadcastChannelBus(),
        now: fixedClock,
      });
      const lobby = room(`lobby_${crypto.randomUUID().slice(0, 6)}`);
      const a = recorder("a");
      const b = recorder("b");
      hub.join(lobby, a);
      hub.join(lobby, b);
      const frame = hub.send(lobby, "hi");
      assert.deepEqual(frame, {
        type: "message",
        room: lobby,
        message: "hi",
        ts: "2026-11-24T12:00:00.000Z",
      });
      assert.deepEqual(a.received, [JSON.stringify(frame)]);
      assert.equal(a.received[0], b.received[0]);
      hub.close();
    },
  );

  await t.step(
    "two hubs (two isolates) share a room over BroadcastChannel",
    async () => {
      const first = new ChatHub({ bus: createBroadcastChannelBus() });
      const second = new ChatHub({ bus: createBroadcastChannelBus() });
      const lobby = room(`lobby_${crypto.randomUUID().slice(0, 6)}`);
      const here = recorder("here");
      const there = recorder("there");
      const elsewhere = recorder("elsewhere");
      first.join(lobby, here);
      second.join(lobby, there);
      second.join(room(`${lobby}_other`), elsewhere);
      first.send(lobby, "across");
      await until(() => there.received.length === 1, "delivery across hubs");
      assert.equal(here.received.length, 1, "no echo from its own channel");
      assert.equal(JSON.parse(there.received[0] ?? "").message, "across");
      assert.equal(elsewhere.received.length, 0);
      first.close();
      second.close();
    },
  );

  await t.step("drops malformed data arriving from the channel", async () => {
    const hub = new ChatHub({ bus: createBroadcastChannelBus() });
    const lobby = room(`lobby_${crypto.randomUUID().slice(0, 6)}`);
    const member = recorder("m");
    hub.join(lobby, member);
    const intruder = new BroadcastChannel(`chat-room:${lobby}`);
    intruder.postMessage("not json");
    intruder.postMessage({ type: "message" });
    intruder.postMessage(
      JSON.stringify({ type: "message", room: "other", message: "x", ts: "t" }),
    );
    intruder.postMessage(
      JSON.stringify({ type: "message", room: lobby, message: "ok", ts: "t" }),
    );
    await until(() => member.received.length === 1, "the valid frame");
    await delay(20);
    assert.equal(member.received.length, 1);
    assert.equal(JSON.parse(member.received[0] ?? "").message, "ok");
    intruder.close();
    hub.close();
  });

  await t.step(
    "a room closes with its last member, and leave is idempotent",
    () => {
      const hub = new ChatHub({ bus: createBroadcastChannelBus() });
      const lobby = room(`lobby_${crypto.randomUUID().slice(0, 6)}`);
      const one = hub.join(lobby, recorder("1"));
      const two = hub.join(lobby, recorder("2"));
      assert.deepEqual(hub.stats(), { rooms: 1, members: 2 });
      one.leave();
      one.leave();
      assert.deepEqual(hub.stats(), { rooms: 1, members: 1 });
      two.leave();
      assert.deepEqual(hub.stats(), { rooms: 0, members: 0 });
      hub.close();
    },
  );
});
