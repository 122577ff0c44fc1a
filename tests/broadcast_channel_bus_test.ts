import assert from "node:assert/strict";
import { createBroadcastChannelBus } from "../adapters/broadcast_channel/bus.ts";
import { parseRoomName, type RoomName } from "../chat/room_name.ts";

function room(name: string): RoomName {
  const parsed = parseRoomName(name);
  if (!parsed.ok) throw new Error(parsed.error);
  return parsed.name;
}

Deno.test(
  "the BroadcastChannel bus posts right after its last room channel closed",
  async () => {
    // Deno drops an isolate's shared subscription when its last channel
    // closes, and forgets it a moment later: a channel opened in between
    // then posts on nothing ("expected i32"). The bus is alone here, so
    // its room channels are the isolate's only ones.
    const bus = createBroadcastChannelBus();
    const lobby = room(`bus_${crypto.randomUUID().slice(0, 8)}`);
    const failures: unknown[] = [];
    const post = (data: string) =>
      bus.publish(lobby, data).catch((error) => failures.push(error));
    try {
      for (let i = 0; i < 20; i++) {
        // A room nobody here listens to: a short-lived channel...
        await post(`short ${i}`);
        // ...then one that lives, opened at once, posting once the
        // isolate had time to forget its subscription.
        const subscription = bus.subscribe(lobby, () => {});
        await new Promise((resolve) => setTimeout(resolve, 0));
        await post(`open ${i}`);
        subscription.close();
      }
      assert.deepEqual(failures, []);
    } finally {
      await bus.close();
    }
  },
);
