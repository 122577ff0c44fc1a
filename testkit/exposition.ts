/** A strict reader of the Prometheus text exposition format, for tests that check `/metrics`. @module */

import assert from "node:assert/strict";

/** A sample as a scraper reads it: full name, unescaped labels, value. */
export interface ParsedSample {
  readonly name: string;
  readonly labels: Record<string, string>;
  readonly value: number;
}

export interface ParsedFamily {
  readonly help: string;
  readonly type: string;
  readonly samples: ParsedSample[];
}

export const NAME = "[a-zA-Z_:][a-zA-Z0-9_:]*";
export const LABEL =
  '([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\\\\n]|\\\\[\\\\"n])*)"';
export const VALUE =
  "(NaN|[+-]Inf|[+-]?(?:\\d+\\.?\\d*|\\.\\d+)(?:[eE][+-]?\\d+)?)";
export const SAMPLE_LINE = new RegExp(
  `^(${NAME})(?:\\{((?:${LABEL})(?:,${LABEL})*)?\\})? ${VALUE}$`,
);
export const HELP_LINE = new RegExp(
  `^# HELP (${NAME}) ((?:[^\\\\\\n]|\\\\[\\\\n])*)$`,
);
export const TYPE_LINE = new RegExp(
  `^# TYPE (${NAME}) (counter|gauge|histogram|summary|untyped)$`,
);

export function unescape(text: string): string {
  return text.replace(/\\(.)/g, (_, c: string) => c === "n" ? "\n" : c);
}

export function parseNumber(text: string): number {
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
export function parseStrict(text: string): Map<string, ParsedFamily> {
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

export function checkHistogram(name: string, family: ParsedFamily): void {
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
export function valueOf(
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
