/**
 * The client's conversation requests and their answers: edit, delete and
 * react, each settled by the server's frame about that message id (or an
 * `error` frame naming it), and `typing`, throttled to what the server
 * hears and silent while a moderator has the user muted. See
 * docs/protocol.md, "Conversation".
 *
 * @module
 */

import { ChatError } from "./frames.js";
import { banOf } from "./moderation.js";
import { TYPING_HEARD_EVERY_MS } from "./protocol.js";
import { Changes } from "./waiting.js";

/** The least time between two `typing` frames (docs/protocol.md). */
const TYPING_EVERY_MS = 3_000;
/**
 * After a send, the least time between two `typing` frames: more than the
 * server's once a second, so that the first one arriving late does not
 * make the next one look early to it.
 */
const TYPING_AFTER_SEND_MS = TYPING_HEARD_EVERY_MS + 500;

/** Edits, deletes, reactions and typing of one client. */
export class Conversation {
  #changes = new Changes();
  #send;
  #notLive;
  #emit;
  /** A moderator muted this user here: no `typing` frames meanwhile. */
  #muted = false;
  #typedAt = -Infinity;
  /**
   * A message went out since the last `typing` frame: the server took this
   * user off the typing list, so the next frame need only wait until the
   * server hears one again.
   */
  #spokeSinceTyping = false;

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

  edit(id, text) {
    if (typeof text !== "string") {
      return Promise.reject(new TypeError("edit() takes a string"));
    }
    return this.#change("edit", id, { type: "edit", id, message: text });
  }

  delete(id) {
    return this.#change("delete", id, { type: "delete", id });
  }

  react(id, emoji) {
    return this.#change("reactions", id, { type: "react", id, emoji });
  }

  /**
   * Tells the room this user is typing: at most once every 3 s, and after
   * a send as soon as the server hears it (1.5 s after the last).
   */
  typing() {
    const now = Date.now();
    if (this.#notLive() || this.#muted) return;
    const every = this.#spokeSinceTyping
      ? TYPING_AFTER_SEND_MS
      : TYPING_EVERY_MS;
    if (now - this.#typedAt < every) return;
    this.#typedAt = now;
    this.#spokeSinceTyping = false;
    this.#send({ type: "typing" });
  }

  /** `send()` was called: the message takes this user off the typing list. */
  sent() {
    this.#spokeSinceTyping = true;
  }

  /** A new connection: not muted until it says so. */
  connecting() {
    this.#muted = false;
  }

  /** Handles a frame of this concern; returns whether it was one. */
  onFrame(frame) {
    switch (frame.type) {
      case "delete":
        if (!Number.isInteger(frame.id)) return true;
        this.#changes.settle("delete", frame.id, { id: frame.id });
        this.#emit("delete", { id: frame.id });
        return true;
      case "edit":
      case "reactions":
        this.#onChange(frame);
        return true;
      case "typing":
        if (Array.isArray(frame.users)) {
          this.#emit(
            "typing",
            frame.users.filter((u) => typeof u === "string"),
          );
        }
        return true;
      case "muted":
      case "unmuted":
        this.#muted = frame.type === "muted";
        this.#emit(frame.type, this.#muted ? banOf(frame, "") : {});
        return true;
    }
    return false;
  }

  /** An error frame naming message `id`: its request was refused. */
  refuse(id, error) {
    this.#changes.refuse(id, error);
  }

  /** Every request fails with `error` (the connection ended). */
  refuseAll(error) {
    this.#changes.refuseAll(error);
  }

  #change(answer, id, frame) {
    if (!Number.isInteger(id) || id < 1) {
      return Promise.reject(
        new TypeError("A message id is a positive integer"),
      );
    }
    const why = this.#notLive();
    if (why) return Promise.reject(new ChatError("closed", why, { id }));
    const answered = this.#changes.add(answer, id);
    this.#send(frame);
    return answered;
  }

  #onChange(frame) {
    if (!Number.isInteger(frame.id)) return;
    const detail = frame.type === "edit"
      ? { id: frame.id, message: frame.message, edited: frame.edited }
      : { id: frame.id, reactions: frame.reactions };
    if (frame.type === "edit" && typeof frame.message !== "string") return;
    if (frame.type === "reactions" && !Array.isArray(frame.reactions)) return;
    this.#changes.settle(frame.type, frame.id, detail);
    this.#emit(frame.type, detail);
  }
}
