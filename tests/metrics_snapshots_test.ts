import assert from "node:assert/strict";
import type { RejectReason } from "../chat/metrics.ts";
import { createPrometheusMetrics } from "../observability/metrics.ts";
import {
  expositionText,
  isMetricsSnapshot,
  mergeSnapshots,
  type MetricsSnapshot,
  type Series,
} from "../observability/series.ts";
import { parseStrict, valueOf } from "../testkit/exposition.ts";

/** A snapshot of one isolate that has counted a few things. */
async function isolateSnapshot(
  counts: { accepted: number; rejected: RejectReason[]; store: number[] },
  connections: number,
): Promise<MetricsSnapshot> {
  const prometheus = createPrometheusMetrics({ processMetrics: false });
  for (let i = 0; i < counts.accepted; i++) {
    prometheus.metrics.messageAccepted();
  }
  for (const reason of counts.rejected) {
    prometheus.metrics.messageRejected(reason);
  }
  for (const seconds of counts.store) {
    prometheus.metrics.storeCall("append", seconds, true);
  }
  prometheus.watch({
    rooms: () => 1,
    members: () => connections,
    connections: () => connections,
  });
  return await prometheus.snapshot();
}

Deno.test("merging snapshots", async (t) => {
  const first = await isolateSnapshot(
    { accepted: 2, rejected: ["empty"], store: [0.0002, 0.02] },
    3,
  );
  const second = await isolateSnapshot(
    { accepted: 5, rejected: ["binary", "empty"], store: [0.003] },
    4,
  );
  const families = parseStrict(
    expositionText(mergeSnapshots([first, second])),
  );

  await t.step("sums counters and gauges of the same labels", () => {
    assert.equal(valueOf(families, "chat_messages_received_total"), 7);
    assert.equal(valueOf(families, "chat_connections"), 7);
    assert.equal(valueOf(families, "chat_rooms"), 2);
    assert.equal(
      valueOf(families, "chat_messages_rejected_total", { reason: "empty" }),
      2,
    );
  });

  await t.step("keeps a label set that only one isolate has", () => {
    assert.equal(
      valueOf(families, "chat_messages_rejected_total", { reason: "binary" }),
      1,
    );
  });

  await t.step("sums histogram buckets, sums and counts", () => {
    const labels = { operation: "append", outcome: "ok" };
    const bucket = (le: string) =>
      valueOf(families, "chat_store_seconds_bucket", { ...labels, le });
    assert.equal(bucket("0.0005"), 1);
    assert.equal(bucket("0.005"), 2);
    assert.equal(bucket("0.05"), 3);
    assert.equal(bucket("+Inf"), 3);
    assert.equal(valueOf(families, "chat_store_seconds_count", labels), 3);
    assert.equal(
      valueOf(families, "chat_store_seconds_sum", labels),
      0.0002 + 0.02 + 0.003,
    );
  });

  await t.step("names every series once, in the first snapshot's order", () => {
    assert.deepEqual(
      [...families.keys()],
      first.map((series) => series.name),
    );
  });

  await t.step("matches labels whatever their order", () => {
    const series = (labels: Record<string, string>): Series => ({
      name: "x_total",
      help: "X.",
      type: "counter",
      samples: [{ suffix: "", labels, value: 1 }],
    });
    const merged = mergeSnapshots([
      [series({ a: "1", b: "2" })],
      [series({ b: "2", a: "1" })],
    ]);
    assert.deepEqual(merged[0]?.samples, [
      { suffix: "", labels: { a: "1", b: "2" }, value: 2 },
    ]);
  });

  await t.step("leaves out a later series of another type", () => {
    const merged = mergeSnapshots([
      [{
        name: "x",
        help: "X.",
        type: "gauge",
        samples: [{ suffix: "", labels: {}, value: 1 }],
      }],
      [{
        name: "x",
        help: "X.",
        type: "counter",
        samples: [{ suffix: "", labels: {}, value: 5 }],
      }],
    ]);
    assert.deepEqual(merged[0]?.samples, [
      { suffix: "", labels: {}, value: 1 },
    ]);
  });
});

Deno.test("a snapshot from another isolate", async (t) => {
  await t.step("is accepted as it arrives from postMessage", async () => {
    const snapshot = await isolateSnapshot(
      { accepted: 1, rejected: ["empty"], store: [0.001] },
      1,
    );
    assert.ok(isMetricsSnapshot(structuredClone(snapshot)));
    assert.ok(isMetricsSnapshot([]));
  });

  await t.step("is refused when any part is malformed", () => {
    const sample = { suffix: "", labels: { a: "b" }, value: 1 };
    const series = { name: "x", help: "X.", type: "gauge", samples: [sample] };
    const bad: [string, unknown][] = [
      ["not an array", { series }],
      ["a series that is not an object", ["x"]],
      ["a bad metric name", [{ ...series, name: "x-y" }]],
      ["help that is not text", [{ ...series, help: 1 }]],
      ["an unknown type", [{ ...series, type: "summary" }]],
      ["samples that are not an array", [{ ...series, samples: {} }]],
      ["a value that is not a number", [{
        ...series,
        samples: [{ ...sample, value: "1" }],
      }]],
      ["a label value that is not text", [{
        ...series,
        samples: [{ ...sample, labels: { a: 1 } }],
      }]],
      ["a bad label name", [{
        ...series,
        samples: [{ ...sample, labels: { "a b": "c" } }],
      }]],
      ["labels that are an array", [{
        ...series,
        samples: [{ ...sample, labels: ["a"] }],
      }]],
      ["a suffix on a gauge", [{
        ...series,
        samples: [{ ...sample, suffix: "_sum" }],
      }]],
      ["a histogram sample without a suffix", [{
        ...series,
        type: "histogram",
      }]],
      ["an unknown suffix", [{
        ...series,
        type: "histogram",
        samples: [{ ...sample, suffix: "_total" }],
      }]],
    ];
    for (const [why, value] of bad) {
      assert.equal(isMetricsSnapshot(value), false, why);
    }
  });
});
