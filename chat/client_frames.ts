/**
 * Parsing what a client sends (a socket's text frames, the server API's
 * message body) into typed frames, or into the error frame that says what
 * was wrong.
 *
 * @module
 */

import type {
  ClientFrame,
  ErrorFrame,
  FrameErrorCode,
  SendMessageFrame,
} from "./frames.ts";
import { isRecord, parseJson } from "./json.ts";
import type { ConversationRequest } from "./conversation_frames.ts";
import { isOneEmoji } from "./emoji.ts";
import { isModerationType, parseModerationFrame } from "./moderation_frames.ts";

/** What a client message id may look like. */
const CLIENT_ID = /^[A-Za-z0-9_-]{1,64}$/;

/** Whether `value` is a valid client message id (`cid`). */
export function isClientId(value: unknown): value is string {
  return typeof value === "string" && CLIENT_ID.test(value);
}

/** Result of {@linkcode parseClientFrame}. */
export type ClientFrameResult =
  | { readonly ok: true; readonly frame: ClientFrame }
  | { readonly ok: false; readonly error: ErrorFrame };

/** Result of {@linkcode parseSendMessage}. */
export type SendMessageResult =
  | { readonly ok: true; readonly frame: SendMessageFrame }
  | { readonly ok: false; readonly error: ErrorFrame };

/** Limits applied while parsing client frames. */
export interface FrameLimits {
  /** Longest message, in Unicode code points. */
  readonly maxMessageChars: number;
}

function refuse(
  code: FrameErrorCode,
  error: string,
  cid?: string,
): { readonly ok: false; readonly error: ErrorFrame } {
  const frame: ErrorFrame = { type: "error", code, error };
  return { ok: false, error: cid === undefined ? frame : { ...frame, cid } };
}

/** The frame's `cid` when it is a valid one, so an error can name it. */
function validClientId(value: Record<string, unknown>): string | undefined {
  const cid = value.cid;
  return isClientId(cid) ? cid : undefined;
}

/**
 * A rename's shape only; whether the name is acceptable is for
 * `parseUserName`, which knows the reserved names.
 */
function parseRename(value: Record<string, unknown>): ClientFrameResult {
  const name = value.name;
  if (typeof name !== "string" || !name.isWellFormed()) {
    return refuse("bad_frame", 'A rename needs a string "name" field');
  }
  return { ok: true, frame: { type: "rename", name } };
}

/**
 * Parses one text frame from a client.
 *
 * Accepts the tutorial's `{"message": "hi"}` and the typed
 * `{"type": "message", "message": "hi"}`. The message text is kept exactly
 * as sent; only its emptiness is judged on the trimmed text.
 */
export function parseClientFrame(
  text: string,
  limits: FrameLimits,
): ClientFrameResult {
  const parsed = parseJson(text);
  if (!parsed.ok) {
    return refuse("invalid_json", `Frame is not valid JSON: ${parsed.reason}`);
  }
  const value = parsed.value;
  if (!isRecord(value)) {
    return refuse("bad_frame", "Frame must be a JSON object");
  }
  const knownCid = validClientId(value);
  // Only a missing `type` means the tutorial's format; `null` is not missing.
  const type = "type" in value ? value.type : "message";
  if (type === "rename") return parseRename(value);
  if (isConversationType(type)) return parseConversationFrame(value, limits);
  if (isModerationType(type)) {
    const parsed = parseModerationFrame(value, type);
    return parsed.ok ? parsed : refuse(parsed.code, parsed.error);
  }
  if (type !== "message") {
    return refuse(
      "bad_frame",
      `Unknown frame type ${
        JSON.stringify(type)
      }; expected "message", "rename", "typing", "edit", "delete", "react", "mute", "ban", "unmute", "unban" or "sanctions"`,
      knownCid,
    );
  }
  return parseSendMessage(value, limits);
}

/**
 * Checks the fields of a message to send (`message`, optional `cid`) as
 * every sender gets them checked, whether socket or server API.
 */
export function parseSendMessage(
  value: Record<string, unknown>,
  limits: FrameLimits,
): SendMessageResult {
  const knownCid = validClientId(value);
  const message = value.message;
  if (typeof message !== "string") {
    return refuse(
      "bad_frame",
      'Frame needs a string "message" field',
      knownCid,
    );
  }
  if (!message.isWellFormed()) {
    return refuse(
      "bad_frame",
      "Message is not valid Unicode text (it has a lone surrogate)",
      knownCid,
    );
  }
  if (message.trim() === "") {
    return refuse("empty", "Message is empty", knownCid);
  }
  const length = [...message].length;
  if (length > limits.maxMessageChars) {
    return refuse(
      "too_long",
      `Message is longer than ${limits.maxMessageChars} characters (${length})`,
      knownCid,
    );
  }
  const cid = value.cid;
  if (cid === undefined) {
    return { ok: true, frame: { type: "message", message } };
  }
  if (!isClientId(cid)) {
    return refuse(
      "bad_frame",
      'Frame "cid" must be 1 to 64 letters, digits, "-" or "_"',
    );
  }
  return { ok: true, frame: { type: "message", message, cid } };
}

type Parsed =
  | { readonly ok: true; readonly frame: ConversationRequest }
  | { readonly ok: false; readonly error: ErrorFrame };

function refuseAbout(
  code: FrameErrorCode,
  error: string,
  id?: number,
): Parsed {
  return {
    ok: false,
    error: { type: "error", code, error, ...(id === undefined ? {} : { id }) },
  };
}

function isMessageId(value: unknown): value is number {
  return typeof value === "number" && Number.isSafeInteger(value) &&
    value > 0;
}

/** Whether `type` names a conversation frame. */
function isConversationType(
  type: unknown,
): type is ConversationRequest["type"] {
  return type === "typing" || type === "edit" || type === "delete" ||
    type === "react";
}

/**
 * Checks a conversation frame's fields; an edit's text is checked as a
 * message's is (empty, length, Unicode).
 */
function parseConversationFrame(
  value: Record<string, unknown>,
  limits: FrameLimits,
): Parsed {
  const type = value.type;
  if (type === "typing") return { ok: true, frame: { type } };
  const id = value.id;
  if (!isMessageId(id)) {
    return refuseAbout(
      "bad_frame",
      `A ${String(type)} frame needs a positive integer "id"`,
    );
  }
  if (type === "delete") return { ok: true, frame: { type, id } };
  if (type === "react") {
    const emoji = value.emoji;
    if (typeof emoji !== "string" || !isOneEmoji(emoji)) {
      return refuseAbout("not_emoji", 'A reaction\'s "emoji" is one emoji', id);
    }
    return { ok: true, frame: { type, id, emoji } };
  }
  const checked = parseSendMessage({ message: value.message }, limits);
  if (!checked.ok) {
    return { ok: false, error: { ...checked.error, id } };
  }
  return {
    ok: true,
    frame: { type: "edit", id, message: checked.frame.message },
  };
}
