/**
 * One room of one isolate: its local connections, and delivery to them in
 * message id order, each message exactly once. A message whose id is not
 * the next one (the bus dropped some, or another isolate's write landed
 * first) is preceded by the missing ones, read from the store. A store that
 * forgot the room's log (its epoch changed, or its ids went back) starts
 * every connection over with a fresh history. The bus, the registry of
 * rooms and presence belong to the hub.
 *
 * @module
 */

import { type Connection, sendShaped, shapedFor } from "./connection.ts";
import {
  type DeleteFrame,
  messageFrame,
  type PresenceBatchFrame,
  type PresenceChangeFrame,
  type WireFormat,
} from "./frames.ts";
import { type HistoryLimits, loadHistory } from "./history.ts";
import type { ChatMetrics } from "./metrics.ts";
import type { RoomName } from "./room_name.ts";
import {
  type EndedWindow,
  PresenceBatch,
  type PresenceUpdate,
  type Schedule,
} from "./presence_batch.ts";
import { PresenceSlices } from "./presence_slices.ts";
import type { MessageStore, RoomBounds, RoomPosition } from "./store.ts";
import type { Logger } from "./logger.ts";

/** A message already serialised, so that it is not serialised again. */
export interface KnownMessage {
  readonly id: number;
  readonly text: string;
}

/** What a {@linkcode Room} needs. */
export interface RoomOptions {
  readonly name: RoomName;
  readonly messages: MessageStore;
  readonly log: Logger;
  readonly metrics: ChatMetrics;
  /** The history a connection gets when the room starts it over. */
  readonly limits: HistoryLimits;
  /** Timers for the presence window. @default real, unref'd timers */
  readonly schedule?: Schedule;
  /**
   * Settles once the bus delivers this room's messages; the room reads
   * where it starts only then, so nothing falls between the two.
   * @default already settled
   */
  readonly live?: Promise<void>;
}

/**
 * Joins and leaves of one room are gathered this long and sent as one
 * frame: short enough to feel live, long enough that a crowd coming and
 * going costs each member a few frames a second at most.
 */
export const PRESENCE_WINDOW_MS = 150;

/**
 * Connections sent a window's presence frames per turn of the event loop:
 * a room bigger than this gets them over several turns.
 */
const PRESENCE_SLICE = 256;

// Messages read from the store per query while repairing a gap.
const REPAIR_BATCH = 1000;

/**
 * The local side of a room. Work that reads or moves its position in the
 * message sequence runs through {@linkcode Room.run}, one task at a time.
 */
export class Room {
  readonly name: RoomName;
  readonly connections = new Set<Connection>();
  readonly #messages: MessageStore;
  readonly #log: Logger;
  readonly #metrics: ChatMetrics;
  readonly #limits: HistoryLimits;
  /** The last message id delivered here; set by the room's first task. */
  #lastDelivered = 0;
  /** The epoch of the log delivered here; `""` while unknown. */
  #epoch = "";
  /** Tail of the task chain. */
  #queue: Promise<void> = Promise.resolve();
  /** Joins and leaves waiting for the end of their window. */
  readonly #presence: PresenceBatch;
  /** Sends each window's frames a slice of connections per turn. */
  readonly #slices = new PresenceSlices(PRESENCE_SLICE);

  constructor(options: RoomOptions) {
    this.name = options.name;
    this.#messages = options.messages;
    this.#log = options.log;
    this.#metrics = options.metrics;
    this.#limits = options.limits;
    this.#presence = new PresenceBatch({
      windowMs: PRESENCE_WINDOW_MS,
      deliver: (update, ended) => this.#deliverPresence(update, ended),
      ...(options.schedule ? { schedule: options.schedule } : {}),
    });
    const live = options.live ?? Promise.resolve();
    void this.run(async () => {
      await live;
      const { last, epoch } = await this.#messages.bounds(this.name);
      this.#lastDelivered = last;
      this.#epoch = epoch;
    });
  }

  /** The last message id delivered to this room's connections. */
  get lastDelivered(): number {
    return this.#lastDelivered;
  }

  /** The epoch of the log this room delivers; `""` while unknown. */
  get epoch(): string {
    return this.#epoch;
  }

  /** Where this room's delivery stands: the last id and its log's epoch. */
  get position(): RoomPosition {
    return { last: this.#lastDelivered, epoch: this.#epoch };
  }

  /** Runs `task` after every earlier task of the room has finished. */
  run<T>(task: () => Promise<T>): Promise<T> {
    const result = this.#queue.then(task);
    this.#queue = result.then(
      () => {},
      (error) =>
        this.#log.error("room.task_failed", { room: this.name, error }),
    );
    return result;
  }

  /**
   * Brings the room up to `position`, read from the store when the room
   * stood at `before`: when the store may have forgotten the room's log
   * ({@linkcode mayHaveForgotten}), it is read again in this task to tell
   * (the room then starts over); then what the room lacks is delivered.
   * Call it from a task of {@linkcode Room.run}.
   */
  async sync(position: RoomPosition, before: RoomPosition): Promise<void> {
    let target = position;
    if (mayHaveForgotten(position, before)) {
      const now = await this.#messages.bounds(this.name);
      await this.check(now);
      target = now;
    }
    await this.catchUp(target.last);
  }

  /**
   * Takes `bounds`, read in this task: the room starts over when they say
   * that the store forgot its log, else takes their epoch. Call it from a
   * task of {@linkcode Room.run}.
   */
  async check(bounds: RoomBounds): Promise<void> {
    if (this.#forgot(bounds)) await this.#startOver(bounds);
    else if (bounds.epoch !== "") this.#epoch = bounds.epoch;
  }

  /**
   * Delivers `known`, stored in the log of `epoch` (when the sender said),
   * after whatever precedes it. A message of another epoch than the room's
   * means that the store forgot the room's log, and the room starts over;
   * or that the message is older than the log the room started over with,
   * and it is dropped. Call it from a task of {@linkcode Room.run}.
   */
  async deliver(known: KnownMessage, epoch: string | undefined): Promise<void> {
    if (epoch !== undefined && this.#otherEpoch(epoch)) {
      await this.check(await this.#messages.bounds(this.name));
      if (this.#otherEpoch(epoch)) return;
    }
    await this.catchUp(known.id, known);
  }

  /** Whether `epoch` names another log than the one this room delivers. */
  #otherEpoch(epoch: string): boolean {
    return epoch !== "" && epoch !== this.#epoch;
  }

  /**
   * Whether `position` says that the store no longer holds the log this
   * room delivered: another epoch, or fewer ids than it delivered (a store
   * never takes an id back). A room that delivered nothing lost nothing.
   */
  #forgot(position: RoomPosition): boolean {
    if (this.#lastDelivered === 0) return false;
    return (this.#epoch !== "" && this.#otherEpoch(position.epoch)) ||
      position.last < this.#lastDelivered;
  }

  /**
   * The store forgot this room's log: every live connection gets the
   * latest history of the log the store holds now, not recovered (the
   * client replaces what it shows), and live delivery goes on from there.
   */
  async #startOver(bounds: RoomBounds): Promise<void> {
    const { frame, position } = await loadHistory(this.#messages, {
      room: this.name,
      since: undefined,
      limits: this.#limits,
      bounds,
    });
    this.#log.warn("store.forgot", {
      room: this.name,
      delivered: this.#lastDelivered,
      epochWas: this.#epoch,
      last: bounds.last,
      epoch: bounds.epoch,
      action: "connections get the store's history again, not recovered",
    });
    this.#metrics.storeForgot();
    this.#lastDelivered = position.last;
    this.#epoch = position.epoch;
    const texts = new Map<WireFormat, string[]>();
    for (const connection of this.connections) {
      if (!connection.live) continue;
      sendShaped(connection, frame, texts);
      connection.lastId = position.last;
    }
  }

  /**
   * Delivers every message up to id `upTo` that this room has not
   * delivered, in order, reading from the store whatever is not `known`
   * already. Call it from a task of {@linkcode Room.run}.
   */
  async catchUp(upTo: number, known?: KnownMessage): Promise<void> {
    while (this.#lastDelivered < upTo) {
      if (known?.id === this.#lastDelivered + 1) {
        this.#fanOut(known.id, known.text);
        continue;
      }
      const from = this.#lastDelivered;
      const batch = await this.#messages.after(
        this.name,
        from,
        Math.min(upTo - from, REPAIR_BATCH),
      );
      const due = batch.filter((message) => message.id <= upTo);
      if (due.length === 0) {
        // Pruned by retention before this isolate saw it: nothing to send.
        this.#log.warn("room.gap_lost", { room: this.name, from, to: upTo });
        this.#lastDelivered = upTo - (known ? 1 : 0);
        if (known) this.#fanOut(known.id, known.text);
        return;
      }
      for (const message of due) {
        const text = message.id === known?.id
          ? known.text
          : JSON.stringify(messageFrame(message));
        this.#fanOut(message.id, text);
      }
      this.#metrics.messagesRepaired(
        due.filter((message) => message.id !== known?.id).length,
      );
      this.#log.debug("room.repaired", {
        room: this.name,
        from: from + 1,
        to: this.#lastDelivered,
      });
    }
  }

  /**
   * Tells the room's live connections that `change.user` joined or left,
   * gathered with the other changes of its window (see presence_batch.ts).
   */
  announce(change: PresenceChangeFrame): void {
    this.#presence.add(change);
  }

  /**
   * Notes where the presence window stands for `connection`, whose list of
   * who is online is about to be read, and holds its presence frames until
   * {@linkcode Room.listed}: call it before the read.
   */
  markListed(connection: Connection): void {
    // What waits for it is older than the list: it goes first.
    this.#slices.sendWaiting(connection);
    connection.listedAt = this.#presence.mark();
    connection.held = [];
  }

  /** Sends what was held for `connection`; its list has been sent. */
  listed(connection: Connection): void {
    const held = connection.held ?? [];
    connection.held = undefined;
    for (const frame of held) sendShaped(connection, frame, new Map());
  }

  /** Drops pending announcements; the room has no connection left. */
  close(): void {
    this.#presence.close();
    this.#slices.close();
  }

  /** Sends `frame` to every live connection, serialised once per format. */
  deliverLive(
    frame: PresenceChangeFrame | PresenceBatchFrame | DeleteFrame,
  ): void {
    const texts = new Map<WireFormat, string[]>();
    for (const connection of this.connections) {
      if (connection.live) sendShaped(connection, frame, texts);
    }
  }

  /**
   * Sends an ended window's changes: the whole window's to everyone, and to
   * anyone listed within it, or still being listed, also every change after
   * its list began to be read.
   */
  #deliverPresence(
    update: PresenceUpdate | undefined,
    ended: EndedWindow,
  ): void {
    const since = new Map<number, PresenceUpdate | undefined>();
    const texts = new Map<PresenceUpdate, Map<WireFormat, string[]>>();
    const frames: [Connection, string[]][] = [];
    for (const connection of this.connections) {
      if (!connection.live) continue;
      let frame = update;
      const listedAt = connection.listedAt;
      // A list still being read may have seen any moment of this window.
      const from = listedAt?.window === ended.window
        ? listedAt.position
        : connection.held
        ? 0
        : undefined;
      if (listedAt?.window === ended.window) connection.listedAt = undefined;
      if (from !== undefined) {
        if (!since.has(from)) since.set(from, ended.since(from));
        frame = since.get(from);
      }
      if (!frame) continue;
      if (connection.held) {
        connection.held.push(frame);
        continue;
      }
      const byFormat = texts.get(frame) ?? new Map<WireFormat, string[]>();
      texts.set(frame, byFormat);
      frames.push([connection, shapedFor(connection, frame, byFormat)]);
    }
    this.#slices.send(frames);
  }

  // Message frames are alike in every format: one text serves everybody.
  #fanOut(id: number, text: string): void {
    this.#lastDelivered = id;
    let delivered = 0;
    for (const connection of this.connections) {
      if (!connection.live || id <= connection.lastId) continue;
      connection.lastId = id;
      connection.member.deliver(text);
      delivered += 1;
    }
    this.#metrics.messagesDelivered(delivered);
  }
}

/**
 * Whether `position`, read from the store while a room stood at `before`,
 * may say that the store forgot the room's log: another epoch, or fewer
 * ids than the room had delivered (which the store held by then). A read
 * that merely trails the room's delivery since does not.
 */
export function mayHaveForgotten(
  position: RoomPosition,
  before: RoomPosition,
): boolean {
  return position.last < before.last ||
    (position.epoch !== "" && before.epoch !== "" &&
      position.epoch !== before.epoch);
}
