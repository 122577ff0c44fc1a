import assert from "node:assert/strict";
import { atTurnEnd, nextTurn } from "../chat/turn_end.ts";

Deno.test("work for the end of the turn", async (t) => {
  await t.step(
    "runs after the turn's own code and microtasks, in the order asked",
    async () => {
      const order: string[] = [];
      atTurnEnd(() => order.push("first"));
      atTurnEnd(() => order.push("second"));
      queueMicrotask(() => order.push("microtask"));
      order.push("sync");
      await nextTurn();
      assert.deepEqual(order, ["sync", "microtask", "first", "second"]);
    },
  );

  await t.step(
    "work asked for at the end of a turn runs at the end of the next",
    async () => {
      const order: string[] = [];
      const done = Promise.withResolvers<void>();
      atTurnEnd(() => {
        order.push("this turn");
        atTurnEnd(() => {
          order.push("next turn");
          done.resolve();
        });
        // The microtasks of this turn's end come first: the new work is
        // not run in the same pass.
        queueMicrotask(() => order.push("microtask"));
      });
      await done.promise;
      assert.deepEqual(order, ["this turn", "microtask", "next turn"]);
    },
  );
});
