/**
 * What the chat core and the socket route count, as a narrow interface; the
 * Prometheus adapter (`observability/metrics.ts` at the top level) implements it.
 *
 * @module
 */

import type { FrameErrorCode } from "./frames.ts";
import type { PublishHookOutcome } from "./publish_hook.ts";
import type { StoreErrorKind } from "./store.ts";

/**
 * Why an incoming frame was not accepted as a message: each refusal a
 * client is told of, and those only the server sees (a frame too big or
 * binary, which close the socket; a repeated `cid`, answered with the copy
 * stored).
 */
export type RejectReason = FrameErrorCode | "too_big" | "binary" | "duplicate";

/** Why an upgrade was refused before it happened. */
export type RefuseReason =
  | "origin"
  | "token"
  | "room_not_allowed"
  | "banned"
  | "per_ip"
  | "total"
  | "connect_rate"
  | "shutting_down";

/** Counters the core reports to. */
export interface ChatMetrics {
  /** A client message was stored and published. */
  messageAccepted(): void;
  /** A client frame was refused. */
  messageRejected(reason: RejectReason): void;
  /** `count` message frames went out to local sockets. */
  messagesDelivered(count: number): void;
  /** `count` messages were read from the store to fill a gap. */
  messagesRepaired(count: number): void;
  /** A client was cut off for not reading. */
  slowClientClosed(): void;
  /** An upgrade was refused. */
  connectionRefused(reason: RefuseReason): void;
  /** A store call took `seconds`; `ok` false when it failed. */
  storeCall(operation: string, seconds: number, ok: boolean): void;
  /** A store call failed, and how. */
  storeFailed(operation: string, kind: StoreErrorKind): void;
  /**
   * A room found that the store forgot its log (a new epoch, or ids gone
   * back) and started its connections over.
   */
  storeForgot(): void;
  /** The publish hook was asked about a message and took `seconds`. */
  publishHook(outcome: PublishHookOutcome, seconds: number): void;
}

/** Metrics that go nowhere, for tests and tools. */
export const noMetrics: ChatMetrics = {
  messageAccepted() {},
  messageRejected() {},
  messagesDelivered() {},
  messagesRepaired() {},
  slowClientClosed() {},
  connectionRefused() {},
  storeCall() {},
  storeFailed() {},
  storeForgot() {},
  publishHook() {},
};
