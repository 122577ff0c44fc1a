import assert from "node:assert/strict";
import type {
  PresenceBatchFrame,
  PresenceChangeFrame,
} from "../chat/frames.ts";
import {
  type EndedWindow,
  PresenceBatch,
  type Schedule,
} from "../chat/presence_batch.ts";

/** A batch on a hand-driven clock: `fire()` ends the window. */
function batchWithClock() {
  const sent: (PresenceChangeFrame | PresenceBatchFrame)[] = [];
  const ended: EndedWindow[] = [];
  let pending: (() => void) | undefined;
  let scheduled = 0;
  const schedule: Schedule = (task) => {
    scheduled += 1;
    pending = task;
    return () => (pending = undefined);
  };
  const batch = new PresenceBatch({
    windowMs: 150,
    deliver: (frame, window) => {
      if (frame) sent.push(frame);
      ended.push(window);
    },
    schedule,
  });
  return {
    batch,
    sent,
    ended,
    scheduled: () => scheduled,
    fire() {
      const task = pending;
      pending = undefined;
      task?.();
    },
    pending: () => pending !== undefined,
  };
}

const join = (user: string, verified = false): PresenceChangeFrame => ({
  type: "join",
  user,
  verified,
});
const rename = (from: string, to: string): PresenceChangeFrame => ({
  type: "rename",
  from,
  to,
  verified: false,
});
const leave = (user: string): PresenceChangeFrame => ({ type: "leave", user });

Deno.test("presence batches", async (t) => {
  await t.step(
    "a lone change goes out at the end of its window, as join or leave",
    () => {
      const clock = batchWithClock();
      clock.batch.add(join("ana"));
      assert.deepEqual(clock.sent, [], "nothing before the window ends");
      clock.fire();
      assert.deepEqual(clock.sent, [{
        type: "join",
        user: "ana",
        verified: false,
      }]);
      clock.batch.add(leave("ana"));
      clock.fire();
      assert.deepEqual(clock.sent.at(-1), { type: "leave", user: "ana" });
    },
  );

  await t.step("many changes in one window are one frame, one timer", () => {
    const clock = batchWithClock();
    for (let i = 0; i < 50; i++) clock.batch.add(join(`u${i}`));
    clock.batch.add(leave("old"));
    assert.equal(clock.scheduled(), 1);
    clock.fire();
    assert.equal(clock.sent.length, 1);
    assert.deepEqual(clock.sent[0], {
      type: "presence_change",
      joined: Array.from({ length: 50 }, (_, i) => `u${i}`),
      left: ["old"],
      verified: [],
      renamed: [],
    });
  });

  await t.step("changes that undo each other are not sent", () => {
    const clock = batchWithClock();
    clock.batch.add(join("quick")); // came and went
    clock.batch.add(leave("quick"));
    clock.batch.add(leave("back")); // a reconnect
    clock.batch.add(join("back"));
    clock.fire();
    assert.deepEqual(clock.sent, []);
    clock.batch.add(join("flip"));
    clock.batch.add(leave("flip"));
    clock.batch.add(join("flip"));
    clock.fire();
    assert.deepEqual(clock.sent, [{
      type: "join",
      user: "flip",
      verified: false,
    }]);
  });

  await t.step(
    "whoever was listed within a window gets what changed after, even what cancels out",
    () => {
      const clock = batchWithClock();
      assert.equal(clock.batch.mark(), undefined, "no window open");
      clock.batch.add(leave("dana")); // her old connection closed
      const listed = clock.batch.mark(); // ana's list, read now, lacks dana
      clock.batch.add(join("dana")); // dana back
      clock.batch.add(join("eve", true));
      clock.fire();
      assert.deepEqual(clock.sent, [{
        type: "join",
        user: "eve",
        verified: true,
      }], "for everyone else, dana never left");
      const [window] = clock.ended;
      assert.ok(listed && window);
      assert.equal(listed.window, window.window);
      assert.deepEqual(window.since(listed.position), {
        type: "presence_change",
        joined: ["dana", "eve"],
        left: [],
        verified: ["eve"],
        renamed: [],
      });
      assert.deepEqual(window.since(0), {
        type: "presence_change",
        joined: ["dana", "eve"],
        left: [],
        verified: ["eve"],
        renamed: [],
      }, "from the start: where everyone touched ended up");
      assert.deepEqual(window.since(3), clock.sent[0], "after the last change");
      clock.batch.add(leave("eve"));
      assert.equal(clock.batch.mark()?.window, window.window + 1);
    },
  );

  await t.step("a join keeps whether the name is signed", () => {
    const clock = batchWithClock();
    clock.batch.add(join("ana", true));
    clock.fire();
    assert.deepEqual(clock.sent, [{
      type: "join",
      user: "ana",
      verified: true,
    }]);
    clock.batch.add(join("bo", true));
    clock.batch.add(join("guest"));
    clock.fire();
    assert.deepEqual(clock.sent.at(-1), {
      type: "presence_change",
      joined: ["bo", "guest"],
      left: [],
      verified: ["bo"],
      renamed: [],
    });
  });

  await t.step("a rename is one rename, not a leave and a join", () => {
    const clock = batchWithClock();
    clock.batch.add(rename("ana", "anna"));
    clock.fire();
    assert.deepEqual(clock.sent, [
      { type: "rename", from: "ana", to: "anna", verified: false },
    ]);
  });

  await t.step("renames in a row are one; back to the start is none", () => {
    const clock = batchWithClock();
    clock.batch.add(rename("a", "b"));
    clock.batch.add(rename("b", "c"));
    clock.fire();
    assert.deepEqual(clock.sent, [
      { type: "rename", from: "a", to: "c", verified: false },
    ]);
    clock.batch.add(rename("c", "d"));
    clock.batch.add(rename("d", "c"));
    clock.fire();
    assert.equal(clock.sent.length, 1, "a rename undone is not sent");
  });

  await t.step("a rename among other changes is listed apart", () => {
    const clock = batchWithClock();
    clock.batch.add(join("new"));
    clock.batch.add(rename("old", "older"));
    clock.batch.add(leave("gone"));
    clock.fire();
    assert.deepEqual(clock.sent, [{
      type: "presence_change",
      joined: ["new"],
      left: ["gone"],
      verified: [],
      renamed: [{ from: "old", to: "older" }],
    }]);
  });

  await t.step("close drops what is pending and stops the timer", () => {
    const clock = batchWithClock();
    clock.batch.add(join("late"));
    assert.ok(clock.pending());
    clock.batch.close();
    assert.ok(!clock.pending());
    clock.batch.flush();
    assert.deepEqual(clock.sent, []);
  });
});
