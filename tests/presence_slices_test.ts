import assert from "node:assert/strict";
import { setImmediate } from "node:timers";
import {
  type NextTurn,
  PresenceSlices,
  type SlicedConnection,
} from "../chat/presence_slices.ts";

/** Connections that note every frame they get, in one shared order. */
function connections(count: number, order: string[]): SlicedConnection[] {
  return Array.from({ length: count }, (_, index) => ({
    live: true,
    member: { deliver: (text: string) => order.push(`c${index}:${text}`) },
  }));
}

/** Turns the test runs by hand. */
function manualTurns() {
  const tasks: (() => void)[] = [];
  const nextTurn: NextTurn = (task) => {
    tasks.push(task);
  };
  return {
    nextTurn,
    /** Runs the tasks of one turn (those queued before it began). */
    turn() {
      for (const task of tasks.splice(0)) task();
    },
    get pending() {
      return tasks.length;
    },
  };
}

Deno.test("presence slices", async (t) => {
  await t.step("a room no bigger than a slice gets its frames at once", () => {
    const order: string[] = [];
    const turns = manualTurns();
    const slices = new PresenceSlices(3, turns.nextTurn);
    slices.send(connections(3, order).map((c) => [c, ["join"]]));
    assert.deepEqual(order, ["c0:join", "c1:join", "c2:join"]);
    assert.equal(turns.pending, 0, "nothing left for later");
  });

  await t.step("a bigger room gets them a slice per turn, in order", () => {
    const order: string[] = [];
    const turns = manualTurns();
    const slices = new PresenceSlices(2, turns.nextTurn);
    slices.send(connections(5, order).map((c) => [c, ["join"]]));
    assert.deepEqual(order, ["c0:join", "c1:join"]);
    turns.turn();
    assert.deepEqual(order.slice(2), ["c2:join", "c3:join"]);
    turns.turn();
    assert.deepEqual(order.slice(4), ["c4:join"]);
    assert.equal(turns.pending, 0);
  });

  await t.step(
    "a connection's next frames wait behind those still waiting for it",
    () => {
      const order: string[] = [];
      const turns = manualTurns();
      const slices = new PresenceSlices(1, turns.nextTurn);
      const members = connections(2, order);
      slices.send(members.map((c) => [c, ["first"]]));
      slices.send(members.map((c) => [c, ["second"]]));
      turns.turn();
      turns.turn();
      assert.deepEqual(order, [
        "c0:first",
        "c1:first",
        "c1:second",
        "c0:second",
      ]);
      assert.ok(
        order.indexOf("c1:first") < order.indexOf("c1:second"),
        "each connection in order",
      );
    },
  );

  await t.step(
    "what waits for a connection is sent at once when its list is to be read, and not again",
    () => {
      const order: string[] = [];
      const turns = manualTurns();
      const slices = new PresenceSlices(1, turns.nextTurn);
      const members = connections(3, order);
      slices.send(members.map((c) => [c, ["join"]]));
      const last = members[2];
      assert.ok(last);
      slices.sendWaiting(last);
      assert.deepEqual(order, ["c0:join", "c2:join"]);
      turns.turn();
      turns.turn();
      assert.deepEqual(order, ["c0:join", "c2:join", "c1:join"]);
    },
  );

  await t.step(
    "a connection gone gets nothing; closing drops what waits",
    () => {
      const order: string[] = [];
      const turns = manualTurns();
      const slices = new PresenceSlices(1, turns.nextTurn);
      const [first, gone, third] = connections(3, order);
      assert.ok(first && gone && third);
      slices.send([[first, ["a"]], [{ ...gone, live: false }, ["b"]], [
        third,
        ["c"],
      ]]);
      turns.turn();
      assert.deepEqual(order, ["c0:a"]);
      slices.close();
      turns.turn();
      assert.deepEqual(order, ["c0:a"]);
    },
  );

  await t.step(
    "work of another room queued meanwhile runs between two slices",
    async () => {
      const order: string[] = [];
      const slices = new PresenceSlices(2);
      slices.send(connections(6, order).map((c) => [c, ["join"]]));
      setImmediate(() => order.push("other room"));
      while (order.length < 7) {
        await new Promise((resolve) => setImmediate(resolve));
      }
      assert.deepEqual(order, [
        "c0:join",
        "c1:join",
        "c2:join",
        "c3:join",
        "other room",
        "c4:join",
        "c5:join",
      ]);
    },
  );
});
