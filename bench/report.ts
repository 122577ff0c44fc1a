/**
 * What `deno task bench` (bench/run.ts) prints at the end: the result table,
 * a line per scenario with the baseline's number, this server's and their
 * ratio, the checks table, what went wrong per scenario and server,
 * summed over the rounds, and the targets, the numbers the project aims at
 * and whether this run met them (a missed target is news, not a failure:
 * it depends on the machine). {@linkcode Report} owns both while the scenarios
 * run; the helpers format the numbers the same way in every row.
 *
 * @module
 */

import type { LoadResult } from "./load.ts";

/** One line of the result table. */
export interface Row {
  readonly scenario: string;
  readonly baseline: string;
  readonly chat: string;
  readonly ratio: string;
}

/** One line of the checks table: what went wrong, per scenario and server. */
export interface Check {
  /** The scenario's short name. */
  readonly scenario: string;
  readonly server: string;
  readonly lost: number;
  readonly duplicates: number;
  readonly leaks: number;
  readonly failures: number;
  readonly notes: string;
}

/** A number the project aims at, and what this run measured. */
export interface Target {
  /** What is aimed at, with its bound: "… p99 under 50 ms". */
  readonly target: string;
  readonly measured: string;
  readonly met: boolean;
}

/** Deliveries per second: `94,552 msg/s`. */
export const rate = (value: number): string =>
  `${Math.round(value).toLocaleString("en-US")} msg/s`;
/** A ratio: `1.08×`. */
export const ratio = (value: number): string => `${value.toFixed(2)}×`;
/** Bytes in KiB: `23.6 KiB`. */
export const kib = (bytes: number): string =>
  `${(bytes / 1024).toFixed(1)} KiB`;
/** Bytes in MiB: `54.7 MiB`. */
export const mib = (bytes: number): string =>
  `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
/** A difference in KiB with its sign: `+1.2 KiB`, `−0.4 KiB`. */
export const signedKib = (bytes: number): string =>
  `${bytes < 0 ? "−" : "+"}${kib(Math.abs(bytes))}`;

/** The rows and checks of one run of the benchmark. */
export class Report {
  readonly #rows: Row[] = [];
  readonly #checks: Check[] = [];
  readonly #targets: Target[] = [];

  /** Adds a line to the result table. */
  addRow(row: Row): void {
    this.#rows.push(row);
  }

  /** Adds a target and what this run measured of it. */
  addTarget(target: Target): void {
    this.#targets.push(target);
  }

  /** Adds what one measurement checked. */
  addCheck(check: Check): void {
    this.#checks.push(check);
  }

  /** Adds what one load checked: its losses, duplicates, leaks, failures. */
  checkLoad(scenario: string, server: string, result: LoadResult): void {
    this.addCheck({
      scenario,
      server,
      lost: result.lost,
      duplicates: result.duplicates,
      leaks: result.leaks,
      // A deadline or stall counts too, besides the sockets that failed.
      failures: result.connectFailures + result.closedEarly +
        (result.errors.length > 0 ? 1 : 0),
      notes: result.errors.join("; "),
    });
  }

  /** Whether any check found a loss, duplicate, leak or failure. */
  get failed(): boolean {
    return this.#checks.some((check) =>
      check.lost + check.duplicates + check.leaks + check.failures > 0
    );
  }

  /** The checks summed per scenario and server, in the order first seen. */
  summedChecks(): Check[] {
    const sums = new Map<string, Check>();
    for (const check of this.#checks) {
      const key = `${check.scenario}\n${check.server}`;
      const sum = sums.get(key);
      sums.set(
        key,
        sum
          ? {
            ...sum,
            lost: sum.lost + check.lost,
            duplicates: sum.duplicates + check.duplicates,
            leaks: sum.leaks + check.leaks,
            failures: sum.failures + check.failures,
            notes: [sum.notes, check.notes].filter(Boolean).join("; "),
          }
          : check,
      );
    }
    return [...sums.values()];
  }

  /** The tables, in markdown (the targets' only when there are some). */
  table(): string {
    const targets = this.#targets.length === 0 ? [] : [
      "",
      "| target | measured | met |",
      "|---|---|---|",
      ...this.#targets.map((target) =>
        `| ${target.target} | ${target.measured} | ${
          target.met ? "yes" : "no"
        } |`
      ),
    ];
    return [
      "| scenario | featureless Deno | this server | ratio |",
      "|---|---|---|---|",
      ...this.#rows.map((row) =>
        `| ${row.scenario} | ${row.baseline} | ${row.chat} | ${row.ratio} |`
      ),
      "",
      "| scenario | server | lost | duplicates | cross-room | failures | notes |",
      "|---|---|---|---|---|---|---|",
      ...this.summedChecks().map((check) =>
        `| ${check.scenario} | ${check.server} | ${check.lost} | ${check.duplicates} | ${check.leaks} | ${check.failures} | ${check.notes} |`
      ),
      ...targets,
    ].join("\n");
  }
}
