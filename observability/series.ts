/**
 * Metrics as plain data ({@linkcode MetricsSnapshot}): the series types, a
 * guard for a snapshot that crossed from another isolate, the merge of
 * several isolates' snapshots, and the text exposition format 0.0.4. Both
 * the registry (`metrics.ts`) and the process series (`process_metrics.ts`)
 * build on it.
 *
 * @module
 */

/** The kinds of series this server exposes. */
export type MetricType = "counter" | "gauge" | "histogram";

/**
 * What follows the series name in a sample's name: nothing for a counter
 * or a gauge, one of three for a histogram.
 */
export type SampleSuffix = "" | "_bucket" | "_sum" | "_count";

/** A sample's label names and values, in the order they are written. */
export type Labels = Readonly<Record<string, string>>;

/** One line of a series. */
export interface Sample {
  readonly suffix: SampleSuffix;
  readonly labels: Labels;
  readonly value: number;
}

/** A metric with its samples: one `# HELP`, one `# TYPE`, its lines. */
export interface Series {
  readonly name: string;
  readonly help: string;
  readonly type: MetricType;
  readonly samples: readonly Sample[];
}

/** One registry's metrics as plain data, which can cross to another isolate. */
export type MetricsSnapshot = readonly Series[];

/** The content type of the exposition text. */
export const METRICS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function isLabels(value: unknown): value is Labels {
  return isRecord(value) &&
    Object.entries(value).every(([name, text]) =>
      LABEL_NAME.test(name) && typeof text === "string"
    );
}

function isSuffix(value: unknown): value is SampleSuffix {
  return value === "" || value === "_bucket" || value === "_sum" ||
    value === "_count";
}

function isMetricType(value: unknown): value is MetricType {
  return value === "counter" || value === "gauge" || value === "histogram";
}

function isSample(value: unknown): value is Sample {
  return isRecord(value) && isSuffix(value.suffix) && isLabels(value.labels) &&
    typeof value.value === "number";
}

function isSeries(value: unknown): value is Series {
  if (
    !isRecord(value) || typeof value.name !== "string" ||
    !METRIC_NAME.test(value.name) || typeof value.help !== "string" ||
    !isMetricType(value.type) || !Array.isArray(value.samples)
  ) return false;
  const histogram = value.type === "histogram";
  return value.samples.every((sample) =>
    isSample(sample) && histogram === (sample.suffix !== "")
  );
}

/**
 * Whether `value` is a {@linkcode MetricsSnapshot}: what another isolate
 * posts is checked to the last label before it is merged.
 */
export function isMetricsSnapshot(value: unknown): value is MetricsSnapshot {
  return Array.isArray(value) && value.every(isSeries);
}

function escapeHelp(text: string): string {
  return text.replaceAll("\\", "\\\\").replaceAll("\n", "\\n");
}

function escapeLabelValue(text: string): string {
  return text.replaceAll("\\", "\\\\").replaceAll('"', '\\"')
    .replaceAll("\n", "\\n");
}

/** A sample value as the exposition format writes it. */
export function formatValue(value: number): string {
  if (Number.isNaN(value)) return "NaN";
  if (value === Infinity) return "+Inf";
  if (value === -Infinity) return "-Inf";
  return String(value);
}

function formatLabels(labels: Labels): string {
  const pairs = Object.entries(labels).map(([name, value]) =>
    `${name}="${escapeLabelValue(value)}"`
  );
  return pairs.length === 0 ? "" : `{${pairs.join(",")}}`;
}

/** Writes `snapshot` in the text exposition format 0.0.4. */
export function expositionText(snapshot: MetricsSnapshot): string {
  let text = "";
  for (const { name, help, type, samples } of snapshot) {
    text += `# HELP ${name} ${escapeHelp(help)}\n# TYPE ${name} ${type}\n`;
    for (const { suffix, labels, value } of samples) {
      text += `${name}${suffix}${formatLabels(labels)} ${formatValue(value)}\n`;
    }
  }
  return text;
}

/** The identity of a sample within its series, whatever its labels' order. */
function sampleKey({ suffix, labels }: Sample): string {
  const pairs = Object.entries(labels).sort(([a], [b]) =>
    a < b ? -1 : a > b ? 1 : 0
  );
  return suffix + JSON.stringify(pairs);
}

/**
 * Merges the snapshots of several isolates into one: samples of the same
 * series, suffix and labels are summed (every chat series is a sum over
 * isolates, and so are the heap series; the other process series come
 * from one isolate only). A series keeps the help, type and position of
 * its first appearance; a later series of the same name and another type
 * is left out.
 */
export function mergeSnapshots(
  snapshots: readonly MetricsSnapshot[],
): MetricsSnapshot {
  const merged = new Map<
    string,
    { first: Series; samples: Map<string, Sample> }
  >();
  for (const snapshot of snapshots) {
    for (const series of snapshot) {
      let entry = merged.get(series.name);
      if (entry === undefined) {
        entry = { first: series, samples: new Map() };
        merged.set(series.name, entry);
      } else if (entry.first.type !== series.type) {
        continue;
      }
      for (const sample of series.samples) {
        const key = sampleKey(sample);
        const before = entry.samples.get(key);
        entry.samples.set(
          key,
          before === undefined
            ? sample
            : { ...before, value: before.value + sample.value },
        );
      }
    }
  }
  return [...merged.values()].map(({ first, samples }) => ({
    name: first.name,
    help: first.help,
    type: first.type,
    samples: [...samples.values()],
  }));
}
