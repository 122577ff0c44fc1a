/**
 * The benchmark's tables (bench/report.ts): the result rows as they were
 * added, the checks summed per scenario and server, and a run that fails
 * when any check found something.
 *
 * @module
 */

import assert from "node:assert/strict";
import type { LoadResult } from "../bench/load.ts";
import { kib, mib, rate, ratio, Report, signedKib } from "../bench/report.ts";

const clean: LoadResult = {
  expected: 100,
  delivered: 100,
  lost: 0,
  duplicates: 0,
  leaks: 0,
  connectFailures: 0,
  closedEarly: 0,
  seconds: 1,
  deliveriesPerSecond: 100,
  p50Ms: 1,
  p99Ms: 2,
  maxMs: 3,
  errors: [],
};

Deno.test("a run whose checks found nothing has not failed", () => {
  const report = new Report();
  report.checkLoad("burst", "base", clean);
  report.checkLoad("burst", "ours", clean);
  assert.equal(report.failed, false);
});

Deno.test("a loss, duplicate, leak, failed socket or error fails the run", () => {
  const cases: Partial<LoadResult>[] = [
    { lost: 1 },
    { duplicates: 1 },
    { leaks: 1 },
    { connectFailures: 1 },
    { closedEarly: 1 },
    { errors: ["stalled"] },
  ];
  for (const fault of cases) {
    const report = new Report();
    report.checkLoad("burst", "ours", clean);
    report.checkLoad("burst", "ours", { ...clean, ...fault });
    assert.equal(report.failed, true, JSON.stringify(fault));
  }
});

Deno.test("checks are summed per scenario and server over the rounds", () => {
  const report = new Report();
  report.checkLoad("paced", "base", clean);
  report.checkLoad("paced", "ours", { ...clean, lost: 2, errors: ["a"] });
  report.checkLoad("paced", "base", clean);
  report.checkLoad("paced", "ours", { ...clean, lost: 3, errors: ["b"] });
  report.checkLoad("burst", "ours", { ...clean, duplicates: 1 });
  assert.deepEqual(report.summedChecks(), [
    {
      scenario: "paced",
      server: "base",
      lost: 0,
      duplicates: 0,
      leaks: 0,
      failures: 0,
      notes: "",
    },
    {
      scenario: "paced",
      server: "ours",
      lost: 5,
      duplicates: 0,
      leaks: 0,
      failures: 2,
      notes: "a; b",
    },
    {
      scenario: "burst",
      server: "ours",
      lost: 0,
      duplicates: 1,
      leaks: 0,
      failures: 0,
      notes: "",
    },
  ]);
});

Deno.test("the table lists the rows in order, then the summed checks", () => {
  const report = new Report();
  report.addRow({
    scenario: "burst",
    baseline: rate(96_504.4),
    chat: rate(94_552),
    ratio: ratio(1.0791),
  });
  report.addRow({
    scenario: "idle",
    baseline: kib(22.9 * 1024),
    chat: kib(23.6 * 1024),
    ratio: signedKib(0.7 * 1024),
  });
  report.checkLoad("burst", "ours", { ...clean, leaks: 4 });
  assert.equal(
    report.table(),
    [
      "| scenario | featureless Deno | this server | ratio |",
      "|---|---|---|---|",
      "| burst | 96,504 msg/s | 94,552 msg/s | 1.08× |",
      "| idle | 22.9 KiB | 23.6 KiB | +0.7 KiB |",
      "",
      "| scenario | server | lost | duplicates | cross-room | failures | notes |",
      "|---|---|---|---|---|---|---|",
      "| burst | ours | 0 | 0 | 4 | 0 |  |",
    ].join("\n"),
  );
});

Deno.test("numbers are formatted with their units", () => {
  assert.equal(mib(54.7 * 1024 * 1024), "54.7 MiB");
  assert.equal(signedKib(-0.4 * 1024), "−0.4 KiB");
  assert.equal(signedKib(0), "+0.0 KiB");
});

Deno.test("targets follow the checks, met or not, and a missed one fails nothing", () => {
  const report = new Report();
  report.checkLoad("churn", "ours", clean);
  report.addTarget({
    target: "churn: p99 under 50 ms",
    measured: "23.10 ms",
    met: true,
  });
  report.addTarget({
    target: "churn: p99 under 10 ms",
    measured: "23.10 ms",
    met: false,
  });
  assert.equal(report.failed, false);
  assert.deepEqual(report.table().split("\n").slice(-5), [
    "",
    "| target | measured | met |",
    "|---|---|---|",
    "| churn: p99 under 50 ms | 23.10 ms | yes |",
    "| churn: p99 under 10 ms | 23.10 ms | no |",
  ]);
});
