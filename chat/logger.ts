/**
 * What the core needs of a logger: events by a short dotted name with
 * fields. The core and the adapters write through this interface; the
 * process supplies the implementation (`observability/log.ts`).
 *
 * @module
 */

/** Fields attached to an event: who and what, never secrets. */
export type LogFields = Record<string, unknown>;

/** Writes events; `event` is a short dotted name such as `socket.open`. */
export interface Logger {
  debug(event: string, fields?: LogFields): void;
  info(event: string, fields?: LogFields): void;
  warn(event: string, fields?: LogFields): void;
  error(event: string, fields?: LogFields): void;
}

const drop = (): void => {};

/** A logger that drops everything, for tests that do not look at logs. */
export const silentLogger: Logger = Object.freeze({
  debug: drop,
  info: drop,
  warn: drop,
  error: drop,
});
