/**
 * What the client waits on the server for: the sends not yet stored (the
 * `cid` outbox, bounded, resent in order after each reconnect until the
 * server's copy comes back), the renames not yet answered, and the edits,
 * deletes and reactions not yet answered. Each
 * promise is settled exactly once, and `close()` leaves none behind.
 *
 * @module
 */

import { ChatError } from "./frames.js";

/** Sends by cid, in the order sent. */
export class Outbox {
  #waiting = new Map();
  #limit;

  /** `limit`: sends waiting at most. */
  constructor(limit) {
    this.#limit = limit;
  }

  get size() {
    return this.#waiting.size;
  }

  /**
   * Takes `text` under a fresh cid; the promise settles with the stored
   * frame or a refusal. Throws a ChatError `outbox_full` past the limit.
   */
  add(text) {
    if (this.#waiting.size >= this.#limit) {
      throw new ChatError(
        "outbox_full",
        `${this.#limit} messages are already waiting for the server`,
      );
    }
    const cid = globalThis.crypto.randomUUID();
    const promise = new Promise((resolve, reject) => {
      this.#waiting.set(cid, { text, resolve, reject });
    });
    return { cid, promise };
  }

  /** The cids waiting, oldest first. */
  cids() {
    return [...this.#waiting.keys()];
  }

  /** The text waiting under `cid`, if it still waits. */
  textOf(cid) {
    return this.#waiting.get(cid)?.text;
  }

  /** The server stored `frame`: a send waiting under its cid is done. */
  settle(frame) {
    const waiting = this.#waiting.get(frame.cid);
    if (!waiting) return;
    this.#waiting.delete(frame.cid);
    waiting.resolve(frame);
  }

  /** The server refused the send under `error.cid`, if one waits. */
  refuse(error) {
    const waiting = this.#waiting.get(error.cid);
    if (!waiting) return;
    this.#waiting.delete(error.cid);
    waiting.reject(error);
  }

  /** Every send fails with `error`. */
  refuseAll(error) {
    const all = [...this.#waiting.values()];
    this.#waiting.clear();
    for (const { reject } of all) reject(error);
  }
}

/**
 * Renames not yet answered, oldest first. One sent on an open connection
 * is answered by a later presence frame of that connection; one made
 * offline by the next connection's first presence frame, as that
 * connection joins under the new name.
 */
export class Renames {
  #waiting = [];

  /** Waits for the answer to a rename; `offline` as above. */
  add(offline) {
    return new Promise((resolve, reject) => {
      this.#waiting.push({ resolve, reject, offline });
    });
  }

  /** A presence frame said the name is `you`; `first` of its connection. */
  answer(you, first) {
    const answered = first
      ? this.#waiting.filter((rename) => rename.offline)
      : this.#waiting.filter((rename) => !rename.offline).slice(0, 1);
    this.#waiting = this.#waiting.filter((r) => !answered.includes(r));
    for (const rename of answered) rename.resolve(you);
  }

  /** The server refused the oldest rename sent on the connection. */
  refuseSent(error) {
    const index = this.#waiting.findIndex((rename) => !rename.offline);
    if (index >= 0) this.#waiting.splice(index, 1)[0].reject(error);
  }

  /**
   * The connection that carried the offline renames was refused for the
   * name: they fail with `error`. Returns whether there were any.
   */
  refuseOffline(error) {
    const refused = this.#waiting.filter((rename) => rename.offline);
    this.#waiting = this.#waiting.filter((rename) => !rename.offline);
    for (const rename of refused) rename.reject(error);
    return refused.length > 0;
  }

  /** Every rename fails with `error`. */
  refuseAll(error) {
    const all = this.#waiting;
    this.#waiting = [];
    for (const { reject } of all) reject(error);
  }
}

/**
 * Requests about messages (edit, delete, react) waiting for the server's
 * answer: the `edit`, `delete` or `reactions` frame of that message id, or
 * an `error` frame naming it. The oldest request for an id takes the first
 * answer for it.
 */
export class Changes {
  #waiting = [];

  /**
   * Waits for the answer of type `answer` (`edit`, `delete`, `reactions`)
   * about message `id`.
   */
  add(answer, id) {
    return new Promise((resolve, reject) => {
      this.#waiting.push({ answer, id, resolve, reject });
    });
  }

  /** A frame of type `answer` about `id` arrived: its request is done. */
  settle(answer, id, value) {
    const index = this.#waiting.findIndex((w) =>
      w.answer === answer && w.id === id
    );
    if (index >= 0) this.#waiting.splice(index, 1)[0].resolve(value);
  }

  /** The server refused a request about `id`. */
  refuse(id, error) {
    const index = this.#waiting.findIndex((w) => w.id === id);
    if (index >= 0) this.#waiting.splice(index, 1)[0].reject(error);
  }

  /** Every request fails with `error` (the connection ended). */
  refuseAll(error) {
    const all = this.#waiting;
    this.#waiting = [];
    for (const { reject } of all) reject(error);
  }
}
