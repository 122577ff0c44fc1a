/**
 * A window's presence frames to a big room, sent a slice of connections per
 * turn of the event loop. Deno writes a socket's frames once the turn is
 * over, so a window sent to 2 000 members at once was 2 000 socket writes
 * in a row, and another room's message handled in that turn went out only
 * after all of them (with the JavaScript around them, 15-25 ms every 150 ms
 * in a room where people kept coming and going). A small room gets its
 * frames at once: one turn is cheap for it.
 *
 * Each connection still gets its presence frames in order: one that waits
 * keeps whatever comes after it, and its list of who is online is read
 * only after what waited for it was sent ({@linkcode PresenceSlices.sendWaiting}),
 * so that no older change follows a newer list.
 *
 * @module
 */

import { setImmediate } from "node:timers";

/** A connection as the slices see it. */
export interface SlicedConnection {
  /** Whether frames still reach it (history sent, not left). */
  readonly live: boolean;
  readonly member: { deliver(text: string): void };
  /** Frames waiting for its slice; undefined when none wait. */
  unsent?: string[] | undefined;
}

/** Runs `task` in a later turn of the event loop. */
export type NextTurn = (task: () => void) => void;

/** `setImmediate`: after the turn's I/O, not clamped like nested timers. */
const nextImmediate: NextTurn = (task) => {
  setImmediate(task);
};

/** Sends one room's presence frames; see the module doc. */
export class PresenceSlices {
  readonly #perTurn: number;
  readonly #nextTurn: NextTurn;
  /** Connections whose frames wait, in the order they were given them. */
  #waiting: SlicedConnection[] = [];
  #scheduled = false;
  #closed = false;

  /**
   * @param perTurn connections sent to per turn
   * @param nextTurn how to wait for a later turn @default setImmediate
   */
  constructor(perTurn: number, nextTurn: NextTurn = nextImmediate) {
    this.#perTurn = perTurn;
    this.#nextTurn = nextTurn;
  }

  /**
   * Sends each connection its frames: the first `perTurn` at once when
   * nothing waits, the rest a slice per turn after whatever waits.
   */
  send(frames: readonly (readonly [SlicedConnection, readonly string[]])[]) {
    let sentNow = 0;
    for (const [connection, texts] of frames) {
      if (texts.length === 0) continue;
      if (connection.unsent) {
        connection.unsent.push(...texts);
      } else if (this.#waiting.length === 0 && sentNow < this.#perTurn) {
        sentNow += 1;
        for (const text of texts) connection.member.deliver(text);
      } else {
        connection.unsent = [...texts];
        this.#waiting.push(connection);
      }
    }
    if (this.#waiting.length > 0) this.#schedule();
  }

  /** Sends `connection` now whatever waits for it. */
  sendWaiting(connection: SlicedConnection): void {
    const unsent = connection.unsent;
    if (!unsent) return;
    connection.unsent = undefined;
    if (!connection.live) return;
    for (const text of unsent) connection.member.deliver(text);
  }

  /** Drops what waits: the room has nobody left to tell. */
  close(): void {
    this.#closed = true;
    for (const connection of this.#waiting) connection.unsent = undefined;
    this.#waiting = [];
  }

  #schedule(): void {
    if (this.#scheduled || this.#closed) return;
    this.#scheduled = true;
    this.#nextTurn(() => {
      this.#scheduled = false;
      if (this.#closed) return;
      const slice = this.#waiting.splice(0, this.#perTurn);
      for (const connection of slice) this.sendWaiting(connection);
      if (this.#waiting.length > 0) this.#schedule();
    });
  }
}
