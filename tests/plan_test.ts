/**
 * The benchmark's command line (bench/plan.ts): what it asks for, and a
 * clear error for anything it does not know, instead of a run of something
 * else.
 *
 * @module
 */

import assert from "node:assert/strict";
import {
  BenchUsageError,
  FULL_PLAN,
  loadLabel,
  parseBenchArgs,
  QUICK_PLAN,
  SCENARIOS,
} from "../bench/plan.ts";

Deno.test("no flags ask for every scenario of the full plan, with the extras", () => {
  assert.deepEqual(parseBenchArgs([]), {
    quick: false,
    only: [],
    at: undefined,
    extras: true,
  });
});

Deno.test("each flag is read", () => {
  assert.deepEqual(
    parseBenchArgs([
      "--quick",
      "--only",
      "paced,workers",
      "--at",
      "HEAD~1",
      "--no-extras",
    ]),
    { quick: true, only: ["paced", "workers"], at: "HEAD~1", extras: false },
  );
  assert.deepEqual(parseBenchArgs(["--only=idle-max"]).only, ["idle-max"]);
});

Deno.test("every scenario name is accepted by --only", () => {
  assert.deepEqual(
    parseBenchArgs(["--only", SCENARIOS.join(",")]).only,
    SCENARIOS,
  );
});

Deno.test("a misspelt flag is refused, not ignored", () => {
  assert.throws(
    () => parseBenchArgs(["--quik"]),
    (error: unknown) =>
      error instanceof BenchUsageError && /--quik/.test(error.message),
  );
});

Deno.test("an unknown scenario is refused with the list of scenarios", () => {
  assert.throws(
    () => parseBenchArgs(["--only", "paced,bursts"]),
    (error: unknown) =>
      error instanceof BenchUsageError &&
      error.message.includes(`"bursts"`) &&
      error.message.includes(SCENARIOS.join(", ")),
  );
  assert.throws(() => parseBenchArgs(["--only", ""]), BenchUsageError);
});

Deno.test("a flag that needs a value is refused without one", () => {
  assert.throws(() => parseBenchArgs(["--at"]), BenchUsageError);
  assert.throws(() => parseBenchArgs(["--at="]), BenchUsageError);
  assert.throws(() => parseBenchArgs(["--only"]), BenchUsageError);
});

Deno.test("a stray argument is refused", () => {
  assert.throws(() => parseBenchArgs(["paced"]), BenchUsageError);
});

Deno.test("the quick plan is smaller than the full one in every load", () => {
  for (const key of ["burst", "burstSmall", "paced"] as const) {
    const full = FULL_PLAN[key];
    const quick = QUICK_PLAN[key];
    assert.ok(
      quick.rooms * quick.clientsPerRoom * quick.messagesPerSender <
        full.rooms * full.clientsPerRoom * full.messagesPerSender,
      key,
    );
  }
  assert.ok(QUICK_PLAN.idle < FULL_PLAN.idle);
  assert.ok(QUICK_PLAN.churn.members < FULL_PLAN.churn.members);
  assert.ok(
    QUICK_PLAN.churn.reconnectsPerSecond <= FULL_PLAN.churn.reconnectsPerSecond,
  );
  assert.ok(QUICK_PLAN.pacedRounds <= FULL_PLAN.pacedRounds);
});

Deno.test("a load's label says its rooms, clients, senders and messages", () => {
  assert.equal(
    loadLabel(FULL_PLAN.burst),
    "20 rooms × 50 clients, 2 senders per room, 100 messages each",
  );
  assert.equal(
    loadLabel(FULL_PLAN.burstSmall),
    "10 rooms × 10 clients, 1 sender per room, 200 messages each",
  );
});
