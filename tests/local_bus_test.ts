import assert from "node:assert/strict";
import { createLocalBus } from "../chat/local_bus.ts";
import { parseRoomName } from "../chat/room_name.ts";

const parsed = parseRoomName("lobby");
if (!parsed.ok) throw new Error("lobby is a room name");
const room = parsed.name;

Deno.test("the bus of a server alone in its process", async (t) => {
  await t.step(
    "takes publishes and subscriptions and hears nothing",
    async () => {
      const bus = createLocalBus();
      const heard: unknown[] = [];
      const subscription = bus.subscribe(room, (data) => heard.push(data));
      await subscription.live;
      await bus.publish(room, "hello");
      await bus.ping();
      subscription.close();
      assert.deepEqual(heard, [], "a bus never delivers to itself");
      await bus.close();
    },
  );

  await t.step("refuses publishes and fails its ping once closed", async () => {
    const bus = createLocalBus();
    await bus.close();
    await assert.rejects(bus.publish(room, "late"), /closed/);
    await assert.rejects(bus.ping(), /closed/);
  });
});
