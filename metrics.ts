/**
 * Prometheus metrics through prom-client: the {@linkcode ChatMetrics}
 * counters plus gauges read at scrape time and the process defaults
 * (memory, CPU). Each isolate keeps its own registry. Under `--workers` the
 * main thread keeps the process series and merges every worker's snapshot
 * into one answer ({@linkcode mergeSnapshots}); under
 * `deno serve --parallel` a scrape describes the isolate that answered it.
 *
 * @module
 */

import client, {
  type MetricObjectWithValues,
  type MetricValue,
} from "prom-client";
import type { ChatMetrics } from "./chat/metrics.ts";

/** One registry's metrics as plain data, which can cross to another isolate. */
export type MetricsSnapshot = MetricObjectWithValues<MetricValue<string>>[];

/** Live counts read at each scrape. */
export interface GaugeSource {
  readonly rooms: () => number;
  readonly members: () => number;
  readonly connections: () => number;
}

/** A registry and the counters that feed it. */
export interface PrometheusMetrics {
  readonly metrics: ChatMetrics;
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
   * leaves them to the main thread, which reports them once per process.
   * @default true
   */
  readonly processMetrics?: boolean;
}

/** A registry of the process series alone, for the main thread of workers. */
export function createProcessMetrics(): Pick<PrometheusMetrics, "snapshot"> {
  const registry = new client.Registry();
  collectProcessMetrics(registry);
  return { snapshot: () => registry.getMetricsAsJSON() };
}

function collectProcessMetrics(registry: client.Registry): void {
  client.collectDefaultMetrics({
    register: registry,
    eventLoopMonitoringPrecision: 100,
  });
  if (!canReadProc()) residentMemoryFromDeno(registry);
}

/**
 * Whether this process may read `/proc/self` (Deno allows it only with
 * every permission, which a compiled binary does not have).
 */
function canReadProc(): boolean {
  try {
    Deno.readTextFileSync("/proc/self/status");
    return true;
  } catch (error) {
    if (
      error instanceof Deno.errors.PermissionDenied ||
      error instanceof Deno.errors.NotCapable ||
      error instanceof Deno.errors.NotFound
    ) return false;
    throw error;
  }
}

/**
 * prom-client reads resident memory from `/proc/self/status` and reports 0
 * where it cannot; Deno knows it without any permission.
 */
function residentMemoryFromDeno(registry: client.Registry): void {
  const name = "process_resident_memory_bytes";
  registry.removeSingleMetric(name);
  new client.Gauge({
    name,
    help: "Resident memory size in bytes.",
    registers: [registry],
    collect() {
      this.set(Deno.memoryUsage().rss);
    },
  });
}

/** Merges snapshots of several registries into one exposition text. */
export function mergeSnapshots(snapshots: MetricsSnapshot[]): Promise<string> {
  return client.AggregatorRegistry.aggregate(snapshots).metrics();
}

/** The content type of the exposition text. */
export const METRICS_CONTENT_TYPE = client.Registry.PROMETHEUS_CONTENT_TYPE;

/** Creates a fresh registry (one per server, so tests do not share). */
export function createPrometheusMetrics(
  options: PrometheusOptions = {},
): PrometheusMetrics {
  const registry = new client.Registry();
  const registers = [registry];
  let source: GaugeSource | undefined;

  new client.Gauge({
    name: "chat_connections",
    help: "Open WebSocket connections.",
    registers,
    collect() {
      this.set(source?.connections() ?? 0);
    },
  });
  new client.Gauge({
    name: "chat_rooms",
    help: "Rooms with at least one local connection, summed over isolates.",
    registers,
    collect() {
      this.set(source?.rooms() ?? 0);
    },
  });
  new client.Gauge({
    name: "chat_room_members",
    help: "Connections admitted to rooms.",
    registers,
    collect() {
      this.set(source?.members() ?? 0);
    },
  });
  const accepted = new client.Counter({
    name: "chat_messages_received_total",
    help: "Client messages accepted, stored and published.",
    registers,
  });
  const rejected = new client.Counter({
    name: "chat_messages_rejected_total",
    help: "Client frames refused, by reason.",
    labelNames: ["reason"],
    registers,
  });
  const delivered = new client.Counter({
    name: "chat_messages_delivered_total",
    help: "Message frames sent to sockets.",
    registers,
  });
  const repaired = new client.Counter({
    name: "chat_messages_repaired_total",
    help: "Messages read from the store to fill a fan-out gap.",
    registers,
  });
  const slow = new client.Counter({
    name: "chat_slow_client_closes_total",
    help: "Clients cut off for leaving too much data unsent.",
    registers,
  });
  const refused = new client.Counter({
    name: "chat_connections_refused_total",
    help: "WebSocket upgrades refused, by reason.",
    labelNames: ["reason"],
    registers,
  });
  const storeSeconds = new client.Histogram({
    name: "chat_store_seconds",
    help: "Store call latency, by operation and outcome.",
    labelNames: ["operation", "outcome"],
    buckets: [0.0001, 0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1],
    registers,
  });
  const storeErrors = new client.Counter({
    name: "chat_store_errors_total",
    help:
      "Store calls that failed, by operation and kind (full, read_only, busy, io, corrupt, other).",
    labelNames: ["operation", "kind"],
    registers,
  });
  if (options.processMetrics ?? true) collectProcessMetrics(registry);

  const metrics: ChatMetrics = {
    messageAccepted: () => accepted.inc(),
    messageRejected: (reason) => rejected.inc({ reason }),
    messagesDelivered: (count) => delivered.inc(count),
    messagesRepaired: (count) => repaired.inc(count),
    slowClientClosed: () => slow.inc(),
    connectionRefused: (reason) => refused.inc({ reason }),
    storeCall: (operation, seconds, ok) =>
      storeSeconds.observe(
        { operation, outcome: ok ? "ok" : "error" },
        seconds,
      ),
    storeFailed: (operation, kind) => storeErrors.inc({ operation, kind }),
  };
  return {
    metrics,
    contentType: registry.contentType,
    watch(next) {
      source = next;
    },
    render: () => registry.metrics(),
    snapshot: () => registry.getMetricsAsJSON(),
  };
}
