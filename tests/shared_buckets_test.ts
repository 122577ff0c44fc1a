import assert from "node:assert/strict";
import {
  createSharedBucketTable,
  isSharedBucketTable,
  SHARED_BUCKET_LANE,
  SHARED_BUCKET_LANES,
  SharedKeyedBuckets,
} from "../chat/shared_buckets.ts";

/** A clock the test moves by hand, in ms. */
function handClock(start = 1_000_000) {
  let now = start;
  return { now: () => now, advance: (ms: number) => (now += ms) };
}

Deno.test("shared token buckets", async (t) => {
  await t.step(
    "two workers' views of one table draw on one budget per key",
    () => {
      const clock = handClock();
      const table = createSharedBucketTable(clock.now());
      const options = { rate: 2, burst: 5, now: clock.now, table };
      // Two instances over one buffer: what two workers hold.
      const first = new SharedKeyedBuckets(options);
      const second = new SharedKeyedBuckets(options);
      const taken = Array.from(
        { length: 12 },
        (_, i) => (i % 2 ? first : second).take("203.0.113.7"),
      );
      assert.equal(taken.filter(Boolean).length, 5, "the burst, once");
      assert.deepEqual(taken.slice(0, 5), [true, true, true, true, true]);
      clock.advance(1_000); // two tokens refill, for both views
      assert.ok(second.take("203.0.113.7"));
      assert.ok(first.take("203.0.113.7"));
      assert.equal(second.take("203.0.113.7"), false);
    },
  );

  await t.step("other keys have budgets of their own", () => {
    const clock = handClock();
    const buckets = new SharedKeyedBuckets({
      rate: 1,
      burst: 1,
      now: clock.now,
      table: createSharedBucketTable(clock.now()),
    });
    assert.ok(buckets.take("10.0.0.1"));
    assert.equal(buckets.take("10.0.0.1"), false);
    for (let i = 2; i < 1_000; i++) {
      assert.ok(buckets.take(`10.0.${i >> 8}.${i & 255}`), `key ${i}`);
    }
  });

  await t.step(
    "a crowded table never refuses a new key its first burst",
    () => {
      const clock = handClock();
      const buckets = new SharedKeyedBuckets({
        rate: 1,
        burst: 1,
        now: clock.now,
        table: createSharedBucketTable(clock.now()),
      });
      // More keys than slots, none refilled: the last ones overflow into
      // the worker's own buckets and still get their token.
      for (let i = 0; i < 80_000; i++) {
        assert.ok(buckets.take(`key-${i}`), `key-${i}`);
      }
      // Once refilled, slots are taken over by newcomers.
      clock.advance(2_000);
      assert.ok(buckets.take("newcomer"));
      assert.equal(buckets.take("newcomer"), false);
    },
  );

  await t.step("a rate of 0 is no limit", () => {
    const buckets = new SharedKeyedBuckets({
      rate: 0,
      burst: 1,
      table: createSharedBucketTable(),
    });
    for (let i = 0; i < 100; i++) assert.ok(buckets.take("x"));
  });

  await t.step("a table crossing postMessage is recognised, others not", () => {
    const table = createSharedBucketTable();
    assert.ok(isSharedBucketTable(structuredClone(table)));
    assert.equal(isSharedBucketTable({ buffer: new ArrayBuffer(8) }), false);
    assert.equal(
      isSharedBucketTable({ buffer: new SharedArrayBuffer(8), epoch: 1 }),
      false,
    );
  });
});

Deno.test("the lanes of a shared table", async (t) => {
  await t.step(
    "budgets of two kinds in one table keep their own bursts",
    () => {
      const clock = handClock();
      const table = createSharedBucketTable(clock.now());
      const small = new SharedKeyedBuckets({
        rate: 1,
        burst: 2,
        now: clock.now,
        table,
        lane: 0,
      });
      const large = new SharedKeyedBuckets({
        rate: 1,
        burst: 100,
        now: clock.now,
        table,
        lane: 1,
      });
      // The same key in both: two budgets, neither taken for the other.
      for (let i = 0; i < 50; i++) assert.ok(large.take("10.0.0.1"));
      assert.ok(small.take("10.0.0.1"));
      assert.ok(small.take("10.0.0.1"));
      assert.equal(small.take("10.0.0.1"), false);
      for (let i = 0; i < 50; i++) assert.ok(large.take("10.0.0.1"), `${i}`);
      assert.equal(large.take("10.0.0.1"), false);
    },
  );

  await t.step("a lane the table does not have is refused", () => {
    const table = createSharedBucketTable();
    assert.throws(
      () =>
        new SharedKeyedBuckets({
          rate: 1,
          burst: 1,
          table,
          lane: SHARED_BUCKET_LANES,
        }),
      new RegExp(
        `lanes 0 to ${SHARED_BUCKET_LANES - 1}, not ${SHARED_BUCKET_LANES}`,
      ),
    );
  });

  await t.step(
    "msUntilToken says how long an empty bucket waits, on every worker, and takes nothing",
    () => {
      let now = 1_000_000;
      const table = createSharedBucketTable(now);
      const options = {
        rate: 2,
        burst: 2,
        table,
        lane: SHARED_BUCKET_LANE.signInFailure,
        now: () => now,
      };
      const here = new SharedKeyedBuckets(options);
      const there = new SharedKeyedBuckets(options);
      assert.equal(there.msUntilToken("198.51.100.7"), 0);
      assert.ok(here.take("198.51.100.7"));
      assert.ok(here.take("198.51.100.7"));
      assert.equal(there.msUntilToken("198.51.100.7"), 500);
      assert.equal(there.msUntilToken("198.51.100.7"), 500, "took nothing");
      now += 200;
      assert.equal(here.msUntilToken("198.51.100.7"), 300);
      assert.equal(there.take("198.51.100.7"), false);
      now += 300;
      assert.equal(there.msUntilToken("198.51.100.7"), 0);
      assert.equal(here.msUntilToken("203.0.113.1"), 0, "an unknown key");
    },
  );
});
