/**
 * Prometheus metrics of our own: the {@linkcode ChatMetrics} counters, the
 * gauges read at scrape time and the store latency histogram, kept as plain
 * data ({@linkcode MetricsSnapshot}, `series.ts`) that can cross to another
 * isolate. Each isolate keeps its own registry. Under `--workers` the main
 * thread keeps the process series and merges every worker's snapshot into
 * one answer; under `deno serve --parallel` a scrape describes the isolate
 * that answered it.
 *
 * No client library: prom-client costs the idle process about 15 MiB
 * (Node compatibility and the library), a quarter of its budget.
 *
 * @module
 */

import type { ChatMetrics } from "../chat/metrics.ts";
import type { OutboxBacklog, WebhookMetrics } from "../chat/outbox.ts";
import { createProcessMetrics, isolateSeries } from "./process_metrics.ts";
import {
  expositionText,
  formatValue,
  type Labels,
  METRICS_CONTENT_TYPE,
  type MetricsSnapshot,
  type Sample,
  type Series,
} from "./series.ts";

/** The values of `labelNames` in `labels`, as one map key. */
function labelKey<L extends string>(
  labelNames: readonly L[],
  labels: Readonly<Record<L, string>>,
): string {
  return JSON.stringify(labelNames.map((name) => labels[name]));
}

/** A counter, with or without labels; one without starts at 0. */
class Counter<L extends string = never> {
  readonly #values = new Map<string, { labels: Labels; value: number }>();

  constructor(
    readonly name: string,
    readonly help: string,
    readonly labelNames: readonly L[] = [],
  ) {
    if (labelNames.length === 0) {
      this.#values.set(labelKey<never>([], {}), { labels: {}, value: 0 });
    }
  }

  inc(labels: Readonly<Record<L, string>>, by = 1): void {
    if (!(by >= 0)) {
      throw new RangeError(
        `Cannot increase counter ${this.name}: ${by} is not a count`,
      );
    }
    const key = labelKey(this.labelNames, labels);
    const entry = this.#values.get(key);
    if (entry) entry.value += by;
    else this.#values.set(key, { labels: { ...labels }, value: by });
  }

  collect(): Series {
    return {
      name: this.name,
      help: this.help,
      type: "counter",
      samples: [...this.#values.values()].map(({ labels, value }) => ({
        suffix: "",
        labels,
        value,
      })),
    };
  }
}

/** A histogram by labels, with fixed upper bounds. */
class Histogram<L extends string> {
  readonly #cells = new Map<
    string,
    { labels: Labels; counts: number[]; sum: number; count: number }
  >();

  constructor(
    readonly name: string,
    readonly help: string,
    readonly labelNames: readonly L[],
    /** Upper bounds, ascending, without `+Inf`. */
    readonly buckets: readonly number[],
  ) {}

  observe(labels: Readonly<Record<L, string>>, value: number): void {
    const key = labelKey(this.labelNames, labels);
    let cell = this.#cells.get(key);
    if (cell === undefined) {
      cell = {
        labels: { ...labels },
        counts: this.buckets.map(() => 0),
        sum: 0,
        count: 0,
      };
      this.#cells.set(key, cell);
    }
    const bucket = this.buckets.findIndex((bound) => value <= bound);
    if (bucket >= 0) cell.counts[bucket] = (cell.counts[bucket] ?? 0) + 1;
    cell.sum += value;
    cell.count++;
  }

  collect(): Series {
    const samples: Sample[] = [];
    for (const { labels, counts, sum, count } of this.#cells.values()) {
      let cumulative = 0;
      this.buckets.forEach((bound, index) => {
        cumulative += counts[index] ?? 0;
        samples.push({
          suffix: "_bucket",
          labels: { ...labels, le: formatValue(bound) },
          value: cumulative,
        });
      });
      samples.push(
        { suffix: "_bucket", labels: { ...labels, le: "+Inf" }, value: count },
        { suffix: "_sum", labels, value: sum },
        { suffix: "_count", labels, value: count },
      );
    }
    return { name: this.name, help: this.help, type: "histogram", samples };
  }
}

function gauge(name: string, help: string, value: number): Series {
  return {
    name,
    help,
    type: "gauge",
    samples: [{ suffix: "", labels: {}, value }],
  };
}

/** Live counts read at each scrape. */
export interface GaugeSource {
  readonly rooms: () => number;
  readonly members: () => number;
  readonly connections: () => number;
}

/** A registry and the counters that feed it. */
export interface PrometheusMetrics {
  readonly metrics: ChatMetrics;
  /** What the webhook sender counts. */
  readonly webhooks: WebhookMetrics;
  readonly contentType: string;
  /** Reads the live counts from `source` from now on. */
  watch(source: GaugeSource): void;
  /** The exposition text of this registry. */
  render(): Promise<string>;
  /** This registry's metrics as data, to merge with other isolates'. */
  snapshot(): Promise<MetricsSnapshot>;
}

/** Options for {@linkcode createPrometheusMetrics}. */
export interface PrometheusOptions {
  /**
   * Include the process series (memory, CPU, file descriptors). A worker
   * leaves them to the main thread, which reports them once per process;
   * the heap series of each isolate are included either way.
   * @default true
   */
  readonly processMetrics?: boolean;
  /** Include the webhook series (webhooks are on). @default false */
  readonly webhooks?: boolean;
}

/** The upper bounds of `chat_store_seconds`, in seconds. */
const STORE_BUCKETS = [0.0001, 0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1];

/** The upper bounds of `chat_publish_hook_seconds`, in seconds. */
const HOOK_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

/** The upper bounds of `chat_webhook_delivery_seconds`, in seconds. */
const DELIVERY_BUCKETS = [0.01, 0.05, 0.1, 0.5, 1, 5, 30, 300, 3600, 86400];

/** The webhook series: counters, the delivery latency, the outbox backlog. */
function webhookSeries() {
  let backlog: OutboxBacklog | undefined;
  const counters = {
    delivered: new Counter(
      "chat_webhook_delivered_total",
      "Webhook events a receiver accepted (2xx).",
    ),
    retried: new Counter(
      "chat_webhook_retried_total",
      "Webhook attempts that retried an event that failed before.",
    ),
    failed: new Counter(
      "chat_webhook_failed_total",
      "Webhook attempts that failed: an error status, no answer within CHAT_WEBHOOK_TIMEOUT_MS, no connection.",
    ),
    dropped: new Counter(
      "chat_webhook_dropped_total",
      "Undelivered webhook events dropped past CHAT_WEBHOOK_MAX_EVENTS or CHAT_WEBHOOK_MAX_AGE.",
    ),
  };
  const latency = new Histogram(
    "chat_webhook_delivery_seconds",
    "From an event written to the outbox to a receiver accepting it.",
    [],
    DELIVERY_BUCKETS,
  );
  const metrics: WebhookMetrics = {
    delivered(seconds) {
      counters.delivered.inc({});
      latency.observe({}, seconds);
    },
    retried: () => counters.retried.inc({}),
    failed: () => counters.failed.inc({}),
    dropped: (count) => counters.dropped.inc({}, count),
    backlog(next) {
      backlog = next;
    },
  };
  // The backlog is the shared outbox's, the same in every isolate: only
  // one that reports it has it, so a sum over workers counts it once.
  const collect = (): Series[] => [
    ...Object.values(counters).map((counter) => counter.collect()),
    latency.collect(),
    ...(backlog === undefined ? [] : [
      gauge(
        "chat_webhook_pending",
        "Webhook events some receiver has not accepted yet.",
        backlog.pending,
      ),
      gauge(
        "chat_webhook_oldest_pending_seconds",
        "Age of the oldest webhook event some receiver has not accepted yet.",
        backlog.oldestAt === undefined
          ? 0
          : Math.max(0, Date.now() - backlog.oldestAt) / 1000,
      ),
    ]),
  ];
  return { metrics, collect };
}

/** Creates a fresh registry (one per server, so tests do not share). */
export function createPrometheusMetrics(
  options: PrometheusOptions = {},
): PrometheusMetrics {
  let source: GaugeSource | undefined;
  const accepted = new Counter(
    "chat_messages_received_total",
    "Client messages accepted, stored and published.",
  );
  const rejected = new Counter(
    "chat_messages_rejected_total",
    "Client frames refused, by reason.",
    ["reason"],
  );
  const delivered = new Counter(
    "chat_messages_delivered_total",
    "Message frames sent to sockets.",
  );
  const repaired = new Counter(
    "chat_messages_repaired_total",
    "Messages read from the store to fill a fan-out gap.",
  );
  const slow = new Counter(
    "chat_slow_client_closes_total",
    "Clients cut off for leaving too much data unsent.",
  );
  const refused = new Counter(
    "chat_connections_refused_total",
    "WebSocket upgrades refused, by reason.",
    ["reason"],
  );
  const storeSeconds = new Histogram(
    "chat_store_seconds",
    "Store call latency, by operation and outcome.",
    ["operation", "outcome"],
    STORE_BUCKETS,
  );
  const storeErrors = new Counter(
    "chat_store_errors_total",
    "Store calls that failed, by operation and kind (full, read_only, busy, io, corrupt, other).",
    ["operation", "kind"],
  );
  const forgot = new Counter(
    "chat_store_forgot_total",
    "Times a room found that the store forgot its messages (a Redis restarted without persistence, a database file replaced) and started its connections over.",
  );
  const hookSeconds = new Histogram(
    "chat_publish_hook_seconds",
    "Publish hook calls and their latency, by outcome (allowed, rejected, replaced, failed).",
    ["outcome"],
    HOOK_BUCKETS,
  );
  const webhooks = webhookSeries();
  const processMetrics = (options.processMetrics ?? true)
    ? createProcessMetrics()
    : undefined;

  const snapshot = async (): Promise<MetricsSnapshot> => [
    gauge(
      "chat_connections",
      "Open WebSocket connections.",
      source?.connections() ?? 0,
    ),
    gauge(
      "chat_rooms",
      "Rooms with at least one local connection, summed over isolates.",
      source?.rooms() ?? 0,
    ),
    gauge(
      "chat_room_members",
      "Connections admitted to rooms.",
      source?.members() ?? 0,
    ),
    accepted.collect(),
    rejected.collect(),
    delivered.collect(),
    repaired.collect(),
    slow.collect(),
    refused.collect(),
    storeSeconds.collect(),
    storeErrors.collect(),
    forgot.collect(),
    hookSeconds.collect(),
    ...(options.webhooks ? webhooks.collect() : []),
    ...(processMetrics ? await processMetrics.snapshot() : isolateSeries()),
  ];

  const metrics: ChatMetrics = {
    messageAccepted: () => accepted.inc({}),
    messageRejected: (reason) => rejected.inc({ reason }),
    messagesDelivered: (count) => delivered.inc({}, count),
    messagesRepaired: (count) => repaired.inc({}, count),
    slowClientClosed: () => slow.inc({}),
    connectionRefused: (reason) => refused.inc({ reason }),
    storeCall: (operation, seconds, ok) =>
      storeSeconds.observe(
        { operation, outcome: ok ? "ok" : "error" },
        seconds,
      ),
    storeFailed: (operation, kind) => storeErrors.inc({ operation, kind }),
    storeForgot: () => forgot.inc({}),
    publishHook: (outcome, seconds) =>
      hookSeconds.observe({ outcome }, seconds),
  };
  return {
    metrics,
    webhooks: webhooks.metrics,
    contentType: METRICS_CONTENT_TYPE,
    watch(next) {
      source = next;
    },
    render: async () => expositionText(await snapshot()),
    snapshot,
  };
}
