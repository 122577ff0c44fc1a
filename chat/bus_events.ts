/**
 * What travels over the fan-out bus for one room, and the parser that reads
 * it: text from the bus is input like any other.
 *
 * @module
 */

import { isClientId } from "./client_frames.ts";
import { isEpoch } from "./epoch.ts";
import {
  type DeleteFrame,
  type MessageFrame,
  messageFrame,
  type PresenceChangeFrame,
} from "./frames.ts";
import { isRecord, parseJson } from "./json.ts";
import type { RoomName } from "./room_name.ts";

/**
 * Tells every isolate holding sockets of `user` in the room to close them
 * (the server API's disconnect). Travels on the bus only.
 */
export interface DisconnectEvent {
  readonly type: "disconnect";
  readonly user: string;
}

/** What may travel over the fan-out bus for one room. */
export type BusEvent =
  | {
    readonly kind: "message";
    readonly frame: MessageFrame;
    /** The epoch of the log it was stored in, when the sender said. */
    readonly epoch?: string;
  }
  | { readonly kind: "presence"; readonly frame: PresenceChangeFrame }
  | { readonly kind: "delete"; readonly frame: DeleteFrame }
  | { readonly kind: "disconnect"; readonly event: DisconnectEvent };

function isMessageFrameFor(
  value: Record<string, unknown>,
  room: RoomName,
): boolean {
  return value.type === "message" && value.room === room &&
    typeof value.id === "number" && Number.isSafeInteger(value.id) &&
    value.id > 0 && typeof value.user === "string" &&
    typeof value.message === "string" && typeof value.ts === "string" &&
    typeof value.verified === "boolean" &&
    (value.server === undefined || value.server === true) &&
    (value.cid === undefined || isClientId(value.cid));
}

/**
 * Parses text received from the fan-out bus for `room`. That path is input
 * like any other: anything but a well-formed frame of this room is refused.
 */
export function parseBusEvent(
  text: string,
  room: RoomName,
): BusEvent | undefined {
  const parsed = parseJson(text);
  if (!parsed.ok || !isRecord(parsed.value)) return undefined;
  const value = parsed.value;
  if (isMessageFrameFor(value, room)) {
    return {
      kind: "message",
      frame: messageFrame({
        id: Number(value.id),
        room,
        user: String(value.user),
        message: String(value.message),
        ts: String(value.ts),
        ...(typeof value.cid === "string" ? { cid: value.cid } : {}),
        ...(value.server === true
          ? { author: "server" }
          : value.verified === true
          ? { author: "signed" }
          : {}),
      }),
      ...(isEpoch(value.epoch) ? { epoch: value.epoch } : {}),
    };
  }
  if (
    value.type === "delete" && value.room === room &&
    typeof value.id === "number" && Number.isSafeInteger(value.id) &&
    value.id > 0
  ) {
    return { kind: "delete", frame: { type: "delete", room, id: value.id } };
  }
  if (value.type === "disconnect" && typeof value.user === "string") {
    return {
      kind: "disconnect",
      event: { type: "disconnect", user: value.user },
    };
  }
  if (value.type === "join" && typeof value.user === "string") {
    return {
      kind: "presence",
      frame: {
        type: "join",
        user: value.user,
        verified: value.verified === true,
      },
    };
  }
  if (value.type === "leave" && typeof value.user === "string") {
    return { kind: "presence", frame: { type: "leave", user: value.user } };
  }
  if (
    value.type === "rename" && typeof value.from === "string" &&
    typeof value.to === "string"
  ) {
    return {
      kind: "presence",
      frame: {
        type: "rename",
        from: value.from,
        to: value.to,
        verified: value.verified === true,
      },
    };
  }
  return undefined;
}
