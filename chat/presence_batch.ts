/**
 * Coalesces a room's joins and leaves: at most one presence frame per room
 * per window, naming who came and who went. Without it, people cycling in a
 * big room send every member a frame per join and per leave (597 frames a
 * second per member, measured). Changes that undo each other within a
 * window (a reconnect: leave, then join) are not sent at all, and a rename
 * stays one rename. That is right for whoever was there when the window
 * began; someone whose list was read within the window also gets what
 * changed after the read (see {@linkcode PresenceBatch.mark}).
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

/** What a batch sends: one change, or several in one frame. */
export type PresenceUpdate = PresenceChangeFrame | PresenceBatchFrame;

/** A place in a window's changes; see {@linkcode PresenceBatch.mark}. */
export interface PresenceMark {
  readonly window: number;
  readonly position: number;
}

/** A window that just ended. */
export interface EndedWindow {
  readonly window: number;
  /**
   * For whoever's list was read from `position` of this window on: what
   * changed over the window, and also where everyone touched after
   * `position` ended up, even where the window as a whole undid it
   * (undefined: nothing to send).
   */
  since(position: number): PresenceUpdate | undefined;
}

/** Options for {@linkcode PresenceBatch}. */
export interface PresenceBatchOptions {
  /** How long changes are gathered before they go out. */
  readonly windowMs: number;
  /**
   * Receives each window once it ends: what changed over the whole window
   * (undefined when it all cancelled out), a single change as the classic
   * `join`/`leave` frame, more than one as a `presence_change` frame.
   */
  readonly deliver: (
    update: PresenceUpdate | undefined,
    ended: EndedWindow,
  ) => void;
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
  /** This window's changes, in order: who went online or offline. */
  #changes: { readonly user: string; readonly online: boolean }[] = [];
  /** The current window's number (or the last one's, between windows). */
  #window = 0;
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
    if (!this.#cancel) {
      this.#window += 1;
      this.#cancel = this.#schedule(() => this.flush(), this.#options.windowMs);
    }
  }

  /**
   * Where the open window stands (undefined: none is open). A connection
   * whose list of who is online is read from here on may miss the changes
   * after this mark: when the window ends it needs them even where the
   * window as a whole undid them (a leave before the mark, the join after).
   */
  mark(): PresenceMark | undefined {
    if (!this.#cancel) return undefined;
    return { window: this.#window, position: this.#changes.length };
  }

  /** Sends what changed since the window began, if a window is open. */
  flush(): void {
    if (!this.#cancel) return;
    this.#cancel();
    this.#cancel = undefined;
    const pending = new Map(this.#pending);
    const renames = new Map(this.#renames);
    const changes = this.#changes;
    const window = this.#window;
    this.#pending.clear();
    this.#renames.clear();
    this.#changes = [];
    const whole = updateOf(pending, renames, () => false);
    this.#options.deliver(whole, {
      window,
      since(position) {
        // The list may have been read at any moment after the mark, so
        // where each of them ended up is news, whatever it was before.
        const touched = new Set(
          changes.slice(position).map(({ user }) => user),
        );
        return updateOf(pending, renames, (user) => touched.has(user));
      },
    });
  }

  /** Drops what is pending (nobody is left to tell) and stops the timer. */
  close(): void {
    this.#cancel?.();
    this.#cancel = undefined;
    this.#pending.clear();
    this.#renames.clear();
    this.#changes = [];
  }

  #mark(user: string, online: boolean, verified: boolean): void {
    this.#changes.push({ user, online });
    const known = this.#pending.get(user);
    if (known) {
      known.now = online;
      known.verified = verified;
    } else {
      this.#pending.set(user, { before: !online, now: online, verified });
    }
  }
}

/**
 * The frame for a window's changes (undefined when there are none): every
 * user whose state at its end differs from that at its start, or for whom
 * `alsoChanged` says so.
 */
function updateOf(
  pending: ReadonlyMap<string, PendingUser>,
  renames: ReadonlyMap<string, string>,
  alsoChanged: (user: string) => boolean,
): PresenceUpdate | undefined {
  const changed = (user: string, now?: boolean) => {
    const entry = pending.get(user);
    return entry !== undefined &&
      (entry.before !== entry.now || alsoChanged(user)) &&
      (now === undefined || entry.now === now);
  };
  const renamed: Renamed[] = [];
  const inRename = new Set<string>();
  for (const [from, to] of renames) {
    if (changed(from, false) && changed(to, true)) {
      renamed.push({ from, to });
      inRename.add(from).add(to);
    }
  }
  const joined: string[] = [];
  const left: string[] = [];
  const verified: string[] = [];
  for (const [user, { now, verified: signed }] of pending) {
    if (!changed(user) || inRename.has(user)) continue;
    (now ? joined : left).push(user);
    if (now && signed) verified.push(user);
  }
  const [onlyJoined] = joined;
  const [onlyLeft] = left;
  const [onlyRenamed] = renamed;
  if (joined.length + left.length + renamed.length > 1) {
    return { type: "presence_change", joined, left, verified, renamed };
  }
  if (onlyJoined !== undefined) {
    return {
      type: "join",
      user: onlyJoined,
      verified: verified.includes(onlyJoined),
    };
  }
  if (onlyLeft !== undefined) return { type: "leave", user: onlyLeft };
  if (onlyRenamed !== undefined) {
    return {
      type: "rename",
      ...onlyRenamed,
      verified: pending.get(onlyRenamed.to)?.verified === true,
    };
  }
  return undefined;
}
