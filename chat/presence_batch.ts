/**
 * Coalesces a room's joins and leaves: at most one presence frame per room
 * per window, naming who came and who went. Without it, people cycling in a
 * big room send every member a frame per join and per leave (597 frames a
 * second per member, measured). Changes that undo each other within a
 * window (a reconnect: leave, then join) are not sent at all, and a rename
 * stays one rename.
 *
 * @module
 */

import type {
  PresenceBatchFrame,
  PresenceChangeFrame,
  Renamed,
} from "./frames.ts";

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

/** One user's part in a window: online before it, and online now. */
interface PendingUser {
  readonly before: boolean;
  now: boolean;
  verified: boolean;
}

/** One room's pending presence changes. */
export class PresenceBatch {
  readonly #options: PresenceBatchOptions;
  readonly #schedule: Schedule;
  readonly #pending = new Map<string, PendingUser>();
  /** Renames of this window, from the first name to the latest. */
  readonly #renames = new Map<string, string>();
  #cancel: (() => void) | undefined;

  constructor(options: PresenceBatchOptions) {
    this.#options = options;
    this.#schedule = options.schedule ?? realSchedule;
  }

  /** Records a change; the first one of a window starts it. */
  add(change: PresenceChangeFrame): void {
    switch (change.type) {
      case "join":
        this.#mark(change.user, true, change.verified);
        break;
      case "leave":
        this.#mark(change.user, false, false);
        break;
      case "rename": {
        this.#mark(change.from, false, false);
        this.#mark(change.to, true, change.verified);
        // A → B then B → C is A → C; back to A is no rename at all.
        let first = change.from;
        for (const [from, to] of this.#renames) {
          if (to === change.from) {
            first = from;
            this.#renames.delete(from);
          }
        }
        if (first !== change.to) this.#renames.set(first, change.to);
        break;
      }
    }
    this.#cancel ??= this.#schedule(() => this.flush(), this.#options.windowMs);
  }

  /** Sends what changed since the window began, if anything did. */
  flush(): void {
    this.#cancel?.();
    this.#cancel = undefined;
    const changed = (user: string, now: boolean) => {
      const pending = this.#pending.get(user);
      return pending !== undefined && pending.before !== pending.now &&
        pending.now === now;
    };
    const renamed: Renamed[] = [];
    const inRename = new Set<string>();
    for (const [from, to] of this.#renames) {
      if (changed(from, false) && changed(to, true)) {
        renamed.push({ from, to });
        inRename.add(from).add(to);
      }
    }
    const joined: string[] = [];
    const left: string[] = [];
    const verified: string[] = [];
    for (const [user, { before, now, verified: signed }] of this.#pending) {
      if (before === now || inRename.has(user)) continue;
      (now ? joined : left).push(user);
      if (now && signed) verified.push(user);
    }
    const [onlyJoined] = joined;
    const [onlyLeft] = left;
    const [onlyRenamed] = renamed;
    const renamedVerified = onlyRenamed !== undefined &&
      this.#pending.get(onlyRenamed.to)?.verified === true;
    this.#pending.clear();
    this.#renames.clear();
    if (joined.length + left.length + renamed.length > 1) {
      this.#options.deliver({
        type: "presence_change",
        joined,
        left,
        verified,
        renamed,
      });
    } else if (onlyJoined !== undefined) {
      this.#options.deliver({
        type: "join",
        user: onlyJoined,
        verified: verified.includes(onlyJoined),
      });
    } else if (onlyLeft !== undefined) {
      this.#options.deliver({ type: "leave", user: onlyLeft });
    } else if (onlyRenamed !== undefined) {
      this.#options.deliver({
        type: "rename",
        ...onlyRenamed,
        verified: renamedVerified,
      });
    }
  }

  /** Drops what is pending (nobody is left to tell) and stops the timer. */
  close(): void {
    this.#cancel?.();
    this.#cancel = undefined;
    this.#pending.clear();
    this.#renames.clear();
  }

  #mark(user: string, online: boolean, verified: boolean): void {
    const known = this.#pending.get(user);
    if (known) {
      known.now = online;
      known.verified = verified;
    } else {
      this.#pending.set(user, { before: !online, now: online, verified });
    }
  }
}
