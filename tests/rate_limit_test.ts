import assert from "node:assert/strict";
import { FloodGuard, KeyedBuckets, TokenBucket } from "../chat/rate_limit.ts";

Deno.test("token bucket", async (t) => {
  await t.step("allows a burst, then the steady rate", () => {
    let now = 0;
    const bucket = new TokenBucket({ rate: 5, burst: 10, now: () => now });
    const burst = Array.from({ length: 12 }, () => bucket.take());
    assert.deepEqual(burst, [...Array(10).fill(true), false, false]);
    now += 200; // one token at 5 per second
    assert.equal(bucket.take(), true);
    assert.equal(bucket.take(), false);
    now += 10_000; // refills up to the burst, not beyond
    const after = Array.from({ length: 11 }, () => bucket.take());
    assert.deepEqual(after, [...Array(10).fill(true), false]);
  });

  await t.step("a rate of 0 means no limit", () => {
    const bucket = new TokenBucket({ rate: 0, burst: 1, now: () => 0 });
    assert.ok(Array.from({ length: 1000 }, () => bucket.take()).every(Boolean));
  });
});

function bucketTaker(options: ConstructorParameters<typeof TokenBucket>[0]) {
  const bucket = new TokenBucket(options);
  return () => bucket.take();
}

Deno.test("keyed buckets", async (t) => {
  await t.step("give each key its own budget, kept across uses", () => {
    let now = 0;
    const buckets = new KeyedBuckets({ rate: 1, burst: 2, now: () => now });
    assert.deepEqual(
      [buckets.take("a"), buckets.take("a"), buckets.take("a")],
      [true, true, false],
    );
    assert.ok(buckets.take("b"), "another key is not affected");
    // What one key spent stays spent, whoever takes next for it.
    assert.equal(buckets.take("a"), false);
    now += 1000;
    assert.equal(buckets.take("a"), true);
  });

  await t.step(
    "forget full buckets, so the table holds recent keys only",
    () => {
      let now = 0;
      const buckets = new KeyedBuckets({ rate: 10, burst: 10, now: () => now });
      for (let i = 0; i < 1000; i++) buckets.take(`10.0.${i >> 8}.${i & 255}`);
      assert.equal(buckets.size, 1000);
      now += 1000; // every bucket refilled
      buckets.take("fresh");
      assert.equal(buckets.size, 1, "only the key used since");
    },
  );

  await t.step("tell how long until a key may take, taking nothing", () => {
    let now = 0;
    const buckets = new KeyedBuckets({ rate: 0.5, burst: 2, now: () => now });
    assert.equal(buckets.msUntilToken("a"), 0, "an unknown key may now");
    assert.equal(buckets.size, 0, "asking makes no bucket");
    buckets.take("a");
    buckets.take("a");
    assert.equal(buckets.msUntilToken("a"), 2000);
    now += 1500;
    assert.equal(buckets.msUntilToken("a"), 500);
    now += 500;
    assert.equal(buckets.msUntilToken("a"), 0);
    assert.equal(buckets.take("a"), true, "asking took nothing");
  });

  await t.step("a rate of 0 keeps nothing", () => {
    const buckets = new KeyedBuckets({ rate: 0, burst: 1 });
    assert.ok(buckets.take("a") && buckets.take("a"));
    assert.equal(buckets.size, 0);
  });
});

Deno.test("flood guard disconnects after more than burst refusals in a row", () => {
  let now = 0;
  const guard = new FloodGuard({
    take: bucketTaker({ rate: 5, burst: 3, now: () => now }),
    tolerance: 3,
  });
  const decisions = Array.from({ length: 7 }, () => guard.check());
  assert.deepEqual(decisions, [
    "accept",
    "accept",
    "accept",
    "refuse",
    "refuse",
    "refuse",
    "disconnect",
  ]);
  const patient = new FloodGuard({
    take: bucketTaker({ rate: 5, burst: 2, now: () => now }),
    tolerance: 2,
  });
  patient.check();
  patient.check();
  assert.equal(patient.check(), "refuse");
  now += 200;
  assert.equal(
    patient.check(),
    "accept",
    "an accepted message resets the count",
  );
  assert.equal(patient.check(), "refuse");
  assert.equal(patient.check(), "refuse");
  assert.equal(patient.check(), "disconnect");
});
