/**
 * What the hub does with what arrives over the fan-out bus for one of its
 * rooms: conversation events go to the conversation, presence changes and
 * deletes to the local members, a disconnect closes the user's local
 * sockets, and a message is delivered in id order (unless the room has it
 * already). Anything else is logged and dropped: the bus is input like
 * any other.
 *
 * @module
 */

import { parseBusEvent } from "./bus_events.ts";
import type { Conversation } from "./conversation.ts";
import type { Logger } from "./logger.ts";
import type { Room } from "./room.ts";
import type { RoomName } from "./room_name.ts";

/** What {@linkcode receiveFromBus} needs from the hub. */
export interface BusReceiver {
  readonly conversation: Conversation;
  readonly log: Logger;
  /** Closes every local socket of `user` in `room`. */
  readonly closeLocal: (room: RoomName, user: string) => void;
}

/** Handles `data` received from the bus for the local `room`. */
export function receiveFromBus(
  hub: BusReceiver,
  room: Room,
  data: unknown,
): void {
  if (typeof data === "string" && hub.conversation.receive(room.name, data)) {
    return;
  }
  const event = typeof data === "string"
    ? parseBusEvent(data, room.name)
    : undefined;
  if (!event) {
    hub.log.warn("bus.invalid_frame", { room: room.name, kind: typeof data });
    return;
  }
  if (event.kind === "presence") {
    room.announce(event.frame);
    return;
  }
  if (event.kind === "delete") {
    room.deliverLive(event.frame);
    return;
  }
  if (event.kind === "disconnect") {
    hub.closeLocal(room.name, event.event.user);
    return;
  }
  const { id } = event.frame;
  const { epoch } = event;
  hub.conversation.spoke(room.name, event.frame.user);
  if (
    id <= room.lastDelivered && (epoch === undefined || epoch === room.epoch)
  ) return;
  const text = JSON.stringify(event.frame);
  void room.run(() => room.deliver({ id, text }, epoch));
}
