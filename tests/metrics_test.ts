import assert from "node:assert/strict";
import type { RejectReason } from "../chat/metrics.ts";
import { createPrometheusMetrics } from "../observability/metrics.ts";
import {
  expositionText,
  isMetricsSnapshot,
  mergeSnapshots,
  METRICS_CONTENT_TYPE,
  type MetricsSnapshot,
  type Series,
} from "../observability/series.ts";

/** A sample as a scraper reads it: full name, unescaped labels, value. */
interface ParsedSample {
  readonly name: string;
  readonly labels: Record<string, string>;
  readonly value: number;
}

interface ParsedFamily {
  readonly help: string;
  readonly type: string;
  readonly samples: ParsedSample[];
}

const NAME = "[a-zA-Z_:][a-zA-Z0-9_:]*";
const LABEL = '([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\\\\n]|\\\\[\\\\"n])*)"';
const VALUE = "(NaN|[+-]Inf|[+-]?(?:\\d+\\.?\\d*|\\.\\d+)(?:[eE][+-]?\\d+)?)";
const SAMPLE_LINE = new RegExp(
  `^(${NAME})(?:\\{((?:${LABEL})(?:,${LABEL})*)?\\})? ${VALUE}$`,
);
const HELP_LINE = new RegExp(
  `^# HELP (${NAME}) ((?:[^\\\\\\n]|\\\\[\\\\n])*)$`,
);
const TYPE_LINE = new RegExp(
  `^# TYPE (${NAME}) (counter|gauge|histogram|summary|untyped)$`,
);

function unescape(text: string): string {
  return text.replace(/\\(.)/g, (_, c: string) => c === "n" ? "\n" : c);
}

function parseNumber(text: string): number {
  if (text === "+Inf") return Infinity;
  if (text === "-Inf") return -Infinity;
  return Number(text);
}

/**
 * Parses exposition text 0.0.4 and fails on anything the format does not
 * allow, or allows but we never mean to write: a sample before its family's
 * `# TYPE`, a family named twice, a sample of another family inside one, a
 * histogram whose buckets are not cumulative or miss `+Inf`, `_sum` or
 * `_count`.
 */
function parseStrict(text: string): Map<string, ParsedFamily> {
  assert.ok(text.endsWith("\n"), "the text ends with a newline");
  const families = new Map<string, ParsedFamily>();
  let help: { name: string; text: string } | undefined;
  let current: { name: string; family: ParsedFamily } | undefined;
  for (const line of text.slice(0, -1).split("\n")) {
    const helpMatch = HELP_LINE.exec(line);
    const typeMatch = TYPE_LINE.exec(line);
    if (helpMatch) {
      const [, name = "", body = ""] = helpMatch;
      assert.ok(!families.has(name), `${name} is described once`);
      help = { name, text: unescape(body) };
      continue;
    }
    if (typeMatch) {
      const [, name = "", type = ""] = typeMatch;
      assert.ok(
        help?.name === name,
        `# HELP ${name} comes before its # TYPE`,
      );
      assert.ok(!families.has(name), `${name} is typed once`);
      const family = { help: help.text, type, samples: [] };
      families.set(name, family);
      current = { name, family };
      continue;
    }
    const sampleMatch = SAMPLE_LINE.exec(line);
    assert.ok(sampleMatch, `a valid line: ${JSON.stringify(line)}`);
    const [, name = "", labelText, , , , , value = ""] = sampleMatch;
    assert.ok(current, `${name} comes after a # TYPE`);
    const suffixes = current.family.type === "histogram"
      ? ["_bucket", "_sum", "_count"]
      : [""];
    assert.ok(
      suffixes.some((suffix) => name === current?.name + suffix),
      `${name} belongs to ${current.name}`,
    );
    const labels: Record<string, string> = {};
    for (
      const [, label = "", raw = ""] of (labelText ?? "").matchAll(
        new RegExp(LABEL, "g"),
      )
    ) {
      assert.ok(!(label in labels), `${label} once in ${line}`);
      labels[label] = unescape(raw);
    }
    current.family.samples.push({ name, labels, value: parseNumber(value) });
  }
  for (const [name, family] of families) {
    if (family.type === "histogram") checkHistogram(name, family);
  }
  return families;
}

function checkHistogram(name: string, family: ParsedFamily): void {
  const groups = new Map<string, ParsedSample[]>();
  for (const sample of family.samples) {
    const { le: _, ...rest } = sample.labels;
    const key = JSON.stringify(Object.entries(rest).sort());
    groups.set(key, [...groups.get(key) ?? [], sample]);
  }
  for (const [key, samples] of groups) {
    const buckets = samples.filter((s) => s.name === `${name}_bucket`);
    const bounds = buckets.map((s) => parseNumber(s.labels.le ?? "missing"));
    assert.ok(bounds.every((b) => !Number.isNaN(b)), `${key}: every le`);
    assert.deepEqual(bounds, [...bounds].sort((a, b) => a - b));
    assert.equal(bounds.at(-1), Infinity, `${key}: a +Inf bucket`);
    const counts = buckets.map((s) => s.value);
    assert.deepEqual(counts, [...counts].sort((a, b) => a - b), "cumulative");
    const count = samples.find((s) => s.name === `${name}_count`);
    assert.equal(count?.value, counts.at(-1), `${key}: _count is +Inf's`);
    assert.ok(samples.some((s) => s.name === `${name}_sum`), `${key}: _sum`);
  }
}

/** The value of the sample `name` with exactly `labels`. */
function valueOf(
  families: Map<string, ParsedFamily>,
  name: string,
  labels: Record<string, string> = {},
): number | undefined {
  for (const family of families.values()) {
    const sample = family.samples.find((s) =>
      s.name === name && JSON.stringify(s.labels) === JSON.stringify(labels)
    );
    if (sample) return sample.value;
  }
  return undefined;
}

const CHAT_SERIES: Record<string, string> = {
  chat_connections: "gauge",
  chat_rooms: "gauge",
  chat_room_members: "gauge",
  chat_messages_received_total: "counter",
  chat_messages_rejected_total: "counter",
  chat_messages_delivered_total: "counter",
  chat_messages_repaired_total: "counter",
  chat_slow_client_closes_total: "counter",
  chat_connections_refused_total: "counter",
  chat_store_seconds: "histogram",
  chat_store_errors_total: "counter",
};

Deno.test("the exposition text", async (t) => {
  await t.step("is served as text format 0.0.4 in UTF-8", () => {
    assert.equal(
      METRICS_CONTENT_TYPE,
      "text/plain; version=0.0.4; charset=utf-8",
    );
    assert.equal(createPrometheusMetrics().contentType, METRICS_CONTENT_TYPE);
  });

  await t.step(
    "describes every chat series before anything is counted",
    async () => {
      const { render } = createPrometheusMetrics({ processMetrics: false });
      const families = parseStrict(await render());
      for (const [name, type] of Object.entries(CHAT_SERIES)) {
        assert.equal(families.get(name)?.type, type, name);
        assert.notEqual(families.get(name)?.help, "", name);
      }
      assert.equal(valueOf(families, "chat_messages_received_total"), 0);
      assert.equal(valueOf(families, "chat_connections"), 0);
      assert.deepEqual(
        families.get("chat_messages_rejected_total")?.samples,
        [],
        "a labelled counter has no sample until it counts",
      );
    },
  );

  await t.step("counts what the chat core reports", async () => {
    const prometheus = createPrometheusMetrics({ processMetrics: false });
    const { metrics } = prometheus;
    metrics.messageAccepted();
    metrics.messageRejected("too_long");
    metrics.messageRejected("too_long");
    metrics.messageRejected("invalid_json");
    metrics.messagesDelivered(5);
    metrics.messagesRepaired(2);
    metrics.slowClientClosed();
    metrics.connectionRefused("origin");
    metrics.storeFailed("append", "full");
    prometheus.watch({
      rooms: () => 3,
      members: () => 7,
      connections: () => 8,
    });
    const families = parseStrict(await prometheus.render());
    const expect: [string, Record<string, string>, number][] = [
      ["chat_messages_received_total", {}, 1],
      ["chat_messages_rejected_total", { reason: "too_long" }, 2],
      ["chat_messages_rejected_total", { reason: "invalid_json" }, 1],
      ["chat_messages_delivered_total", {}, 5],
      ["chat_messages_repaired_total", {}, 2],
      ["chat_slow_client_closes_total", {}, 1],
      ["chat_connections_refused_total", { reason: "origin" }, 1],
      ["chat_store_errors_total", { operation: "append", kind: "full" }, 1],
      ["chat_rooms", {}, 3],
      ["chat_room_members", {}, 7],
      ["chat_connections", {}, 8],
    ];
    for (const [name, labels, value] of expect) {
      assert.equal(valueOf(families, name, labels), value, name);
    }
  });

  await t.step("refuses to count down", () => {
    const { metrics } = createPrometheusMetrics({ processMetrics: false });
    assert.throws(() => metrics.messagesDelivered(-1), RangeError);
  });

  await t.step(
    "escapes backslashes, double quotes and newlines in label values",
    async () => {
      const prometheus = createPrometheusMetrics({ processMetrics: false });
      const operation = 'a\\b"c\nd';
      prometheus.metrics.storeFailed(operation, "io");
      const text = await prometheus.render();
      assert.ok(
        text.includes(
          'chat_store_errors_total{operation="a\\\\b\\"c\\nd",kind="io"} 1\n',
        ),
        text,
      );
      const families = parseStrict(text);
      assert.equal(
        valueOf(families, "chat_store_errors_total", { operation, kind: "io" }),
        1,
        "a parser reads the original value back",
      );
    },
  );

  await t.step("escapes backslashes and newlines in help text", () => {
    const text = expositionText([{
      name: "odd",
      help: 'a \\ and a\nnewline, "quoted"',
      type: "gauge",
      samples: [{ suffix: "", labels: {}, value: 1 }],
    }]);
    assert.equal(
      text,
      '# HELP odd a \\\\ and a\\nnewline, "quoted"\n# TYPE odd gauge\nodd 1\n',
    );
    assert.equal(
      parseStrict(text).get("odd")?.help,
      'a \\ and a\nnewline, "quoted"',
    );
  });

  await t.step("writes NaN and infinities as Prometheus spells them", () => {
    const samples = [NaN, Infinity, -Infinity, 1e-7].map((value) => ({
      suffix: "" as const,
      labels: { v: String(value) },
      value,
    }));
    const text = expositionText([
      { name: "odd", help: "Odd values.", type: "gauge", samples },
    ]);
    assert.match(text, /^odd\{v="NaN"\} NaN$/m);
    assert.match(text, /^odd\{v="Infinity"\} \+Inf$/m);
    assert.match(text, /^odd\{v="-Infinity"\} -Inf$/m);
    assert.match(text, /^odd\{v="1e-7"\} 1e-7$/m);
    parseStrict(text);
  });

  await t.step(
    "writes histogram buckets cumulative, then +Inf, _sum and _count",
    async () => {
      const prometheus = createPrometheusMetrics({ processMetrics: false });
      for (const seconds of [0.0002, 0.003, 0.003, 0.02, 2]) {
        prometheus.metrics.storeCall("append", seconds, true);
      }
      prometheus.metrics.storeCall("append", 0.0001, false);
      const text = await prometheus.render();
      const ok = 'operation="append",outcome="ok"';
      const lines = text.split("\n").filter((line) =>
        line.startsWith("chat_store_seconds") && line.includes(ok)
      );
      assert.deepEqual(lines, [
        `chat_store_seconds_bucket{${ok},le="0.0001"} 0`,
        `chat_store_seconds_bucket{${ok},le="0.0005"} 1`,
        `chat_store_seconds_bucket{${ok},le="0.001"} 1`,
        `chat_store_seconds_bucket{${ok},le="0.005"} 3`,
        `chat_store_seconds_bucket{${ok},le="0.01"} 3`,
        `chat_store_seconds_bucket{${ok},le="0.05"} 4`,
        `chat_store_seconds_bucket{${ok},le="0.1"} 4`,
        `chat_store_seconds_bucket{${ok},le="0.5"} 4`,
        `chat_store_seconds_bucket{${ok},le="1"} 4`,
        `chat_store_seconds_bucket{${ok},le="+Inf"} 5`,
        `chat_store_seconds_sum{${ok}} ${0.0002 + 0.003 + 0.003 + 0.02 + 2}`,
        `chat_store_seconds_count{${ok}} 5`,
      ]);
      const families = parseStrict(text);
      const error = { operation: "append", outcome: "error" };
      assert.equal(
        valueOf(families, "chat_store_seconds_bucket", {
          ...error,
          le: "0.0001",
        }),
        1,
        "a bound is inclusive",
      );
      assert.equal(valueOf(families, "chat_store_seconds_count", error), 1);
    },
  );

  await t.step("includes the process series unless told not to", async () => {
    const withProcess = parseStrict(await createPrometheusMetrics().render());
    assert.ok((valueOf(withProcess, "process_resident_memory_bytes") ?? 0) > 0);
    const without = parseStrict(
      await createPrometheusMetrics({ processMetrics: false }).render(),
    );
    assert.equal(without.get("process_resident_memory_bytes"), undefined);
    assert.ok(
      (valueOf(without, "process_heap_used_bytes") ?? 0) > 0,
      "every isolate reports its own heap",
    );
  });
});

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
