import assert from "node:assert/strict";
import { createPrometheusMetrics } from "../observability/metrics.ts";
import {
  expositionText,
  METRICS_CONTENT_TYPE,
} from "../observability/series.ts";
import { parseStrict, valueOf } from "../testkit/exposition.ts";

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
  chat_publish_hook_seconds: "histogram",
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
