/**
 * A moderator's requests (mute, ban, unmute, unban, and the list of the
 * room's sanctions), their answers and the `role` frame that says whether
 * this connection moderates: the server handles a socket's moderator
 * frames in the order sent and answers each with a `moderated` frame (a
 * `sanctions` frame for the list) or an `error` frame naming neither
 * message nor cid, so the oldest request waiting takes the next answer.
 * See docs/protocol.md, "Moderation".
 *
 * @module
 */

import { ChatError } from "./frames.js";

/** The refusals that answer a moderator's request. */
const REFUSALS = new Set([
  "not_moderator",
  "no_such_user",
  "bad_duration",
  "bad_frame",
  "unavailable",
  "rate_limited",
]);

/**
 * The frame of a moderator's `action` on `user`; `duration` in seconds or
 * `null` for good (mute and ban). Throws a TypeError for bad arguments.
 */
export function moderationFrame(action, user, options = {}) {
  if (action === "sanctions") return { type: action };
  if (typeof user !== "string" || user === "") {
    throw new TypeError(`${action}() takes the name of a user online`);
  }
  const { duration = null, reason = "", everywhere = false } = options;
  if (
    everywhere !== false &&
    !(everywhere === true && (action === "ban" || action === "unban"))
  ) {
    throw new TypeError("only ban() and unban() take everywhere: true");
  }
  if (action === "unmute" || action === "unban") {
    return everywhere
      ? { type: action, user, everywhere }
      : { type: action, user };
  }
  if (duration !== null && !(Number.isInteger(duration) && duration > 0)) {
    throw new TypeError("duration is a whole number of seconds, or null");
  }
  const frame = { type: action, user, duration, reason: String(reason) };
  return everywhere ? { ...frame, everywhere } : frame;
}

/**
 * A client's moderation: whether its connection moderates the room, and
 * its requests waiting for their answer, oldest first.
 */
export class Moderations {
  #waiting = [];
  #send;
  #notLive;
  #emit;
  /** This connection moderates the room (its `role` frame). */
  #moderator = false;

  /**
   * @param {{
   *   send: (frame: object) => void,
   *   notLive: () => string,
   *   emit: (type: string, detail: unknown) => void,
   * }} hooks sends a frame on the socket; says why nothing can go out now
   * (or ""); dispatches an event of the client
   */
  constructor({ send, notLive, emit }) {
    this.#send = send;
    this.#notLive = notLive;
    this.#emit = emit;
  }

  get moderator() {
    return this.#moderator;
  }

  /** A new connection: no moderator until its `role` frame says so. */
  connecting() {
    this.#moderator = false;
  }

  /** Sends a moderator's `action` on `user`; resolves with its answer. */
  request(action, user, options) {
    try {
      const frame = moderationFrame(action, user, options);
      const why = this.#notLive();
      if (why) throw new ChatError("closed", why);
      const answered = new Promise((resolve, reject) => {
        this.#waiting.push({ resolve, reject });
      });
      this.#send(frame);
      return answered;
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /** Handles a frame of this concern; returns whether it was one. */
  onFrame(frame) {
    if (frame.type === "role") {
      this.#moderator = frame.role === "moderator";
      this.#emit("role", {
        role: frame.role,
        everywhere: frame.everywhere === true,
      });
      return true;
    }
    if (frame.type === "sanctions") {
      // The oldest request, a list, is answered.
      this.#waiting.shift()?.resolve({
        mutes: listOf(frame.mutes),
        bans: listOf(frame.bans),
        more: frame.more === true,
      });
      return true;
    }
    if (frame.type !== "moderated") return false;
    // The oldest request went through.
    const detail = { action: frame.action, user: frame.user };
    if (frame.until !== undefined) detail.until = frame.until;
    if (frame.reason !== undefined) detail.reason = frame.reason;
    if (frame.everywhere === true) detail.everywhere = true;
    this.#waiting.shift()?.resolve(detail);
    this.#emit("moderated", detail);
    return true;
  }

  /**
   * An error frame without id or cid: the oldest request was refused, when
   * one waits and the code is one of its. Returns whether it was.
   */
  refuse(error) {
    if (this.#waiting.length === 0 || !REFUSALS.has(error.code)) return false;
    this.#waiting.shift()?.reject(error);
    return true;
  }

  /** Every request fails with `error` (the connection ended). */
  refuseAll(error) {
    const all = this.#waiting;
    this.#waiting = [];
    for (const { reject } of all) reject(error);
  }
}

/** The well-formed entries of a `sanctions` frame's list, as the page reads them. */
function listOf(entries) {
  if (!Array.isArray(entries)) return [];
  return entries.filter((entry) =>
    typeof entry?.target?.user === "string" &&
    (entry.until === null || typeof entry.until === "string")
  ).map((entry) => ({
    user: entry.target.user,
    until: entry.until,
    reason: typeof entry.reason === "string" ? entry.reason : "",
    by: typeof entry.by === "string" ? entry.by : "",
    at: typeof entry.at === "string" ? entry.at : "",
    everywhere: entry.everywhere === true,
  }));
}

/** The `{until, reason}` of a ban, from the 403 a GET of the socket gets. */
export function banOf(body, why) {
  return {
    until: typeof body?.until === "string" ? body.until : null,
    reason: typeof body?.reason === "string" ? body.reason : why,
  };
}
