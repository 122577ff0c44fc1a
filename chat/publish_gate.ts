/**
 * Client messages on their way through the publish hook: each is asked
 * about at once, so the questions of one room are out together, but they
 * are handed to the store in the order they arrived, each once its verdict
 * is in and every earlier message of its room has been handed on (or
 * refused). A slow answer holds back the later messages of its room only;
 * other rooms go on.
 *
 * @module
 */

import type { SendOptions } from "./hub_types.ts";
import type { PublishHook, PublishVerdict } from "./publish_hook.ts";
import type { RoomName } from "./room_name.ts";
import type { AppendResult } from "./store.ts";

/** A client's message, for `ChatHub.submit`. */
export interface SubmitOptions extends SendOptions {
  /** The sender's id at the site, when signed; the hook is told. */
  readonly sub?: string | undefined;
}

/** What became of a submitted message. */
export type Submitted =
  | { readonly kind: "stored"; readonly result: AppendResult }
  | { readonly kind: "rejected"; readonly reason: string }
  | { readonly kind: "unchecked" };

/** Stores and delivers a message: `ChatHub.send`. */
export type SendMessage = (options: SendOptions) => Promise<AppendResult>;

/** Stores a client's message, or refuses it: `ChatHub.submit`. */
export type Submit = (options: SubmitOptions) => Promise<Submitted>;

/**
 * How client messages are sent: through `hook`, in order per room, when
 * there is one; else straight to `send`.
 */
export function screened(
  hook: PublishHook | undefined,
  send: SendMessage,
): Submit {
  if (hook === undefined) {
    return async (options) => ({ kind: "stored", result: await send(options) });
  }
  const gate = new PublishGate(hook, send);
  return (options) => gate.submit(options);
}

/** A verdict's consequence, taken in the room's turn. */
type Decided =
  | { readonly sending: Promise<AppendResult> }
  | { readonly refused: Submitted };

/** Keeps client messages of a room in order while the hook is asked. */
export class PublishGate {
  readonly #hook: PublishHook;
  readonly #send: SendMessage;
  /** Per room, settles once its last message so far was handed on. */
  readonly #tails = new Map<RoomName, Promise<void>>();

  constructor(hook: PublishHook, send: SendMessage) {
    this.#hook = hook;
    this.#send = send;
  }

  /**
   * Asks the hook about `options.message`, then, in its room's turn,
   * stores the message (or its replacement) or refuses it.
   */
  async submit(options: SubmitOptions): Promise<Submitted> {
    const { room, user, message, cid, author, sub } = options;
    const verdict = this.#hook.screen({
      room,
      user,
      verified: author !== undefined,
      message,
      ...(sub === undefined ? {} : { sub }),
      ...(cid === undefined ? {} : { cid }),
    });
    // Handled in the room's turn; noted here so that a failure that comes
    // before the turn is not reported as unhandled.
    verdict.catch(() => {});
    const previous = this.#tails.get(room);
    const turn = previous ? previous.then(() => verdict) : verdict;
    // The store is called within the turn and not awaited there: the next
    // message's turn starts once this one is handed on, and the store
    // keeps the order of its calls.
    const decided = turn.then((answer) => this.#decide(options, answer));
    const tail = decided.then(() => {}, () => {});
    this.#tails.set(room, tail);
    void tail.then(() => {
      if (this.#tails.get(room) === tail) this.#tails.delete(room);
    });
    const outcome = await decided;
    if ("refused" in outcome) return outcome.refused;
    return { kind: "stored", result: await outcome.sending };
  }

  #decide(options: SendOptions, verdict: PublishVerdict): Decided {
    switch (verdict.action) {
      case "allow":
        return { sending: this.#send(options) };
      case "replace":
        return {
          sending: this.#send({ ...options, message: verdict.message }),
        };
      case "reject":
        return { refused: { kind: "rejected", reason: verdict.reason } };
      case "unchecked":
        return { refused: { kind: "unchecked" } };
    }
  }
}
