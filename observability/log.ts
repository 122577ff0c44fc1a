/**
 * Structured logging: one JSON line per event, saying what happened to whom.
 *
 * @module
 */

import { isOutOfDescriptors, stackOf } from "../platform/descriptors.ts";
import type { LogFields, Logger } from "../chat/logger.ts";

export type { LogFields, Logger } from "../chat/logger.ts";
export { silentLogger } from "../chat/logger.ts";

/** Severity, lowest first. */
export type LogLevel = "debug" | "info" | "warn" | "error";

const LEVEL_RANK: Record<LogLevel, number> = {
  debug: 10,
  info: 20,
  warn: 30,
  error: 40,
};

/** Checks a `LOG_LEVEL` value. */
export function isLogLevel(value: string): value is LogLevel {
  return Object.hasOwn(LEVEL_RANK, value);
}

/** Options for {@linkcode createLogger}. */
export interface LoggerOptions {
  /** Events below this level are dropped. @default "info" */
  level?: LogLevel;
  /** Receives each finished line. @default console.log / console.error */
  write?: (line: string, level: LogLevel) => void;
  /** Clock for the `time` field. @default () => new Date() */
  now?: () => Date;
  /** Fields on every line, such as the worker that wrote it. @default {} */
  fields?: LogFields;
}

/**
 * Info and debug lines waiting to be written together, at the end of the
 * turn's microtasks: each write to a pipe is a system call that wakes
 * whoever reads it, and a crowd coming and going logs two lines each (a
 * room where 300 reconnect a second spent an eighth of the server's busy
 * time writing them one by one). A warning or an error first writes what
 * waits, so that the lines keep their order; so do the end of the process
 * and an uncaught error.
 */
let waiting: string[] = [];
let flushesAtExit = false;

function writeWaiting(): void {
  if (waiting.length === 0) return;
  const text = waiting.join("\n");
  waiting = [];
  console.log(text);
}

function defaultWrite(line: string, level: LogLevel): void {
  if (level === "error" || level === "warn") {
    writeWaiting();
    console.error(line);
    return;
  }
  if (waiting.length === 0) {
    queueMicrotask(writeWaiting);
    if (!flushesAtExit) {
      flushesAtExit = true;
      for (const type of ["unload", "error", "unhandledrejection"]) {
        globalThis.addEventListener(type, writeWaiting);
      }
    }
  }
  waiting.push(line);
}

/**
 * Writes each line with a write of its own. Under `deno serve --parallel`,
 * Deno names the isolate at the start of each write, so lines written
 * together would lose that name for all but the first.
 */
export function writeEachLine(line: string, level: LogLevel): void {
  if (level === "error" || level === "warn") console.error(line);
  else console.log(line);
}

function describeError(error: unknown): unknown {
  if (error instanceof Error) {
    // Running out of descriptors is a state, not a bug: where it happened
    // says nothing, and formatting the stack would need a descriptor.
    if (isOutOfDescriptors(error)) {
      return { name: error.name, message: error.message };
    }
    return { name: error.name, message: error.message, stack: stackOf(error) };
  }
  return error;
}

/** Creates a logger that prints JSON lines at or above `level`. */
export function createLogger(options: LoggerOptions = {}): Logger {
  const threshold = LEVEL_RANK[options.level ?? "info"];
  const write = options.write ?? defaultWrite;
  const now = options.now ?? (() => new Date());
  const emit = (level: LogLevel) => (event: string, fields: LogFields = {}) => {
    if (LEVEL_RANK[level] < threshold) return;
    const record: LogFields = {
      time: now().toISOString(),
      level,
      event,
      ...options.fields,
    };
    for (const [key, value] of Object.entries(fields)) {
      record[key] = key === "error" ? describeError(value) : value;
    }
    write(JSON.stringify(record), level);
  };
  return {
    debug: emit("debug"),
    info: emit("info"),
    warn: emit("warn"),
    error: emit("error"),
  };
}
