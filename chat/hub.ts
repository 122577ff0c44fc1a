/**
 * The room registry of one isolate: which local connections are in which
 * room, ordered exactly-once delivery to them, and the hand-off to the
 * fan-out bus and the store for everyone else. No HTTP and no WebSocket
 * here; a connection is anything that can take text.
 *
 * Delivery is driven by message ids. Each room keeps the last id it
 * delivered; a message whose id is not the next one (the BroadcastChannel
 * dropped some, or another isolate's write landed first) is preceded by the
 * missing ones, read from the store. A periodic check catches gaps at the
 * end of a burst, where no later message would reveal them.
 *
 * @module
 */

import type { Bus, BusSubscription } from "./bus.ts";
import { type HistoryLimits, loadHistory } from "./history.ts";
import {
  messageFrame,
  parseBusEvent,
  type PresenceChangeFrame,
  type PresenceFrame,
  serialiseFor,
  type ServerFrame,
  type WireFormat,
} from "./frames.ts";
import { type ChatMetrics, noMetrics } from "./metrics.ts";
import type { RoomName } from "./room_name.ts";
import type { ChatMessage, PresenceEntry, Store } from "./store.ts";
import { type Logger, silentLogger } from "../log.ts";

/** A local connection as the hub sees it. */
export interface Member {
  /** A short id for logs. */
  readonly id: string;
  /** Which frames it receives, and in what shape. */
  readonly format: WireFormat;
  /** Sends one serialised frame; must not throw for a closing connection. */
  deliver(text: string): void;
}

/** A connection's place in a room. */
export interface Membership {
  readonly room: RoomName;
  readonly user: string;
  /** Resolves once history and presence were sent and delivery is live. */
  readonly ready: Promise<void>;
  /** Leaves the room; idempotent, allowed before `ready`. */
  leave(): void;
}

/** Options for {@linkcode ChatHub}. */
export interface ChatHubOptions {
  /** Carries messages to the other isolates or machines. */
  readonly bus: Bus;
  /** Holds messages, ids and presence. */
  readonly store: Store;
  /** Clock for message timestamps. @default () => new Date() */
  readonly now?: () => Date;
  /** @default silentLogger */
  readonly log?: Logger;
  /** @default noMetrics */
  readonly metrics?: ChatMetrics;
  /** Messages in the history frame of a fresh connection. @default 50 */
  readonly historyLimit?: number;
  /** Largest `since` gap recovered exactly. @default 1000 */
  readonly recoveryLimit?: number;
  /** How often each room compares itself with the store. @default 1000 */
  readonly repairIntervalMs?: number;
  /** How often presence is refreshed and swept. @default 5000 */
  readonly presenceHeartbeatMs?: number;
  /** This isolate's presence id. @default a random UUID */
  readonly node?: string;
}

interface Connection {
  readonly member: Member;
  readonly user: string;
  /** The last message id this connection has (history or live). */
  lastId: number;
  /** Receiving live messages (history sent). */
  live: boolean;
  /** Counted in the presence store. */
  present: boolean;
  left: boolean;
}

interface Room {
  readonly name: RoomName;
  readonly connections: Set<Connection>;
  readonly subscription: BusSubscription;
  /** The last message id delivered here; set by the room's first task. */
  lastDelivered: number;
  /** Tail of the room's task chain: deliveries run one at a time, in order. */
  queue: Promise<void>;
}

/** Counts for health and metrics. */
export interface HubStats {
  readonly rooms: number;
  readonly members: number;
}

// Messages read from the store per query while repairing a gap.
const REPAIR_BATCH = 1000;

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
  readonly #limits: HistoryLimits;
  readonly #node: string;
  readonly #rooms = new Map<RoomName, Room>();
  readonly #timers: ReturnType<typeof setInterval>[] = [];

  constructor(options: ChatHubOptions) {
    this.#bus = options.bus;
    this.#store = options.store;
    this.#now = options.now ?? (() => new Date());
    this.#log = options.log ?? silentLogger;
    this.#metrics = options.metrics ?? noMetrics;
    this.#limits = {
      historyLimit: options.historyLimit ?? 50,
      recoveryLimit: options.recoveryLimit ?? 1000,
    };
    this.#node = options.node ?? crypto.randomUUID();
    this.#every(options.repairIntervalMs ?? 1000, () => this.repair());
    this.#every(
      options.presenceHeartbeatMs ?? 5000,
      () => this.refreshPresence(),
    );
  }

  /**
   * Connects `member` to `room` as `user`. It first receives the history
   * (everything after `since` when that can be recovered exactly), then the
   * presence list, then live frames; nothing twice, nothing out of order.
   */
  connect(
    room: RoomName,
    user: string,
    member: Member,
    since?: number,
  ): Membership {
    const entry = this.#rooms.get(room) ?? this.#openRoom(room);
    const connection: Connection = {
      member,
      user,
      lastId: 0,
      live: false,
      present: false,
      left: false,
    };
    entry.connections.add(connection);
    const ready = this.#run(entry, () => this.#admit(entry, connection, since));
    return {
      room,
      user,
      ready,
      leave: () => this.#leave(entry, connection),
    };
  }

  /**
   * Stores a message (which gives it its id), publishes it to the bus once,
   * and delivers it to the local members in id order.
   */
  async send(
    room: RoomName,
    user: string,
    message: string,
  ): Promise<ChatMessage> {
    const stored = await this.#store.messages.append(room, {
      user,
      message,
      ts: this.#now().toISOString(),
    });
    const text = JSON.stringify(messageFrame(stored));
    this.#publish(room, text);
    const entry = this.#rooms.get(room);
    if (entry) {
      await this.#run(
        entry,
        () => this.#catchUp(entry, stored.id, { id: stored.id, text }),
      );
    }
    return stored;
  }

  /** Delivers whatever the store holds beyond what each room delivered. */
  async repair(): Promise<void> {
    await Promise.all(
      [...this.#rooms.values()].map((entry) =>
        this.#run(entry, async () => {
          const { last } = await this.#store.messages.bounds(entry.name);
          if (last > entry.lastDelivered) await this.#catchUp(entry, last);
        })
      ),
    );
  }

  /**
   * Refreshes this node's presence entries, drops stale ones of nodes that
   * stopped, and announces the users who left with them.
   */
  async refreshPresence(): Promise<void> {
    await this.#store.presence.heartbeat(this.#node, this.#presenceEntries());
    for (const { room, user } of await this.#store.presence.sweep()) {
      this.#announce(room, { type: "leave", user });
    }
  }

  /** How many rooms and connections this isolate holds. */
  stats(): HubStats {
    let members = 0;
    for (const room of this.#rooms.values()) members += room.connections.size;
    return { rooms: this.#rooms.size, members };
  }

  /**
   * Stops the timers, closes every bus subscription, and removes this node
   * from presence, announcing who left with it.
   */
  async close(): Promise<void> {
    for (const timer of this.#timers.splice(0)) clearInterval(timer);
    for (const entry of this.#rooms.values()) {
      for (const connection of entry.connections) connection.left = true;
      entry.subscription.close();
    }
    this.#rooms.clear();
    const departures = await this.#store.presence.removeNode(this.#node);
    for (const { room, user } of departures) {
      this.#announce(room, { type: "leave", user });
    }
  }

  #every(ms: number, task: () => Promise<void>): void {
    const timer = setInterval(() => {
      task().catch((error) =>
        this.#log.error("hub.periodic_failed", { error })
      );
    }, ms);
    // Housekeeping must not keep a stopping process alive.
    Deno.unrefTimer(timer);
    this.#timers.push(timer);
  }

  /** Runs `task` after every earlier task of the room has finished. */
  #run<T>(entry: Room, task: () => Promise<T>): Promise<T> {
    const result = entry.queue.then(task);
    entry.queue = result.then(
      () => {},
      (error) =>
        this.#log.error("room.task_failed", { room: entry.name, error }),
    );
    return result;
  }

  #openRoom(room: RoomName): Room {
    const entry: Room = {
      name: room,
      connections: new Set(),
      subscription: this.#bus.subscribe(
        room,
        (data) => this.#receive(entry, data),
      ),
      lastDelivered: 0,
      queue: Promise.resolve(),
    };
    this.#rooms.set(room, entry);
    void this.#run(entry, async () => {
      entry.lastDelivered = (await this.#store.messages.bounds(room)).last;
    });
    this.#log.debug("room.open", { room, node: this.#node });
    return entry;
  }

  async #admit(
    entry: Room,
    connection: Connection,
    since: number | undefined,
  ): Promise<void> {
    if (connection.left) return;
    const { frame, lastId } = await loadHistory(
      this.#store.messages,
      entry.name,
      since,
      this.#limits,
    );
    this.#send(connection, frame);
    connection.lastId = lastId;
    connection.live = true;

    const { first } = await this.#store.presence.join(
      entry.name,
      connection.user,
      this.#node,
    );
    connection.present = true;
    if (connection.left) {
      await this.#unpresence(entry.name, connection);
      return;
    }
    const presence: PresenceFrame = {
      type: "presence",
      users: await this.#store.presence.list(entry.name),
      you: connection.user,
    };
    this.#send(connection, presence);
    if (first) {
      this.#announce(entry.name, { type: "join", user: connection.user });
    }
  }

  /**
   * Delivers every message up to id `upTo` that this room has not delivered,
   * in order, reading from the store whatever is not `known` already.
   */
  async #catchUp(
    entry: Room,
    upTo: number,
    known?: { id: number; text: string },
  ): Promise<void> {
    while (entry.lastDelivered < upTo) {
      if (known?.id === entry.lastDelivered + 1) {
        this.#fanOut(entry, known.id, known.text);
        continue;
      }
      const from = entry.lastDelivered;
      const batch = await this.#store.messages.after(
        entry.name,
        from,
        Math.min(upTo - from, REPAIR_BATCH),
      );
      const due = batch.filter((message) => message.id <= upTo);
      if (due.length === 0) {
        // Pruned by retention before this isolate saw it: nothing to send.
        this.#log.warn("room.gap_lost", { room: entry.name, from, to: upTo });
        entry.lastDelivered = upTo - (known ? 1 : 0);
        if (known) this.#fanOut(entry, known.id, known.text);
        return;
      }
      for (const message of due) {
        const text = message.id === known?.id
          ? known.text
          : JSON.stringify(messageFrame(message));
        this.#fanOut(entry, message.id, text);
      }
      this.#metrics.messagesRepaired(
        due.filter((message) => message.id !== known?.id).length,
      );
      this.#log.debug("room.repaired", {
        room: entry.name,
        from: from + 1,
        to: entry.lastDelivered,
      });
    }
  }

  #fanOut(entry: Room, id: number, text: string): void {
    entry.lastDelivered = id;
    let delivered = 0;
    for (const connection of entry.connections) {
      if (!connection.live || id <= connection.lastId) continue;
      connection.lastId = id;
      connection.member.deliver(text);
      delivered += 1;
    }
    this.#metrics.messagesDelivered(delivered);
  }

  #receive(entry: Room, data: unknown): void {
    const event = typeof data === "string"
      ? parseBusEvent(data, entry.name)
      : undefined;
    if (!event) {
      this.#log.warn("bus.invalid_frame", {
        room: entry.name,
        kind: typeof data,
      });
      return;
    }
    if (event.kind === "presence") {
      this.#deliverLive(entry, event.frame);
      return;
    }
    const { id } = event.frame;
    if (id <= entry.lastDelivered) return;
    const text = JSON.stringify(event.frame);
    void this.#run(entry, () => this.#catchUp(entry, id, { id, text }));
  }

  /** Sends `frame` to one connection in the shape its format wants. */
  #send(connection: Connection, frame: ServerFrame): void {
    for (const text of serialiseFor(connection.member.format, frame)) {
      connection.member.deliver(text);
    }
  }

  /** Sends `frame` to every live connection, serialised once per format. */
  #deliverLive(entry: Room, frame: PresenceChangeFrame): void {
    const texts = new Map<WireFormat, string[]>();
    for (const connection of entry.connections) {
      if (!connection.live) continue;
      const { format } = connection.member;
      let shaped = texts.get(format);
      if (!shaped) {
        shaped = serialiseFor(format, frame);
        texts.set(format, shaped);
      }
      for (const text of shaped) connection.member.deliver(text);
    }
  }

  /** Tells the room, here and everywhere, that a user joined or left. */
  #announce(room: RoomName, frame: PresenceChangeFrame): void {
    const entry = this.#rooms.get(room);
    if (entry) this.#deliverLive(entry, frame);
    this.#publish(room, JSON.stringify(frame));
  }

  #publish(room: RoomName, text: string): void {
    const entry = this.#rooms.get(room);
    if (entry) {
      entry.subscription.publish(text);
      return;
    }
    // No local member (the last one just left): the other isolates still
    // need to hear it, through a short-lived subscription.
    const subscription = this.#bus.subscribe(room, () => {});
    subscription.publish(text);
    subscription.close();
  }

  #leave(entry: Room, connection: Connection): void {
    if (connection.left) return;
    connection.left = true;
    connection.live = false;
    entry.connections.delete(connection);
    if (entry.connections.size === 0 && this.#rooms.get(entry.name) === entry) {
      entry.subscription.close();
      this.#rooms.delete(entry.name);
      this.#log.debug("room.close", { room: entry.name, node: this.#node });
    }
    if (connection.present) {
      this.#unpresence(entry.name, connection).catch((error) =>
        this.#log.error("presence.leave_failed", { room: entry.name, error })
      );
    }
  }

  async #unpresence(room: RoomName, connection: Connection): Promise<void> {
    connection.present = false;
    const { last } = await this.#store.presence.leave(
      room,
      connection.user,
      this.#node,
    );
    if (last) this.#announce(room, { type: "leave", user: connection.user });
  }

  #presenceEntries(): PresenceEntry[] {
    const entries: PresenceEntry[] = [];
    for (const entry of this.#rooms.values()) {
      const counts = new Map<string, number>();
      for (const connection of entry.connections) {
        if (!connection.present) continue;
        counts.set(connection.user, (counts.get(connection.user) ?? 0) + 1);
      }
      for (const [user, connections] of counts) {
        entries.push({ room: entry.name, user, connections });
      }
    }
    return entries;
  }
}
