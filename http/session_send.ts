/**
 * What becomes of a socket's message once handed to the hub: nothing more
 * when it was stored (the echo is the room's), its stored copy again to
 * the sender alone for a resend, or the error frame that says why not.
 *
 * @module
 */

import { type ErrorFrame, messageFrame } from "../chat/frames.ts";
import type { Logger } from "../chat/logger.ts";
import type { ChatMetrics } from "../chat/metrics.ts";
import type { Submitted } from "../chat/publish_gate.ts";
import type { RoomName } from "../chat/room_name.ts";
import { notPublished, notStored } from "./session_answers.ts";

/** The sender of a message, for {@linkcode answerSubmitted}. */
export interface MessageSender {
  /** The connection's id in logs. */
  readonly id: string;
  readonly room: RoomName;
  /** The message's `cid`, when it has one. */
  readonly cid: string | undefined;
  readonly log: Logger;
  readonly metrics: ChatMetrics;
  /** Sends the sender an error frame. */
  readonly refuse: (error: ErrorFrame) => void;
  /** Sends the sender one serialised frame. */
  readonly deliver: (text: string) => void;
}

/**
 * Answers the sender once `submitted` settles; resolves then, never
 * rejects.
 */
export function answerSubmitted(
  submitted: Promise<Submitted>,
  sender: MessageSender,
): Promise<void> {
  const { id, room, cid, log, metrics } = sender;
  return submitted.then((submitted) => {
    if (submitted.kind !== "stored") {
      sender.refuse(notPublished(submitted, cid));
      return;
    }
    const { message: stored, duplicate } = submitted.result;
    if (duplicate) {
      // Stored before (the client resent it after a reconnect): its copy,
      // to this sender only, is the acknowledgement.
      metrics.messageRejected("duplicate");
      log.info("message.duplicate", { connection: id, room, cid });
      sender.deliver(JSON.stringify(messageFrame(stored)));
    } else {
      metrics.messageAccepted();
    }
  }, (error: unknown) => {
    log.error("message.store_failed", { connection: id, room, error });
    sender.refuse({
      type: "error",
      code: "unavailable",
      ...(cid === undefined ? {} : { cid }),
      error: notStored(error),
    });
  }).catch((error) =>
    log.error("message.handling_failed", { connection: id, room, error })
  );
}
