/**
 * The room registry of one isolate: which local connections are in which
 * room, delivery to them, and the hand-off to the fan-out bus for the rest.
 * No HTTP and no WebSocket here; a connection is anything that can take text.
 *
 * @module
 */

import type { Bus, BusSubscription } from "./bus.ts";
import { type MessageFrame, parseBusFrame } from "./frames.ts";
import type { RoomName } from "./room_name.ts";
import { type Logger, silentLogger } from "../log.ts";

/** A local connection as the hub sees it. */
export interface Member {
  /** A short id for logs. */
  readonly id: string;
  /** Sends one serialised frame; must not throw for a closing connection. */
  deliver(text: string): void;
}

/** A member's place in a room; `leave` is idempotent. */
export interface Membership {
  readonly room: RoomName;
  leave(): void;
}

/** Options for {@linkcode ChatHub}. */
export interface ChatHubOptions {
  /** Carries messages to the other isolates or machines. */
  bus: Bus;
  /** Clock for message timestamps. @default () => new Date() */
  now?: () => Date;
  /** @default silentLogger */
  log?: Logger;
}

interface Room {
  readonly members: Set<Member>;
  readonly subscription: BusSubscription;
}

/** Counts for health and metrics. */
export interface HubStats {
  readonly rooms: number;
  readonly members: number;
}

/**
 * Owns the rooms of this isolate. A room exists while it has a local member:
 * its bus subscription opens with the first member and closes with the last.
 */
export class ChatHub {
  readonly #bus: Bus;
  readonly #now: () => Date;
  readonly #log: Logger;
  readonly #rooms = new Map<RoomName, Room>();

  constructor(options: ChatHubOptions) {
    this.#bus = options.bus;
    this.#now = options.now ?? (() => new Date());
    this.#log = options.log ?? silentLogger;
  }

  /** Adds `member` to `room`, opening the room if it is new here. */
  join(room: RoomName, member: Member): Membership {
    const entry = this.#rooms.get(room) ?? this.#openRoom(room);
    entry.members.add(member);
    let joined = true;
    return {
      room,
      leave: () => {
        if (!joined) return;
        joined = false;
        this.#leave(room, member);
      },
    };
  }

  /**
   * Accepts a message for `room`: stamps it, serialises it once, delivers it
   * to the local members and publishes it to the bus for everyone else.
   */
  send(room: RoomName, message: string): MessageFrame {
    const frame: MessageFrame = {
      type: "message",
      room,
      message,
      ts: this.#now().toISOString(),
    };
    const text = JSON.stringify(frame);
    const entry = this.#rooms.get(room);
    if (entry) {
      this.#deliverLocally(entry, text);
      entry.subscription.publish(text);
    } else {
      // A sender is normally a member; without local members we still owe
      // the other isolates the message, through a short-lived subscription.
      const subscription = this.#bus.subscribe(room, () => {});
      subscription.publish(text);
      subscription.close();
    }
    return frame;
  }

  /** How many rooms and members this isolate holds. */
  stats(): HubStats {
    let members = 0;
    for (const room of this.#rooms.values()) members += room.members.size;
    return { rooms: this.#rooms.size, members };
  }

  /** Closes every bus subscription and forgets all rooms. */
  close(): void {
    for (const room of this.#rooms.values()) room.subscription.close();
    this.#rooms.clear();
  }

  #openRoom(room: RoomName): Room {
    const subscription = this.#bus.subscribe(
      room,
      (data) => this.#receive(room, data),
    );
    const entry: Room = { members: new Set(), subscription };
    this.#rooms.set(room, entry);
    this.#log.debug("room.open", { room });
    return entry;
  }

  #leave(room: RoomName, member: Member): void {
    const entry = this.#rooms.get(room);
    if (!entry) return;
    entry.members.delete(member);
    if (entry.members.size > 0) return;
    entry.subscription.close();
    this.#rooms.delete(room);
    this.#log.debug("room.close", { room });
  }

  #receive(room: RoomName, data: unknown): void {
    const entry = this.#rooms.get(room);
    if (!entry) return;
    if (typeof data !== "string" || !parseBusFrame(data, room)) {
      this.#log.warn("bus.invalid_frame", { room, kind: typeof data });
      return;
    }
    this.#deliverLocally(entry, data);
  }

  #deliverLocally(entry: Room, text: string): void {
    for (const member of entry.members) member.deliver(text);
  }
}
