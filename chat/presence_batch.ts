/**
 * Coalesces a room's joins and leaves: at most one presence frame per room
 * per window, naming who came and who went. Without it, people cycling in a
 * big room send every member a frame per join and per leave (597 frames a
 * second per member, measured). Changes that undo each other within a
 * window (a reconnect: leave, then join) are not sent at all.
 *
 * @module
 */

import type { PresenceBatchFrame, PresenceChangeFrame } from "./frames.ts";

/** Starts a timer; returns how to cancel it. */
export type Schedule = (task: () => void, ms: number) => () => void;

/** The real timers, unref'd: a pending batch must not keep a process alive. */
export const realSchedule: Schedule = (task, ms) => {
  const timer = setTimeout(task, ms);
  Deno.unrefTimer(timer);
  return () => clearTimeout(timer);
};

/** Options for {@linkcode PresenceBatch}. */
export interface PresenceBatchOptions {
  /** How long changes are gathered before they go out. */
  readonly windowMs: number;
  /**
   * Receives each batch: a single change as the classic `join`/`leave`
   * frame, more than one as a `presence_change` frame.
   */
  readonly deliver: (frame: PresenceChangeFrame | PresenceBatchFrame) => void;
  /** @default realSchedule */
  readonly schedule?: Schedule;
}

/** One room's pending presence changes. */
export class PresenceBatch {
  readonly #options: PresenceBatchOptions;
  readonly #schedule: Schedule;
  /** By user: online before this window, and online now. */
  readonly #pending = new Map<string, { before: boolean; now: boolean }>();
  #cancel: (() => void) | undefined;

  constructor(options: PresenceBatchOptions) {
    this.#options = options;
    this.#schedule = options.schedule ?? realSchedule;
  }

  /** Records a join or a leave; the first one of a window starts it. */
  add(change: PresenceChangeFrame): void {
    const online = change.type === "join";
    const known = this.#pending.get(change.user);
    if (known) known.now = online;
    else this.#pending.set(change.user, { before: !online, now: online });
    this.#cancel ??= this.#schedule(() => this.flush(), this.#options.windowMs);
  }

  /** Sends what changed since the window began, if anything did. */
  flush(): void {
    this.#cancel?.();
    this.#cancel = undefined;
    const joined: string[] = [];
    const left: string[] = [];
    for (const [user, { before, now }] of this.#pending) {
      if (before !== now) (now ? joined : left).push(user);
    }
    this.#pending.clear();
    const [onlyJoined] = joined;
    const [onlyLeft] = left;
    if (joined.length + left.length > 1) {
      this.#options.deliver({ type: "presence_change", joined, left });
    } else if (onlyJoined !== undefined) {
      this.#options.deliver({ type: "join", user: onlyJoined });
    } else if (onlyLeft !== undefined) {
      this.#options.deliver({ type: "leave", user: onlyLeft });
    }
  }

  /** Drops what is pending (nobody is left to tell) and stops the timer. */
  close(): void {
    this.#cancel?.();
    this.#cancel = undefined;
    this.#pending.clear();
  }
}
