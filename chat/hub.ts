/**
 * The room registry of one isolate: which rooms have local connections,
 * their bus subscriptions and housekeeping timers, and the hand-off to the
 * store and the fan-out bus for everyone else. Admission (name, history,
 * then presence) is `admission.ts`'s, renaming `rename.ts`'s, presence
 * bookkeeping `presence.ts`'s. No HTTP and no WebSocket here; a
 * connection is anything that can take text.
 *
 * Delivery is driven by message ids and lives in `room.ts`: each room
 * delivers in id order and repairs gaps from the store. The periodic
 * checks are `housekeeping.ts`'s, what arrives over the bus
 * `bus_receive.ts`'s.
 *
 * @module
 */

import type { Bus, BusSubscription } from "./bus.ts";
import { type AdmissionContext, admit, unpresence } from "./admission.ts";
import { CloseCode } from "../client/protocol.js";
import { withEpoch } from "./epoch.ts";
import type { DisconnectEvent } from "./bus_events.ts";
import { type BusReceiver, receiveFromBus } from "./bus_receive.ts";
import { expireHistory, Housekeeping, repairRooms } from "./housekeeping.ts";
import {
  type DeleteFrame,
  messageFrame,
  type PresenceChangeFrame,
} from "./frames.ts";
import { type ChatMetrics, noMetrics } from "./metrics.ts";
import { NodePresence } from "./presence.ts";
import type { Connection } from "./connection.ts";
import { Room } from "./room.ts";
import { screened, type Submit } from "./publish_gate.ts";
import { rename } from "./rename.ts";
import type { RoomName } from "./room_name.ts";
import type { AppendResult, Store } from "./store.ts";
import { type Logger, silentLogger } from "./logger.ts";
import { Conversation } from "./conversation.ts";
import { Moderation } from "./moderation.ts";

import type {
  ChatHubOptions,
  ConnectOptions,
  HubStats,
  Membership,
  SendOptions,
} from "./hub_types.ts";

export type { Member } from "./connection.ts";
export type { RenameResult } from "./rename.ts";
export type * from "./hub_types.ts";

/** A room of this isolate and its subscription to the bus. */
interface OpenRoom {
  readonly room: Room;
  readonly subscription: BusSubscription;
}

/**
 * Owns the rooms of this isolate. A room exists while it has a local
 * connection: its bus subscription opens with the first and closes with the
 * last.
 */
export class ChatHub {
  readonly #bus: Bus;
  readonly #store: Store;
  readonly #now: () => Date;
  readonly #log: Logger;
  readonly #metrics: ChatMetrics;
  readonly #presence: NodePresence;
  readonly #admission: AdmissionContext;
  readonly #rooms = new Map<RoomName, OpenRoom>();
  readonly #housekeeping: Housekeeping;
  readonly #receiver: BusReceiver;
  readonly #paceAdmission: (() => Promise<void>) | undefined;
  /**
   * Stores a client's message, asked about by the publish hook first when
   * there is one (see `publish_gate.ts`).
   */
  readonly submit: Submit;
  /** Edits, deletes, reactions and typing (see `conversation.ts`). */
  readonly conversation: Conversation;
  /** Mutes, bans and moderators' deletes (see `moderation.ts`). */
  readonly moderation: Moderation;

  constructor(options: ChatHubOptions) {
    this.#bus = options.bus;
    this.#store = options.store;
    this.#now = options.now ?? (() => new Date());
    this.#log = options.log ?? silentLogger;
    this.#metrics = options.metrics ?? noMetrics;
    this.#presence = new NodePresence({
      store: this.#store.presence,
      heartbeatMs: options.presenceHeartbeatMs,
      announce: (room, frame) => this.#announce(room, frame),
      log: this.#log,
      ...(options.node === undefined ? {} : { node: options.node }),
    });
    this.#admission = {
      presence: this.#presence,
      messages: this.#store.messages,
      limits: {
        historyLimit: options.historyLimit,
        recoveryLimit: options.recoveryLimit,
      },
      presenceListMax: options.presenceListMax,
    };
    this.#paceAdmission = options.paceAdmission;
    this.conversation = new Conversation({
      store: this.#store.conversation,
      editWindowMs: options.editWindowMs ?? 0,
      now: this.#now,
      connections: (room) => this.#rooms.get(room)?.room.connections,
      deliverDelete: (room, frame) =>
        this.#rooms.get(room)?.room.deliverLive(frame),
      publish: (room, text) => this.#publish(room, text),
      publishHook: options.publishHook,
    });
    this.moderation = new Moderation({
      store: this.#store.moderation,
      bus: this.#bus,
      presence: this.#store.presence,
      now: this.#now,
      log: this.#log,
      deleteMessage: (room, id) => this.deleteMessage(room, id),
      ...(options.moderationReloadMs
        ? { reloadMs: options.moderationReloadMs }
        : {}),
    });
    this.submit = screened(options.publishHook, (o) => this.send(o));
    this.#receiver = {
      conversation: this.conversation,
      log: this.#log,
      closeLocal: (room, user) => this.#closeLocal(room, user),
    };
    this.#housekeeping = new Housekeeping({
      repairIntervalMs: options.repairIntervalMs,
      historyMaxAgeMs: options.historyMaxAgeMs ?? 0,
      repair: () => this.repair(),
      expire: (maxAgeMs) => this.expire(maxAgeMs),
      log: this.#log,
    });
  }

  /**
   * Connects `options.member` to `options.room` as `options.user`. It first receives the history
   * (everything after `since` when that can be recovered exactly), then the
   * presence list, then live frames; nothing twice, nothing out of order.
   * Should the store forget the room's log later, it gets a fresh history
   * (not recovered) before any message of the new log.
   *
   * `options.pickName` says that the server chose `user` (a guest name), and gives
   * another: when `user` is someone else's online here, the connection
   * takes the next one rather than being refused for a name it never
   * chose. Without it, a name held by another owner closes the connection
   * with `CloseCode.NameTaken`.
   */
  connect(options: ConnectOptions): Membership {
    const { room } = options;
    const entry = this.#rooms.get(room) ?? this.#openRoom(room);
    const connection: Connection = {
      member: options.member,
      user: options.user,
      owner: options.owner ?? `connection:${crypto.randomUUID()}`,
      lastId: 0,
      live: false,
      present: false,
      left: false,
      listedAt: undefined,
      held: undefined,
    };
    entry.room.connections.add(connection);
    const ready = entry.room.run(async () => {
      await this.#paceAdmission?.();
      await admit(this.#admission, {
        room: entry.room,
        connection,
        since: options.since,
        pickName: options.pickName,
        leave: () => this.#leave(entry, connection),
      });
      if (connection.live) this.conversation.admitted(room, connection);
    });
    return {
      room,
      get user() {
        return connection.user;
      },
      ready,
      rename: (to) =>
        rename(this.#admission, { room: entry.room, connection, ready, to }),
      leave: () => this.#leave(entry, connection),
    };
  }

  /**
   * Stores a message (which gives it its id), publishes it to the bus once,
   * and delivers it to the local members in id order.
   */
  async send(options: SendOptions): Promise<AppendResult> {
    const { room, user, message, cid, author, owner } = options;
    const result = await this.#store.messages.append(room, {
      user,
      message,
      ts: this.#now().toISOString(),
      ...(cid === undefined ? {} : { cid }),
      ...(author === undefined ? {} : { author }),
      ...(owner === undefined ? {} : { owner }),
    });
    // A resend of a message the room already has: nobody hears it twice.
    if (result.duplicate) return result;
    const stored = result.message;
    this.conversation.spoke(room, stored.user);
    const text = JSON.stringify(messageFrame(stored));
    this.#publish(room, withEpoch(text, result.epoch));
    const local = this.#rooms.get(room)?.room;
    await local?.run(() =>
      local.deliver({ id: stored.id, text }, result.epoch || undefined)
    );
    return result;
  }

  /**
   * Deletes a message from the store and tells every member, here and
   * everywhere, to remove it. Resolves false when there was no such message.
   */
  async deleteMessage(room: RoomName, id: number): Promise<boolean> {
    if (!await this.#store.messages.remove(room, id)) return false;
    const frame: DeleteFrame = { type: "delete", room, id };
    this.#rooms.get(room)?.room.deliverLive(frame);
    this.#publish(room, JSON.stringify(frame));
    return true;
  }

  /**
   * Closes every socket of `user` in `room`, here and on every other
   * isolate and process, with `CloseCode.RemovedBySite`. Resolves to how
   * many there were: the presence store's count of the name's connections
   * over every node, read before any of them closes (their leaves would
   * race the count). A store that cannot answer rejects, and nothing is
   * closed.
   */
  async disconnect(room: RoomName, user: string): Promise<number> {
    const connections = await this.#store.presence.connections(room, user);
    this.#closeLocal(room, user);
    const event: DisconnectEvent = { type: "disconnect", user };
    this.#publish(room, JSON.stringify(event));
    return connections;
  }

  /**
   * Delivers whatever the store holds beyond what each room delivered, and
   * starts over the rooms whose log the store forgot: one store call for
   * every open room, then reads only for rooms that differ.
   */
  repair(): Promise<void> {
    const rooms = [...this.#rooms.values()].map(({ room }) => room);
    return repairRooms(rooms, this.#store.messages);
  }

  /**
   * Refreshes this node's presence entries, drops stale ones of nodes that
   * stopped, and announces the users who left with them.
   */
  refreshPresence(): Promise<void> {
    return this.#presence.refresh();
  }

  /** This isolate's id in the presence table. */
  get node(): string {
    return this.#presence.node;
  }

  /**
   * Removes another node's presence at once (its isolate died without
   * leaving) and announces the users who left with it, instead of waiting
   * for its entries to expire.
   */
  forgetNode(node: string): Promise<void> {
    return this.#presence.forget(node);
  }

  /** Deletes the messages older than `maxAgeMs`. */
  expire(maxAgeMs: number): Promise<void> {
    return expireHistory(
      this.#store.messages,
      this.#log,
      this.#now(),
      maxAgeMs,
    );
  }

  /** How many rooms and connections this isolate holds. */
  stats(): HubStats {
    let members = 0;
    for (const { room } of this.#rooms.values()) {
      members += room.connections.size;
    }
    return { rooms: this.#rooms.size, members };
  }

  /**
   * Stops the timers, closes every bus subscription, and removes this node
   * from presence, announcing who left with it. The bus and the store stay
   * open: they belong to whoever built the hub.
   */
  async close(): Promise<void> {
    this.#housekeeping.close();
    this.conversation.close();
    for (const { room, subscription } of this.#rooms.values()) {
      for (const connection of room.connections) connection.left = true;
      subscription.close();
      room.close();
    }
    this.#rooms.clear();
    await this.moderation.close();
    await this.#presence.close();
  }

  #openRoom(name: RoomName): OpenRoom {
    // The room reads where it starts once the bus carries what follows;
    // without the bus it starts anyway and repairs from the store.
    const live = Promise.withResolvers<void>();
    const room = new Room({
      name,
      messages: this.#store.messages,
      log: this.#log,
      metrics: this.#metrics,
      limits: this.#admission.limits,
      live: live.promise,
    });
    const subscription = this.#bus.subscribe(
      name,
      (data) => receiveFromBus(this.#receiver, room, data),
    );
    subscription.live.then(live.resolve, (error) => {
      this.#log.warn("bus.subscribe_failed", { room: name, error });
      live.resolve();
    });
    const entry: OpenRoom = { room, subscription };
    this.#rooms.set(name, entry);
    this.#log.debug("room.open", { room: name, node: this.node });
    return entry;
  }

  /** Tells the room, here and everywhere, that a user joined or left. */
  #announce(room: RoomName, frame: PresenceChangeFrame): void {
    this.#rooms.get(room)?.room.announce(frame);
    this.#publish(room, JSON.stringify(frame));
  }

  #publish(room: RoomName, text: string): void {
    // A message that did not make it is repaired by the others from the
    // store; a presence change is corrected by their next presence frame.
    this.#bus.publish(room, text).catch((error) =>
      this.#log.warn("bus.publish_failed", { room, error })
    );
  }

  #closeLocal(room: RoomName, user: string): void {
    const entry = this.#rooms.get(room);
    if (!entry) return;
    for (const connection of [...entry.room.connections]) {
      if (connection.user !== user) continue;
      connection.member.close(
        CloseCode.RemovedBySite,
        "Removed from this room by the site",
      );
      this.#leave(entry, connection);
    }
  }

  #leave(entry: OpenRoom, connection: Connection): void {
    if (connection.left) return;
    connection.left = true;
    connection.live = false;
    const { room, subscription } = entry;
    room.connections.delete(connection);
    if (room.connections.size === 0 && this.#rooms.get(room.name) === entry) {
      subscription.close();
      room.close();
      this.#rooms.delete(room.name);
      this.conversation.roomClosed(room.name);
      this.#log.debug("room.close", { room: room.name, node: this.node });
    }
    if (connection.present) {
      unpresence(this.#admission, room, connection).catch((error) =>
        this.#log.error("presence.leave_failed", { room: room.name, error })
      );
    }
  }
}
