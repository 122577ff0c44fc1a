import assert from "node:assert/strict";
import { FloodGuard, TokenBucket } from "../chat/rate_limit.ts";

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

Deno.test("flood guard disconnects after more than burst refusals in a row", () => {
  let now = 0;
  const guard = new FloodGuard({ rate: 5, burst: 3, now: () => now });
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
  const patient = new FloodGuard({ rate: 5, burst: 2, now: () => now });
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
