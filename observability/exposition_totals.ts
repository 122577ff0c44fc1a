/**
 * Reads figures back out of the `/metrics` text, for the admin console's
 * overview: under `--workers` that text is the one place where the whole
 * process's counters and process series meet (the main thread merges them).
 *
 * @module
 */

/** A sample line: name, optional labels, value (the format this server writes). */
const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{.*\})? (\S+)$/;

/**
 * The value of each sample name in exposition `text`, summed over its
 * labels (`chat_messages_rejected_total` over every reason). Comment lines
 * and values that are not numbers are skipped.
 */
export function expositionTotals(text: string): Map<string, number> {
  const totals = new Map<string, number>();
  for (const line of text.split("\n")) {
    if (line.startsWith("#")) continue;
    const match = SAMPLE.exec(line);
    if (!match) continue;
    const [, name = "", raw = ""] = match;
    const value = Number(raw);
    if (!Number.isFinite(value)) continue;
    totals.set(name, (totals.get(name) ?? 0) + value);
  }
  return totals;
}

/**
 * A per-second rate of a counter between the calls of the function it
 * returns, over at least `minWindowMs`: a call sooner than that answers the
 * last rate again, so a page refreshing often does not see noise (the
 * first rate is taken over whatever time there was). Undefined until two
 * readings exist.
 */
export function counterRate(minWindowMs = 1000) {
  let last: { at: number; value: number } | undefined;
  let rate: number | undefined;
  return (value: number, at: number): number | undefined => {
    if (last === undefined || value < last.value) {
      last = { at, value };
      return rate;
    }
    const elapsed = at - last.at;
    if (elapsed <= 0 || (elapsed < minWindowMs && rate !== undefined)) {
      return rate;
    }
    rate = (value - last.value) / (elapsed / 1000);
    last = { at, value };
    return rate;
  };
}
