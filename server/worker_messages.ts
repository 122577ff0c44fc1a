/**
 * The messages between the main thread and its workers under `--workers`,
 * and their parsers: what crosses `postMessage` is checked like any other
 * input before it is used.
 *
 * @module
 */

import {
  isMetricsSnapshot,
  type MetricsSnapshot,
} from "../observability/series.ts";
import type { Refusal } from "../http/connections.ts";
import {
  isSharedBucketTable,
  type SharedBucketTable,
} from "../chat/shared_buckets.ts";

/** From the main thread to a worker. */
export type ToWorker =
  /** Start serving: the command line to parse, and the port to share. */
  | {
    readonly type: "start";
    readonly index: number;
    readonly args: readonly string[];
    readonly port: number;
    readonly testHooks: boolean;
    /** The message budgets per address that every worker shares. */
    readonly rateTable: SharedBucketTable;
  }
  /** The answer to `acquire`: a refusal, or null for a place. */
  | {
    readonly type: "acquired";
    readonly id: number;
    readonly refusal: Refusal | null;
  }
  | {
    readonly type: "counted";
    readonly id: number;
    readonly connections: number;
  }
  | { readonly type: "rendered"; readonly id: number; readonly text: string }
  /** Send this worker's metrics snapshot for collection `id`. */
  | { readonly type: "collect"; readonly id: number }
  /** Another worker died: remove its presence and announce who left. */
  | { readonly type: "forget_node"; readonly node: string }
  | { readonly type: "shutdown" }
  /** Test hook: throw an uncaught error, as a bug would. */
  | { readonly type: "crash" };

/** From a worker to the main thread. */
export type FromWorker =
  | {
    readonly type: "listening";
    readonly hostname: string;
    readonly port: number;
    readonly node: string;
  }
  | { readonly type: "start_failed"; readonly message: string }
  | { readonly type: "acquire"; readonly id: number; readonly ip: string }
  | { readonly type: "release"; readonly ip: string }
  | { readonly type: "count"; readonly id: number }
  | { readonly type: "render"; readonly id: number }
  | {
    readonly type: "snapshot";
    readonly id: number;
    readonly metrics: MetricsSnapshot;
  }
  | { readonly type: "closed" };

type Fields = Record<string, unknown>;

function isRecord(value: unknown): value is Fields {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

const isInt = (value: unknown): value is number =>
  typeof value === "number" && Number.isSafeInteger(value);
const isText = (value: unknown): value is string => typeof value === "string";

function isRefusal(value: unknown): value is Refusal {
  return isRecord(value) &&
    (value.reason === "per_ip" || value.reason === "total" ||
      value.reason === "connect_rate") &&
    (value.status === 429 || value.status === 503) && isText(value.message);
}

/** Parses what a worker receives; undefined for anything else. */
export function parseToWorker(data: unknown): ToWorker | undefined {
  if (!isRecord(data)) return undefined;
  switch (data.type) {
    case "start":
      return isInt(data.index) && Array.isArray(data.args) &&
          data.args.every(isText) && isInt(data.port) &&
          typeof data.testHooks === "boolean" &&
          isSharedBucketTable(data.rateTable)
        ? {
          type: "start",
          index: data.index,
          args: data.args,
          port: data.port,
          testHooks: data.testHooks,
          rateTable: data.rateTable,
        }
        : undefined;
    case "acquired":
      return isInt(data.id) &&
          (data.refusal === null || isRefusal(data.refusal))
        ? { type: "acquired", id: data.id, refusal: data.refusal }
        : undefined;
    case "counted":
      return isInt(data.id) && isInt(data.connections)
        ? { type: "counted", id: data.id, connections: data.connections }
        : undefined;
    case "rendered":
      return isInt(data.id) && isText(data.text)
        ? { type: "rendered", id: data.id, text: data.text }
        : undefined;
    case "collect":
      return isInt(data.id) ? { type: "collect", id: data.id } : undefined;
    case "forget_node":
      return isText(data.node)
        ? { type: "forget_node", node: data.node }
        : undefined;
    case "shutdown":
      return { type: "shutdown" };
    case "crash":
      return { type: "crash" };
    default:
      return undefined;
  }
}

/** Parses what the main thread receives from a worker. */
export function parseFromWorker(data: unknown): FromWorker | undefined {
  if (!isRecord(data)) return undefined;
  switch (data.type) {
    case "listening":
      return isText(data.hostname) && isInt(data.port) && isText(data.node)
        ? {
          type: "listening",
          hostname: data.hostname,
          port: data.port,
          node: data.node,
        }
        : undefined;
    case "start_failed":
      return isText(data.message)
        ? { type: "start_failed", message: data.message }
        : undefined;
    case "acquire":
      return isInt(data.id) && isText(data.ip)
        ? { type: "acquire", id: data.id, ip: data.ip }
        : undefined;
    case "release":
      return isText(data.ip) ? { type: "release", ip: data.ip } : undefined;
    case "count":
      return isInt(data.id) ? { type: "count", id: data.id } : undefined;
    case "render":
      return isInt(data.id) ? { type: "render", id: data.id } : undefined;
    case "snapshot":
      return isInt(data.id) && isMetricsSnapshot(data.metrics)
        ? { type: "snapshot", id: data.id, metrics: data.metrics }
        : undefined;
    case "closed":
      return { type: "closed" };
    default:
      return undefined;
  }
}
