/**
 * The {@linkcode Bus} over Redis pub/sub, for rooms shared by several
 * server processes. One connection subscribes to the channels of this
 * isolate's open rooms, another publishes. Each published payload starts
 * with this bus's id, so that a bus skips its own posts as a
 * BroadcastChannel does. After Redis comes back, every wanted channel is
 * subscribed again; what was published meanwhile is repaired by the rooms
 * from the store.
 *
 * @module
 */

import { RedisConnection } from "./connection.ts";
import type { Bus, BusSubscription } from "../../chat/bus.ts";
import type { RoomName } from "../../chat/room_name.ts";
import { KEY_PREFIX } from "./store.ts";
import { type Logger, silentLogger } from "../../chat/logger.ts";

/** The pub/sub channel of a room. */
export function redisRoomChannel(room: RoomName): string {
  return `${KEY_PREFIX}room:${room}`;
}

/** Options for {@linkcode openRedisBus}. */
export interface RedisBusOptions {
  readonly url: URL;
  /** @default silentLogger */
  readonly log?: Logger;
}

/** Connects the subscriber and the publisher; rejects if Redis is away. */
export async function openRedisBus(options: RedisBusOptions): Promise<Bus> {
  const log = options.log ?? silentLogger;
  const [subscriber, publisher] = await Promise.all([
    RedisConnection.open(options.url, "subscriber", log),
    RedisConnection.open(options.url, "publisher", log),
  ]);
  const self = crypto.randomUUID();
  const header = `${self}\n`;
  /** The receivers of each subscribed channel. */
  const channels = new Map<string, Set<(data: unknown) => void>>();
  let closed = false;

  const onMessage = (payload: string, channel: string) => {
    if (payload.startsWith(header)) return;
    const receivers = channels.get(channel);
    if (!receivers) return;
    const newline = payload.indexOf("\n");
    const data = newline < 0 ? payload : payload.slice(newline + 1);
    for (const receive of receivers) receive(data);
  };
  const subscribeTo = async (channel: string) => {
    try {
      await subscriber.client.subscribe(channel, onMessage);
    } catch (error) {
      throw subscriber.explain(error);
    }
  };
  // A channel whose SUBSCRIBE failed while Redis was away is not known to
  // the client: subscribe to every wanted channel again once it is back.
  subscriber.client.on("ready", () => {
    if (closed) return;
    for (const channel of channels.keys()) {
      subscribeTo(channel).catch((error) =>
        log.warn("bus.resubscribe_failed", { error })
      );
    }
  });

  return {
    async publish(room, data) {
      if (closed) return;
      await publisher.run(["PUBLISH", redisRoomChannel(room), header + data]);
    },
    subscribe(room, receive): BusSubscription {
      const channel = redisRoomChannel(room);
      let receivers = channels.get(channel);
      let live: Promise<void> = Promise.resolve();
      if (!receivers) {
        receivers = new Set();
        channels.set(channel, receivers);
        live = subscribeTo(channel);
      }
      const wanted = receivers;
      wanted.add(receive);
      let open = true;
      return {
        live,
        close() {
          if (!open) return;
          open = false;
          wanted.delete(receive);
          if (wanted.size > 0 || channels.get(channel) !== wanted) return;
          channels.delete(channel);
          if (closed) return;
          subscriber.client.unsubscribe(channel, onMessage).catch(
            (error: unknown) =>
              log.debug("bus.unsubscribe_failed", { room, error }),
          );
        },
      };
    },
    async ping() {
      await publisher.run(["PING"]);
      if (!subscriber.ready) {
        throw subscriber.explain(new Error("subscriber not connected"));
      }
    },
    async close() {
      if (closed) return;
      closed = true;
      channels.clear();
      await Promise.all([subscriber.close(), publisher.close()]);
    },
  };
}
