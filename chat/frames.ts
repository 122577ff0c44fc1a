/**
 * The wire format: frames a client may send, frames the server sends, and
 * the parsers that turn untrusted text into typed values. See
 * docs/protocol.md for the frame-by-frame description.
 *
 * @module
 */

import type { RoomName } from "./room_name.ts";

/** A chat message sent by a client. */
export interface SendMessageFrame {
  readonly type: "message";
  readonly message: string;
}

/** Every frame a client may send (a discriminated union on `type`). */
export type ClientFrame = SendMessageFrame;

/** A chat message as every member of the room receives it. */
export interface MessageFrame {
  readonly type: "message";
  readonly room: RoomName;
  readonly message: string;
  /** When the server accepted the message, ISO-8601 in UTC. */
  readonly ts: string;
}

/** Why the server refused a client frame; see docs/protocol.md. */
export type FrameErrorCode =
  | "invalid_json"
  | "bad_frame"
  | "empty"
  | "too_long";

/** Tells a client that one of its frames was refused. */
export interface ErrorFrame {
  readonly type: "error";
  readonly code: FrameErrorCode;
  readonly error: string;
}

/** Every frame the server sends. */
export type ServerFrame = MessageFrame | ErrorFrame;

/** Result of {@linkcode parseClientFrame}. */
export type ClientFrameResult =
  | { readonly ok: true; readonly frame: ClientFrame }
  | { readonly ok: false; readonly error: ErrorFrame };

/** Limits applied while parsing client frames. */
export interface FrameLimits {
  /** Longest message, in Unicode code points. @default 2000 */
  readonly maxMessageChars: number;
}

/** The defaults of {@linkcode FrameLimits}. */
export const DEFAULT_FRAME_LIMITS: FrameLimits = { maxMessageChars: 2000 };

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function refuse(code: FrameErrorCode, error: string): ClientFrameResult {
  return { ok: false, error: { type: "error", code, error } };
}

function parseJson(text: string): { ok: true; value: unknown } | {
  ok: false;
  reason: string;
} {
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch (error) {
    if (error instanceof SyntaxError) {
      return { ok: false, reason: error.message };
    }
    throw error;
  }
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
  limits: FrameLimits = DEFAULT_FRAME_LIMITS,
): ClientFrameResult {
  const parsed = parseJson(text);
  if (!parsed.ok) {
    return refuse("invalid_json", `Frame is not valid JSON: ${parsed.reason}`);
  }
  const value = parsed.value;
  if (!isRecord(value)) {
    return refuse("bad_frame", "Frame must be a JSON object");
  }
  const type = value.type ?? "message";
  if (type !== "message") {
    return refuse(
      "bad_frame",
      `Unknown frame type ${JSON.stringify(type)}; expected "message"`,
    );
  }
  const message = value.message;
  if (typeof message !== "string") {
    return refuse("bad_frame", 'Frame needs a string "message" field');
  }
  if (message.trim() === "") {
    return refuse("empty", "Message is empty");
  }
  const length = [...message].length;
  if (length > limits.maxMessageChars) {
    return refuse(
      "too_long",
      `Message is longer than ${limits.maxMessageChars} characters (${length})`,
    );
  }
  return { ok: true, frame: { type: "message", message } };
}

/**
 * Checks that a value is a message frame for `room`, as it must be when it
 * arrives from another isolate or machine: that path is input like any other.
 */
export function isMessageFrameFor(
  value: unknown,
  room: RoomName,
): value is MessageFrame {
  return isRecord(value) && value.type === "message" &&
    value.room === room && typeof value.message === "string" &&
    typeof value.ts === "string";
}

/** Parses text received from the fan-out bus into a frame for `room`. */
export function parseBusFrame(
  text: string,
  room: RoomName,
): MessageFrame | undefined {
  const parsed = parseJson(text);
  return parsed.ok && isMessageFrameFor(parsed.value, room)
    ? parsed.value
    : undefined;
}
