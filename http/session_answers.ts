/**
 * What a socket's sender is told when a message is refused: the texts of
 * the error frames for a store failure, a rate limit, the publish hook and
 * a frame the tutorial format does not have, worded for people.
 *
 * @module
 */

import type { BudgetAnswer, Rate } from "../chat/message_budget.ts";
import type { ErrorFrame } from "../chat/frames.ts";
import type { Submitted } from "../chat/publish_gate.ts";
import { StoreError, type StoreErrorKind } from "../chat/store.ts";

/** What a sender is told about each kind of store failure. */
const STORE_TROUBLE: Record<StoreErrorKind, string> = {
  full: "the server's storage is full",
  limit: "the server keeps no more rooms",
  read_only: "the server's storage is read-only",
  busy: "the server's storage is busy",
  io: "the server's storage failed",
  unreachable: "the server cannot reach its storage",
  corrupt: "the server's storage holds bad data",
  other: "the server's storage failed",
};

/** Why a message could not be stored, and what the sender may do. */
export function notStored(error: unknown): string {
  return `The message could not be stored${
    error instanceof StoreError ? ` (${STORE_TROUBLE[error.kind]})` : ""
  }; it was not sent, send it again later`;
}

/**
 * What the sender of a message the publish hook kept out is told: the
 * site's reason for a reject; for a hook that could not answer (under the
 * `reject` failure policy), that it may send it again.
 */
export function notPublished(
  submitted: Exclude<Submitted, { kind: "stored" }>,
  cid: string | undefined,
): ErrorFrame {
  const named = cid === undefined ? {} : { cid };
  return submitted.kind === "rejected"
    ? { type: "error", code: "rejected", error: submitted.reason, ...named }
    : {
      type: "error",
      code: "unavailable",
      error:
        "The message could not be checked by the site; it was not sent, send it again later",
      ...named,
    };
}

/**
 * The refusal of a frame of `type` from a client of the `tutorial` wire
 * format, which sends only messages and renames.
 */
export function notForTutorial(type: string): ErrorFrame {
  return {
    type: "error",
    code: "bad_frame",
    error: `Unknown frame type "${type}"; expected "message" or "rename"`,
  };
}

/** Which budget refused a message, and the limits it keeps. */
export interface RateRefusal {
  /** The budgets' answer to the refused frame. */
  readonly budget: BudgetAnswer;
  /** Each sender's rate. */
  readonly rate: Rate;
  /** Each address's rate. */
  readonly addressRate: Rate;
  /** Whether the sender's budget is its address's. */
  readonly senderIsAddress: boolean;
}

/** Why the budgets refused a message, for people. */
export function rateLimited(refusal: RateRefusal): string {
  const { rate, addressRate } = refusal;
  if (refusal.budget === "address") {
    return `Too many messages from your address: at most ${addressRate.rate} per second from everyone using it (bursts of ${addressRate.burst}); this one was not sent`;
  }
  const from = refusal.senderIsAddress ? " from your address" : "";
  return `Too many messages: at most ${rate.rate} per second${from} (bursts of ${rate.burst}); this one was not sent`;
}

/** The error frame of a message the budgets refused. */
export function rateLimitedFrame(
  refusal: RateRefusal,
  cid: string | undefined,
): ErrorFrame {
  return {
    type: "error",
    code: "rate_limited",
    error: rateLimited(refusal),
    ...(cid === undefined ? {} : { cid }),
  };
}
